"""A student's progress in practice (``/fremgang``): attempts, accuracy per stage, confusions, what next.

Works on the stored practice rows only (case id, gold and chosen level, scores; no free text), so the
same figures can be computed for any user from the database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.engine.replies import Reply
from bot.knowledge.base import KnowledgeBase

CONFUSION_MIN = 2
"""A (gold, chosen) pair seen this often is a tendency ("you tend to place ...")."""


@dataclass
class StageTally:
    total: int = 0
    right_level: int = 0
    right_stage: int = 0

    @property
    def accuracy(self) -> float:
        return self.right_level / self.total if self.total else 0.0


@dataclass
class Progress:
    attempts: int = 0
    right: int = 0
    intervention_mean: float | None = None
    trap_mean: float | None = None
    per_stage: dict[str, StageTally] = field(default_factory=dict)
    confusions: list[tuple[int, int, int]] = field(default_factory=list)
    """(gold level, chosen level, count), most frequent first, only pairs seen ``CONFUSION_MIN`` times."""
    last_miss: tuple[int, int] | None = None
    suggest_stage: str | None = None
    suggest_case: int | None = None
    """The number of a case in ``suggest_stage`` the student has not tried yet."""


def _mean(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def compute(results: list[dict[str, Any]], kb: KnowledgeBase) -> Progress:
    """Figures for one student's practice rows (oldest first, as stored)."""
    rows = sorted(results, key=lambda r: (r.get("created") or 0, r.get("id") or 0))
    levels = kb.levels
    progress = Progress(attempts=len(rows))
    progress.per_stage = {s.id: StageTally() for s in kb.stages_in_order}
    pairs: Counter[tuple[int, int]] = Counter()
    for row in rows:
        gold, chosen = row.get("gold_level"), row.get("chosen_level")
        if gold not in levels:
            continue
        tally = progress.per_stage.setdefault(levels[gold].stage, StageTally())
        tally.total += 1
        if chosen == gold:
            progress.right += 1
            tally.right_level += 1
        if chosen in levels and levels[chosen].stage == levels[gold].stage:
            tally.right_stage += 1
        if chosen in levels and chosen != gold:
            pairs[(gold, chosen)] += 1
            progress.last_miss = (gold, chosen)
    progress.intervention_mean = _mean([r.get("intervention_score") for r in rows])
    progress.trap_mean = _mean([r.get("trap_score") for r in rows])
    progress.confusions = [(g, c, n) for (g, c), n in pairs.most_common() if n >= CONFUSION_MIN]
    progress.suggest_stage, progress.suggest_case = suggestion(rows, kb, progress)
    return progress


def suggestion(rows: list[dict[str, Any]], kb: KnowledgeBase, progress: Progress) -> tuple[str | None, int | None]:
    """What to practise next: the stage most often confused with another, else the weakest stage, else
    a stage not practised yet; with a case there the student has not tried."""
    tried = {r.get("case_id") for r in rows}
    order = [s.id for s in kb.stages_in_order]
    cases = sorted(kb.all("cases"), key=lambda c: c.number)

    def untried(stage: str) -> int | None:
        found = [c.number for c in cases if kb.levels[c.sats_level].stage == stage and c.id not in tried]
        return found[0] if found else None

    weak: list[str] = []
    if progress.confusions:
        weak.append(kb.levels[progress.confusions[0][0]].stage)
    ranked = sorted((t.accuracy, order.index(s), s) for s, t in progress.per_stage.items() if t.total and t.accuracy < 1)
    weak += [s for _, _, s in ranked if s not in weak]
    if weak:
        return weak[0], untried(weak[0])
    for stage in [s for s in order if not progress.per_stage.get(s, StageTally()).total] + order:
        number = untried(stage)
        if number is not None:
            return stage, number
    return None, None


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def progress_replies(results: list[dict[str, Any]], kb: KnowledgeBase, lang: str) -> list[Reply]:
    """The ``/fremgang`` answer, in ``lang``."""
    if not results:
        return [Reply(text=kb.ui("progress_empty", lang))]
    progress = compute(results, kb)
    levels = kb.levels

    def level_name(number: int) -> str:
        return f"{levels[number].title.get(lang)} (SATS {number})"

    def direction(gold: int, chosen: int) -> str:
        return kb.ui("progress_further" if chosen > gold else "progress_not_as_far", lang)

    parts = [kb.ui("progress_summary", lang, attempts=progress.attempts, right=progress.right,
                   percent=_percent(progress.right / progress.attempts if progress.attempts else None))
             + " " + kb.ui("progress_scores", lang, interventions=_percent(progress.intervention_mean),
                           traps=_percent(progress.trap_mean))]
    lines = []
    for stage in kb.stages_in_order:
        tally = progress.per_stage.get(stage.id, StageTally())
        title = stage.title.get(lang)
        if tally.total:
            lines.append("• " + kb.ui("progress_stage_line", lang, stage=title, right=tally.right_level,
                                      total=tally.total, percent=_percent(tally.accuracy), stage_right=tally.right_stage))
        else:
            lines.append("• " + kb.ui("progress_stage_none", lang, stage=title))
    parts.append(kb.ui("progress_per_stage", lang) + "\n" + "\n".join(lines))
    if progress.confusions:
        confusions = [kb.ui("progress_confusion", lang, gold=level_name(g), chosen=level_name(c), count=n,
                            direction=direction(g, c)) for g, c, n in progress.confusions[:3]]
        parts.append(kb.ui("progress_confusions", lang) + "\n" + "\n".join(f"• {c}" for c in confusions))
    elif progress.last_miss is not None:
        gold, chosen = progress.last_miss
        parts.append(kb.ui("progress_confusion_once", lang, gold=level_name(gold), chosen=level_name(chosen),
                           direction=direction(gold, chosen)))
    if progress.suggest_stage and progress.suggest_case:
        stage_title = kb.get("stages", progress.suggest_stage).title.get(lang)
        parts.append(kb.ui("progress_suggest_case", lang, stage=stage_title, number=progress.suggest_case))
    elif progress.suggest_stage:
        parts.append(kb.ui("progress_suggest_stage", lang, stage=kb.get("stages", progress.suggest_stage).title.get(lang)))
    else:
        parts.append(kb.ui("progress_suggest_all", lang))
    return [Reply(title=kb.ui("progress_title", lang), text="\n\n".join(parts))]
