"""A pasted case description (J3): the estimate with its evidence, then the assessment from there.

The engine calls :func:`looks_like_case` on free text typed outside a flow (and ``/beskriv`` skips
that test). :func:`describe` runs the free-text estimator (:mod:`bot.assessment.estimator`) per substance,
shows what it found — the level or range, and the words in the text each answer rests on — and
returns the structured answers to prefill the assessment with. The assessment then enters at its
decision-tree step, which walks the prefilled answers and asks only the questions still open, and
continues to the elements step.

The description itself is never kept: only yes/no answers go into the conversation state.
"""

from __future__ import annotations

import re
from typing import Any

from bot.assessment.estimator import Estimate, estimate_per_substance
from bot.assessment.sats import walk
from bot.engine.context import Ctx
from bot.engine.replies import Reply

STEPS_WRITTEN = frozenset({"co_substance", "co_mental", "substances", "stage"})
"""The assessment flow's step ids a description prefills (``conversations/assessment.yaml`` declares them)."""
MIN_WORDS = 12
MAX_QUOTE = 90
OTHER_SUBSTANCE = "other"
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
_CASE_WORDS = re.compile(
    r"\b(?:rus\w*|drikk\w*|drukket|alkohol\w*|hasj\w*|cannabis|amfetamin\w*|kokain\w*|heroin\w*|benzo\w*|"
    r"piller|opioid\w*|lar|kontakt\w*|m[øo]ter|timer?|avtaler?|oppf[øo]lging\w*|behandl\w*|rusfri\w*|"
    r"redusert|edru|drinks?|drinking|drank|drunk|alcohol\w*|substances?|drugs?|using|uses|used|"
    r"contact\w*|appointments?|sessions?|treatment|counsell?or|abstinent|sober|cut\s+down|clean)\b",
    re.IGNORECASE)


def looks_like_case(text: str) -> bool:
    """Free text that reads as a description of a case rather than a question.

    At least two sentences and :data:`MIN_WORDS` words, words about substance use or contact with
    helpers, and at least one fact the estimator can read; a short text ending in a question mark
    is a question.
    """
    words = text.split()
    if len(words) < MIN_WORDS:
        return False
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if len(s.split()) >= 2]
    if len(sentences) < 2:
        return False
    if text.rstrip().endswith("?") and len(sentences) < 3:
        return False
    return len(_CASE_WORDS.findall(text)) >= 2


def estimates(ctx: Ctx, text: str) -> list[Estimate]:
    """One estimate per substance named in ``text`` (a single one with ``substance=None`` if none is)."""
    levels = ctx.kb.levels
    return estimate_per_substance(text, ctx.kb.sats_tree, ctx.lang, levels=levels)


def has_facts(found: list[Estimate]) -> bool:
    return any(e.evidence for e in found)


def prefill(ctx: Ctx, found: list[Estimate]) -> dict[str, Any]:
    """Assessment answers from the estimates: substances, the tree answers per substance, co-occurrence."""
    known = set(ctx.kb.ids("substances"))
    stage: dict[str, dict[str, str]] = {}
    for estimate in found:
        substance = estimate.substance if estimate.substance in known else OTHER_SUBSTANCE
        answers = {q: a for q, a in estimate.answers.items() if a in ("yes", "no", "unsure")}
        if substance in stage:  # two unknown substances: keep what both say
            answers = {q: a for q, a in answers.items() if stage[substance].get(q) == a}
        stage[substance] = answers
    return {"co_substance": "yes", "co_mental": "yes", "substances": list(stage), "stage": stage}


def _fact_label(ctx: Ctx, fact: str) -> str:
    key = f"fact_{fact}"
    if key in ctx.kb.ui_texts:
        return ctx.ui(key)
    question = next((q for q in ctx.kb.sats_tree.questions if q.id == fact), None)
    return question.question.get(ctx.lang) if question is not None else fact


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1].rstrip() + "…"


def _level_text(ctx: Ctx, estimate: Estimate) -> str:
    kb = ctx.kb
    if estimate.sats_level is not None and estimate.sats_level in kb.levels:
        level = kb.levels[estimate.sats_level]
        stage = kb.stage_of_level(estimate.sats_level)
        return ctx.ui("describe_level", level=level.level, title=level.title.get(ctx.lang),
                      stage=stage.title.get(ctx.lang))
    stages = sorted({kb.stage_of_level(n).title.get(ctx.lang) for n in range(estimate.low, estimate.high + 1)
                     if n in kb.levels})
    return ctx.ui("level_range", low=estimate.low, high=estimate.high, stages=", ".join(stages))


def estimate_reply(ctx: Ctx, found: list[Estimate]) -> Reply:
    """The estimate per substance with the words it rests on, and what is still to be asked."""
    labels = {"yes": ctx.ui("answer_yes"), "no": ctx.ui("answer_no"), "unsure": ctx.ui("answer_unsure")}
    parts = []
    for estimate in found:
        substance = estimate.substance if estimate.substance in ctx.kb.items.get("substances", {}) \
            else OTHER_SUBSTANCE
        head = f"{ctx.title_of('substances', substance)}: {_level_text(ctx, estimate)}"
        lines = []
        path = {question for question, _ in walk(ctx.kb.sats_tree, estimate.answers).decided_by}
        for evidence in estimate.evidence:
            if evidence.fact not in path:
                continue  # answered, but not on the way to the level (e.g. remission after "under six months")
            note = f" {ctx.ui('describe_inferred')}" if evidence.inferred else ""
            lines.append(f"• {_fact_label(ctx, evidence.fact)}: {labels.get(evidence.answer, evidence.answer)}"
                         f"{note} – «{_quote(evidence.quote)}»")
        if not lines:
            lines.append(ctx.ui("describe_no_facts"))
        parts.append(head + "\n" + "\n".join(lines))
    missing = any(e.missing or e.sats_level is None for e in found)
    parts.append(ctx.ui("describe_missing") if missing else ctx.ui("describe_complete"))
    parts.append(ctx.ui("describe_not_stored"))
    return Reply(title=ctx.ui("describe_title"), text="\n\n".join(parts))
