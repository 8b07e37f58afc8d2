"""Aggregated usage and practice statistics (``iddt-bot stats``, ``/stats``): counts only.

Nothing here identifies a user: no user ids, no free text. Searches without a good answer are counted
by the nearest knowledge entry (see ``lookup.search_answer``), never by what was typed.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.storage import Storage

TOP_CONFUSIONS = 5
TOP_SEARCH_MISSES = 10


def _week(ts: float) -> str:
    return time.strftime("%G-W%V", time.gmtime(ts))


def _ratio(right: int, total: int) -> float | None:
    return round(right / total, 2) if total else None


def _mean(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if v is not None]
    return round(sum(numbers) / len(numbers), 2) if numbers else None


def _title(kb: KnowledgeBase, collection: str, item_id: str, lang: str = "en") -> str:
    entry = kb.get(collection, item_id)
    if entry is None:
        return item_id
    return entry.title if isinstance(entry.title, str) else entry.title.get(lang)


def usage_stats(storage: Storage, kb: KnowledgeBase) -> dict[str, Any]:
    db = storage.db
    assessments = Counter(_week(r[0]) for r in db.execute("SELECT created FROM assessments"))
    stages = Counter(r[0] or "undecided" for r in db.execute("SELECT stage FROM assessments"))
    rows = list(db.execute("SELECT created, case_id, gold_level, chosen_level, intervention_score, trap_score "
                           "FROM practice"))
    students = db.execute("SELECT COUNT(DISTINCT user_id) FROM practice").fetchone()[0]
    per_week = Counter(_week(r[0]) for r in rows)
    per_level: dict[int, list[tuple]] = {}
    per_case: dict[str, list[tuple]] = {}
    per_stage: dict[str, list[tuple]] = {}
    confusions: Counter[tuple[int, int]] = Counter()
    levels = kb.levels
    for row in rows:
        _, case_id, gold, chosen, *_ = row
        per_level.setdefault(gold, []).append(row)
        per_case.setdefault(case_id, []).append(row)
        if gold in levels:
            per_stage.setdefault(levels[gold].stage, []).append(row)
        if chosen is not None and chosen != gold:
            confusions[(gold, chosen)] += 1

    def summary(group: list[tuple]) -> dict[str, Any]:
        return {"attempts": len(group),
                "accuracy": _ratio(sum(1 for r in group if r[3] == r[2]), len(group)),
                "interventions": _mean([r[4] for r in group]),
                "traps": _mean([r[5] for r in group])}

    cases = {}
    for case_id, group in sorted(per_case.items(), key=lambda item: getattr(kb.get("cases", item[0]), "number", 999)):
        case = kb.get("cases", case_id)
        cases[case_id] = {"number": case.number if case else None, "level": case.sats_level if case else group[0][2],
                          "title": _title(kb, "cases", case_id), **summary(group)}
    misses = Counter(r[0] for r in db.execute("SELECT name FROM events WHERE kind='search_miss'"))
    miss_list = []
    for name, count in misses.most_common(TOP_SEARCH_MISSES):
        collection, _, item_id = str(name).partition(":")
        title = _title(kb, collection, item_id) if item_id else "(nothing near)"
        miss_list.append({"nearest": name, "title": title, "count": count})
    return {
        "assessments_per_week": dict(sorted(assessments.items())),
        "assessments_per_stage": dict(stages.most_common()),
        "practice_per_week": dict(sorted(per_week.items())),
        "practice_attempts": len(rows),
        "practising_students": students,
        "accuracy_per_stage": {s.id: summary(per_stage[s.id]) for s in kb.stages_in_order if s.id in per_stage},
        "accuracy_per_level": {level: summary(group) for level, group in sorted(per_level.items())},
        "accuracy_per_case": cases,
        "confused_levels": [{"gold": g, "chosen": c, "count": n,
                             "gold_title": levels[g].title.en if g in levels else str(g),
                             "chosen_title": levels[c].title.en if c in levels else str(c)}
                            for (g, c), n in confusions.most_common(TOP_CONFUSIONS)],
        "searches_without_good_answer": miss_list,
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def format_stats(stats: dict[str, Any], kb: KnowledgeBase, lang: str = "en") -> str:
    """The statistics as plain text for an operator or an admin chat, in ``lang``."""
    out: list[str] = []

    def say(key: str, **values: Any) -> str:
        return kb.ui(f"stats_{key}", lang, **values)

    def section(title: str, lines: list[str]) -> None:
        out.append(title)
        out.extend(f"  {line}" for line in lines or [say("none")])
        out.append("")

    weeks = sorted(set(stats["assessments_per_week"]) | set(stats["practice_per_week"]))
    section(say("per_week"),
            [f"{w}: {stats['assessments_per_week'].get(w, 0)} / {stats['practice_per_week'].get(w, 0)}" for w in weeks])
    def title(collection: str, item_id: str) -> str:  # the JSON holds English titles; the text is in ``lang``
        return _title(kb, collection, item_id, lang)

    def level(number: int) -> str:
        return f"SATS {number} {kb.levels[number].title.get(lang)}" if number in kb.levels else f"SATS {number}"

    section(say("per_stage"), [f"{title('stages', k)}: {v}" for k, v in stats["assessments_per_stage"].items()])
    out.append(say("practice", attempts=stats["practice_attempts"], students=stats["practising_students"]))
    out.append("")

    def row(label: str, s: dict[str, Any]) -> str:
        return say("row", label=label, attempts=s["attempts"], level=_pct(s["accuracy"]),
                   interventions=_pct(s["interventions"]), traps=_pct(s["traps"]))

    section(say("accuracy_stage"), [row(title("stages", k), v) for k, v in stats["accuracy_per_stage"].items()])
    section(say("accuracy_level"), [row(f"SATS {k}", v) for k, v in stats["accuracy_per_level"].items()])
    section(say("accuracy_case"), [row(f"#{v['number']} {title('cases', k)} (SATS {v['level']})", v)
                                   for k, v in stats["accuracy_per_case"].items()])
    section(say("confused"),
            [f"{level(c['gold'])} → {level(c['chosen'])}: {c['count']}" for c in stats["confused_levels"]])
    section(say("searches"),
            [f"{title(*m['nearest'].split(':', 1)) if ':' in m['nearest'] else m['title']} [{m['nearest']}]: "
             f"{m['count']}" for m in stats["searches_without_good_answer"]])
    return "\n".join(out).rstrip() + "\n"
