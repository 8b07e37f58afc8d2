"""Stage-wise suggestions derived from an assessment's answers.

The assessment flow uses fixed step ids for the answers these functions read (``substances``,
``stage``, ``life_areas``, ``covered``, ``focus``, ``partners``, ``acute_risk``); they are
declared by the flow (``required_steps``) and checked by ``kb check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.assessment.sats import TreeResult, walk
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.models import Intervention, Trap

STEPS_READ = frozenset({"substances", "stage", "life_areas", "covered"})
"""The assessment flow's step ids read here by name (``conversations/assessment.yaml`` declares them)."""
KEY_INTERVENTIONS = 3
"""The first elements of the stage's top interventions are its key elements."""
MAX_FOCUS = 6


@dataclass(frozen=True)
class SubstanceResult:
    substance: str
    result: TreeResult


def substance_results(kb: KnowledgeBase, answers: dict[str, Any]) -> list[SubstanceResult]:
    """The SATS result for every substance staged so far."""
    per_item = answers.get("stage") or {}
    return [SubstanceResult(s, walk(kb.sats_tree, per_item.get(s) or {})) for s in answers.get("substances") or []
            if s in per_item]


def overall_level(results: list[SubstanceResult]) -> tuple[int | None, int | None]:
    """The range for the person: rated on the worst-staged substance (the lowest level)."""
    finished = [r.result for r in results if r.result.finished]
    if not finished:
        return None, None
    return min(r.low for r in finished), min(r.high for r in finished)


def overall_stage(kb: KnowledgeBase, answers: dict[str, Any]) -> str | None:
    low, _ = overall_level(substance_results(kb, answers))
    return kb.stage_of_level(low).id if low is not None else None


def key_elements(kb: KnowledgeBase, stage_id: str) -> list[str]:
    """The main element of each of the stage's highest-priority interventions."""
    found: list[str] = []
    for intervention in kb.interventions_for(stage_id)[:KEY_INTERVENTIONS]:
        if intervention.elements[0] not in found:
            found.append(intervention.elements[0])
    return found


def suggested_focus(kb: KnowledgeBase, answers: dict[str, Any]) -> list[str]:
    """Elements worth focusing on: relevant at the stage and core, key for it, or tied to an affected area."""
    stage_id = overall_stage(kb, answers) or "engagement"
    affected = set(answers.get("life_areas") or [])
    covered = set(answers.get("covered") or [])
    elements = [e for e in kb.all("elements") if e.id not in covered and stage_id in e.stages]
    ordered = [e.id for e in elements if e.core]
    ordered += [k for k in key_elements(kb, stage_id) if k in {e.id for e in elements}]
    ordered += [e.id for e in elements if affected & set(e.life_areas)]
    out: list[str] = []
    for element_id in ordered:
        if element_id not in out:
            out.append(element_id)
    return out[:MAX_FOCUS]


def ranked_interventions(kb: KnowledgeBase, stage_id: str, focus: list[str], affected: list[str],
                         limit: int = 5) -> list[Intervention]:
    """The stage's interventions, those serving a focus element or an affected area first."""
    def score(item: Intervention) -> tuple[int, int]:
        bonus = 2 * len(set(item.elements) & set(focus)) + len(set(item.life_areas) & set(affected))
        bonus += 3 if item.stages[0] == stage_id else 0
        return (-bonus, item.priority)
    return sorted(kb.interventions_for(stage_id), key=score)[:limit]


def ranked_traps(kb: KnowledgeBase, stage_id: str, focus: list[str], limit: int = 4) -> list[Trap]:
    def score(trap: Trap) -> tuple[int, int]:
        return (-(3 if trap.stages[0] == stage_id else 0) - len(set(trap.elements) & set(focus)), len(trap.stages))
    return sorted(kb.traps_for(stage_id), key=score)[:limit]
