"""Every named piece of code a flow may use, listed explicitly, and the step ids code reads.

Flows (``conversations/*.yaml``) stay data: a step that needs real logic names a content block, an
option provider, a preselection or a condition from these tables. :func:`code_names` tells the flow
validator (``bot.knowledge.flows``) which names exist, which commands the engine runs and which step
ids the code reads, so ``kb check`` catches a typo or a renamed step. Adding a block: write the
function, add one line here.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import content, describe, practice, suggest, summary
from bot.engine.context import Ctx
from bot.engine.replies import Option, Reply
from bot.knowledge.flows import CodeNames

ContentBlock = Callable[[Ctx], list[Reply]]
OptionProvider = Callable[[Ctx], list[tuple[str, str, list[str]]]]
Preselection = Callable[[Ctx, list[Option]], list[str]]
Condition = Callable[[Ctx], bool]

CONTENT: dict[str, ContentBlock] = {
    "screening": content.screening_block,
    "crisis": content.crisis_block,
    "practice_case_unknown": practice.case_unknown_block,
    "practice_case": practice.case_block,
    "practice_level_feedback": practice.level_feedback,
    "practice_intervention_feedback": practice.intervention_feedback,
    "practice_trap_feedback": practice.trap_feedback,
    "practice_final": practice.final_block,
}
PROVIDERS: dict[str, OptionProvider] = {
    "element_partners": content.element_partners,
    "practice_cases": practice.case_options,
    "practice_levels": practice.level_options,
    "practice_interventions": practice.intervention_options,
    "practice_traps": practice.trap_options,
}
PURE_PROVIDERS = frozenset({"element_partners"})
"""Providers whose options depend only on the knowledge, the language and the item being asked about:
the engine builds them once per loaded knowledge (a step's options are read several times per update)."""
PRESELECT: dict[str, Preselection] = {
    "focus_suggestions": content.preselect_focus,
    "all": content.preselect_all,
}
CONDITIONS: dict[str, Condition] = {
    "case_given": practice.case_given,
}
REQUIRED_STEPS = {
    "assessment": summary.STEPS_READ | suggest.STEPS_READ | describe.STEPS_WRITTEN,
    "practice": practice.STEPS_READ,
    "welcome": frozenset(),
}
"""Per flow, the step ids code reads or writes by name; the flows declare them (``required_steps``)."""


def code_names(commands: frozenset[str]) -> CodeNames:
    """The names for the flow validator; ``commands``: the command ids the engine runs."""
    return CodeNames(frozenset(CONTENT), frozenset(PROVIDERS), frozenset(PRESELECT), frozenset(CONDITIONS),
                     commands, REQUIRED_STEPS)
