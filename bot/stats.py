"""Aggregated usage and practice statistics: counts only, never user ids or text."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.storage import Storage


def _week(ts: float) -> str:
    return time.strftime("%G-W%V", time.gmtime(ts))


def usage_stats(storage: Storage, kb: KnowledgeBase) -> dict[str, Any]:
    db = storage.db
    assessments = Counter(_week(r[0]) for r in db.execute("SELECT created FROM assessments"))
    stages = Counter(r[0] or "undecided" for r in db.execute("SELECT stage FROM assessments"))
    practice_rows = list(db.execute("SELECT created, case_id, gold_level, chosen_level FROM practice"))
    per_week = Counter(_week(r[0]) for r in practice_rows)
    per_level: dict[int, list[int]] = {}
    per_case: dict[str, list[int]] = {}
    confusions: Counter[tuple[int, int]] = Counter()
    for _, case_id, gold, chosen in practice_rows:
        hit = int(chosen == gold)
        per_level.setdefault(gold, []).append(hit)
        per_case.setdefault(case_id, []).append(hit)
        if chosen is not None and chosen != gold:
            confusions[(gold, chosen)] += 1
    no_answer = Counter(r[0] for r in db.execute("SELECT name FROM events WHERE kind='search_miss'"))
    return {
        "assessments_per_week": dict(sorted(assessments.items())),
        "assessments_per_stage": dict(stages),
        "practice_per_week": dict(sorted(per_week.items())),
        "accuracy_per_level": {lvl: round(sum(v) / len(v), 2) for lvl, v in sorted(per_level.items())},
        "accuracy_per_case": {c: round(sum(v) / len(v), 2) for c, v in sorted(per_case.items())},
        "confused_levels": [{"gold": g, "chosen": c, "count": n} for (g, c), n in confusions.most_common(5)],
        "searches_without_good_answer": dict(no_answer.most_common(10)),
    }
