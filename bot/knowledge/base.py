"""The loaded knowledge base: validated collections plus convenience look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.knowledge.models import (
    Case,
    Intervention,
    SatsLevel,
    SatsTree,
    Stage,
    Text,
    Trap,
)


@dataclass(frozen=True)
class Source:
    """Where an item was defined, for error messages."""

    path: Path
    line: int
    raw: Any


class KnowledgeBase:
    """Immutable view over one successful load of the knowledge folder."""

    def __init__(
        self,
        items: dict[str, dict[str, Any]],
        singles: dict[str, Any],
        ui: dict[str, Text],
        sources: dict[tuple[str, str], Source],
        folder: Path,
    ) -> None:
        self.items = items
        self.singles = singles
        self.ui_texts = ui
        self.sources = sources
        self.folder = folder

    # -- generic access -------------------------------------------------
    def get(self, collection: str, item_id: str) -> Any | None:
        return self.items.get(collection, {}).get(item_id)

    def all(self, collection: str) -> list[Any]:
        return list(self.items.get(collection, {}).values())

    def ids(self, collection: str) -> list[str]:
        return list(self.items.get(collection, {}))

    def ui(self, key: str, lang: str, **values: Any) -> str:
        """An interface string in ``lang``, with ``{name}`` placeholders filled in."""
        text = self.ui_texts.get(key)
        if text is None:
            return key
        template = text.get(lang)
        return template.format(**values) if values else template

    # -- domain helpers -------------------------------------------------
    @property
    def sats_tree(self) -> SatsTree:
        return self.singles["sats_tree"]

    @cached_property
    def stages_in_order(self) -> list[Stage]:
        return sorted(self.all("stages"), key=lambda s: s.order)

    @cached_property
    def levels(self) -> dict[int, SatsLevel]:
        return {lvl.level: lvl for lvl in self.all("sats_levels")}

    def stage_of_level(self, level: int) -> Stage:
        return self.items["stages"][self.levels[level].stage]

    @cached_property
    def _by_stage(self) -> dict[str, dict[str, list[Any]]]:
        """collection → stage id → its entries (interventions in priority order), grouped once per load."""
        groups: dict[str, dict[str, list[Any]]] = {}
        for collection in ("interventions", "traps", "elements"):
            entries = self.all(collection)
            if collection == "interventions":
                entries.sort(key=lambda i: i.priority)
            per_stage: dict[str, list[Any]] = {}
            groups[collection] = per_stage
            for entry in entries:
                for stage_id in entry.stages:
                    per_stage.setdefault(stage_id, []).append(entry)
        return groups

    def interventions_for(self, stage_id: str) -> list[Intervention]:
        return list(self._by_stage["interventions"].get(stage_id, ()))

    def traps_for(self, stage_id: str) -> list[Trap]:
        return list(self._by_stage["traps"].get(stage_id, ()))

    @cached_property
    def research_by_topic(self) -> dict[str, list[Any]]:
        """Research topic id → its research entries, newest first."""
        topics: dict[str, list[Any]] = {}
        for item in sorted(self.all("research"), key=lambda r: -r.year):
            topics.setdefault(item.topic, []).append(item)
        return topics

    def cases_at(self, level: int) -> list[Case]:
        return [c for c in self.all("cases") if c.sats_level == level]

    @cached_property
    def index(self):  # -> SearchIndex (imported lazily: search depends on this module)
        """The search index, built once per knowledge load."""
        from bot.knowledge.search import SearchIndex

        return SearchIndex(self)

    def counts(self) -> dict[str, int]:
        return {name: len(entries) for name, entries in self.items.items()}
