"""Loading, validating, indexing and searching the YAML knowledge base."""

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loader import load_knowledge, load_or_raise
from bot.knowledge.problems import KnowledgeError, Problem

__all__ = ["KnowledgeBase", "KnowledgeError", "Problem", "load_knowledge", "load_or_raise"]
