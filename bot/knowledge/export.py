"""``kb export`` (the whole knowledge as JSON) and ``kb stats`` (the counts trainers check)."""

from __future__ import annotations

from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.models import STAGE_IDS


def export(kb: KnowledgeBase) -> dict[str, Any]:
    data: dict[str, Any] = {name: [item.model_dump(mode="json") for item in kb.all(name)] for name in kb.items}
    for name, value in kb.singles.items():
        data[name] = value.model_dump(mode="json")
    data["ui"] = {key: text.model_dump() for key, text in kb.ui_texts.items()}
    return data


def kb_stats(kb: KnowledgeBase) -> dict[str, Any]:
    """Counts per collection, plus interventions and traps per stage and cases per SATS level."""
    stats: dict[str, Any] = dict(kb.counts())
    for stage in STAGE_IDS:
        stats[f"interventions[{stage}]"] = len(kb.interventions_for(stage))
        stats[f"traps[{stage}]"] = len(kb.traps_for(stage))
    for level in range(1, 9):
        stats[f"cases[sats_{level}]"] = len(kb.cases_at(level))
    stats["research[thesis]"] = sum(1 for r in kb.all("research") if r.kind == "thesis")
    stats["webinars_with_reflection"] = sum(1 for w in kb.all("webinars") if w.reflection)
    stats["resources_with_url"] = sum(1 for r in kb.all("resources") if r.url)
    return stats
