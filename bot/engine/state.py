"""Per-user state: a small serialisable record, saved after every step so any process can resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Position:
    """Where a user is in a flow: a step, the item of a repeated step, the node of a tree."""

    step: str
    item: int = 0
    node: str | None = None


@dataclass
class Conversation:
    flow: str | None = None
    pos: Position | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[Position] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """The working selection of the current multi-select step."""
    seq: int = 0
    """Step version: changes whenever the current question changes; buttons carry it."""
    data: dict[str, Any] = field(default_factory=dict)
    """Flow-specific values that are not answers (e.g. the practice case id)."""

    @property
    def active(self) -> bool:
        return self.flow is not None and self.pos is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (written by hand: ``dataclasses.asdict`` deep-copies, and this runs per step)."""
        return {
            "flow": self.flow,
            "pos": vars(self.pos) if self.pos is not None else None,
            "answers": self.answers,
            "history": [[p.step, p.item, p.node] for p in self.history],  # compact: it grows with every answer
            "pending": self.pending,
            "seq": self.seq,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Conversation:
        if not raw:
            return cls()
        pos = raw.get("pos")
        return cls(
            flow=raw.get("flow"),
            pos=Position(**pos) if pos else None,
            answers=dict(raw.get("answers") or {}),
            history=[Position(*p) if isinstance(p, list) else Position(**p) for p in raw.get("history") or []],
            pending=list(raw.get("pending") or []),
            seq=int(raw.get("seq") or 0),
            data=dict(raw.get("data") or {}),
        )


@dataclass
class Profile:
    """Settings of one user that outlive conversations."""

    user_id: int
    lang: str = "nb"
    privacy_seen: bool = False
    lang_chosen: bool = False
    store_free_text: bool = False
    term: str = "personen"
