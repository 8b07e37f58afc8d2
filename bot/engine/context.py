"""What a step handler needs to see: knowledge, flows, the user and where they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.engine.flows import Flow, Flows, Step
from bot.engine.state import Conversation, Profile
from bot.knowledge.base import KnowledgeBase


@dataclass
class Ctx:
    kb: KnowledgeBase
    flows: Flows
    profile: Profile
    conv: Conversation

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
