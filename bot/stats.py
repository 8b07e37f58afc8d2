"""Aggregated usage and practice statistics (``iddt-bot stats``, ``/stats``): counts only.

Nothing here identifies a user: no user ids, no free text. Searches without a good answer are counted
by the nearest knowledge entry (see ``lookup.search_answer``), never by what was typed. Every figure is
an SQL aggregate, so the time grows with the number of weeks, cases and levels, not of rows read into
Python.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.storage import DAY, Storage

TOP_CONFUSIONS = 5
TOP_SEARCH_MISSES = 10

PRACTICE_SUMS = ("SELECT case_id, gold_level, COUNT(*), TOTAL(chosen_level = gold_level),"
                 " TOTAL(intervention_score), COUNT(intervention_score), TOTAL(trap_score), COUNT(trap_score)"
                 " FROM practice GROUP BY case_id, gold_level")
CONFUSIONS = ("SELECT gold_level, chosen_level, COUNT(*) AS n FROM practice WHERE chosen_level != gold_level"
              " GROUP BY gold_level, chosen_level ORDER BY n DESC, gold_level, chosen_level LIMIT ?")
SEARCH_MISSES = ("SELECT name, COUNT(*) AS n FROM events WHERE kind = 'search_miss'"
                 " GROUP BY name ORDER BY n DESC, name LIMIT ?")
STAGES = ("SELECT COALESCE(NULLIF(stage, ''), 'undecided') AS stage, COUNT(*) AS n FROM assessments"
          " GROUP BY 1 ORDER BY n DESC, stage")


def _week(ts: float) -> str:
    return time.strftime("%G-W%V", time.gmtime(ts))


def _ratio(right: float, total: int) -> float | None:
    return round(right / total, 2) if total else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _title(kb: KnowledgeBase, collection: str, item_id: str, lang: str = "en") -> str:
    entry = kb.get(collection, item_id)
    if entry is None:
        return item_id
    return entry.title if isinstance(entry.title, str) else entry.title.get(lang)


@dataclass
class _Tally:
    """Sums over practice attempts, which add up across groups (a level is the sum of its cases)."""

    attempts: int = 0
    right: float = 0
    interventions: float = 0.0
    interventions_scored: int = 0
    traps: float = 0.0
    traps_scored: int = 0

    def add(self, other: _Tally) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "accuracy": _ratio(self.right, self.attempts),
                "interventions": _mean(self.interventions, self.interventions_scored),
                "traps": _mean(self.traps, self.traps_scored)}


@dataclass
class _Practice:
    """Practice attempts summed per level, per case and per stage (from one grouped query)."""

    per_level: dict[int, _Tally] = field(default_factory=dict)
    per_case: dict[str, _Tally] = field(default_factory=dict)
    per_stage: dict[str, _Tally] = field(default_factory=dict)
    case_level: dict[str, int] = field(default_factory=dict)
    """The level a case was practised at, for a case the knowledge no longer has."""

    @classmethod
    def read(cls, storage: Storage, kb: KnowledgeBase) -> _Practice:
        practice = cls()
        for case_id, gold, *sums in storage.db.execute(PRACTICE_SUMS):
            tally = _Tally(*sums)
            practice.per_level.setdefault(gold, _Tally()).add(tally)
            practice.per_case.setdefault(case_id, _Tally()).add(tally)
            practice.case_level.setdefault(case_id, gold)
            if gold in kb.levels:
                practice.per_stage.setdefault(kb.levels[gold].stage, _Tally()).add(tally)
        return practice

    @property
    def attempts(self) -> int:
        return sum(tally.attempts for tally in self.per_level.values())


def _per_week(storage: Storage, table: str, column: str) -> dict[str, int]:
    """Rows per ISO week (UTC). Counted per day in SQL: SQLite before 3.46 has no ISO week."""
    weeks: Counter[str] = Counter()
    days = storage.db.execute(f"SELECT CAST({column} / {DAY} AS INTEGER) AS day, COUNT(*) FROM {table} GROUP BY day")
    for day, count in days:
        weeks[_week(day * DAY)] += count
    return dict(sorted(weeks.items()))


def _cases(practice: _Practice, kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """Accuracy per case, in the order of the case numbers."""
    def number(case_id: str) -> int:
        return getattr(kb.get("cases", case_id), "number", 999)

    cases = {}
    for case_id in sorted(practice.per_case, key=lambda case_id: (number(case_id), case_id)):
        case = kb.get("cases", case_id)
        cases[case_id] = {"number": case.number if case else None,
                          "level": case.sats_level if case else practice.case_level[case_id],
                          "title": _title(kb, "cases", case_id), **practice.per_case[case_id].summary()}
    return cases


def _confusions(storage: Storage, kb: KnowledgeBase) -> list[dict[str, Any]]:
    """The levels most often chosen in place of the right one."""
    levels = kb.levels
    return [{"gold": gold, "chosen": chosen, "count": count,
             "gold_title": levels[gold].title.en if gold in levels else str(gold),
             "chosen_title": levels[chosen].title.en if chosen in levels else str(chosen)}
            for gold, chosen, count in storage.db.execute(CONFUSIONS, [TOP_CONFUSIONS])]


def _search_misses(storage: Storage, kb: KnowledgeBase) -> list[dict[str, Any]]:
    """The knowledge entries nearest to the searches that found no good answer, most frequent first."""
    misses = []
    for name, count in storage.db.execute(SEARCH_MISSES, [TOP_SEARCH_MISSES]):
        collection, _, item_id = str(name).partition(":")
        title = _title(kb, collection, item_id) if item_id else "(nothing near)"
        misses.append({"nearest": name, "title": title, "count": count})
    return misses


def usage_stats(storage: Storage, kb: KnowledgeBase) -> dict[str, Any]:
    """Every figure of ``iddt-bot stats`` and the admin's /stats, from one state of the database."""
    with storage.reading():
        practice = _Practice.read(storage, kb)
        return {
            "assessments_per_week": _per_week(storage, "assessments", "created"),
            "assessments_per_stage": dict(storage.db.execute(STAGES).fetchall()),
            "practice_per_week": _per_week(storage, "practice", "created"),
            "practice_attempts": practice.attempts,
            "practising_students": storage.db.execute("SELECT COUNT(DISTINCT user_id) FROM practice").fetchone()[0],
            "accuracy_per_stage": {s.id: practice.per_stage[s.id].summary()
                                   for s in kb.stages_in_order if s.id in practice.per_stage},
            "accuracy_per_level": {level: tally.summary() for level, tally in sorted(practice.per_level.items())},
            "accuracy_per_case": _cases(practice, kb),
            "confused_levels": _confusions(storage, kb),
            "searches_without_good_answer": _search_misses(storage, kb),
        }
