"""What the engine asks the service to do after a step, as typed values the service only executes.

The engine decides and renders; it never touches storage or the loaded knowledge itself. A step
returns its new state, its replies and these effects; the service carries them out in the same
transaction as the state (a reload, which replaces the knowledge, is answered by the engine's
:meth:`~bot.engine.runner.Engine.reloaded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SaveAssessment:
    """A finished assessment's structured record (levels, stage, choices; never free text)."""

    record: dict[str, Any]


@dataclass(frozen=True)
class SavePractice:
    """A finished practice attempt: the case, its level and the student's answer and scores."""

    case_id: str
    gold_level: int
    chosen_level: int | None
    intervention_score: float | None
    trap_score: float | None


@dataclass(frozen=True)
class SaveFreeText:
    """The user's own words, kept only because they opted in (``/lagring på``) and nothing in them
    looked like personal data."""

    text: str


@dataclass(frozen=True)
class DeleteUser:
    """The user confirmed /slett: remove every row about them."""


@dataclass(frozen=True)
class Reload:
    """An admin asked for the changed knowledge to be loaded."""


Effect = SaveAssessment | SavePractice | SaveFreeText | DeleteUser | Reload
