"""What a step handler needs to see: knowledge, flows, the user, where they are, and their records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.effects import Effect
from bot.engine.state import Conversation, Profile
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.flows import Flow, Flows, Step


def _nothing() -> list[dict[str, Any]]:
    return []


@dataclass(frozen=True)
class Records:
    """Read-only views of what is stored about the user, put in by the service and read only when a
    reply needs them (the aiogram-dialog "getter"): /mine calls ``assessments``, /progress
    ``practice_results``; every other step reads nothing."""

    assessments: Callable[[], list[dict[str, Any]]] = _nothing
    practice_results: Callable[[], list[dict[str, Any]]] = _nothing
    usage_stats: Callable[[], dict[str, Any]] = dict
    """The aggregated usage figures (admins' /stats)."""
    is_admin: bool = False
    retention_days: int = 90


@dataclass
class Ctx:
    kb: KnowledgeBase
    flows: Flows
    profile: Profile
    conv: Conversation
    records: Records = field(default_factory=Records)
    effects: list[Effect] = field(default_factory=list)
    """What a step asks the service to do (a grade step saving the attempt); see ``bot.engine.effects``."""

    @property
    def lang(self) -> str:
        return self.profile.lang

    def ui(self, key: str, **values: Any) -> str:
        return self.kb.ui(key, self.lang, **values)

    @property
    def flow(self) -> Flow:
        assert self.conv.flow is not None
        return self.flows.flow(self.conv.flow)

    @property
    def step(self) -> Step:
        assert self.conv.pos is not None
        return self.flow.step(self.conv.pos.step)

    def items_of(self, step: Step) -> list[str]:
        """The items a repeated step runs over (the keys chosen at its ``for_each`` step)."""
        if step.for_each is None:
            return [""]
        value = self.conv.answers.get(step.for_each) or []
        return list(value) if isinstance(value, list) else [value]

    def item_key(self) -> str:
        items = self.items_of(self.step)
        index = self.conv.pos.item if self.conv.pos else 0
        return items[index] if 0 <= index < len(items) else ""

    def title_of(self, collection: str, item_id: str) -> str:
        entry = self.kb.get(collection, item_id)
        return entry.title.get(self.lang) if entry is not None else item_id
