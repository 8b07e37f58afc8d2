"""The usage figures (``bot.stats.usage_stats``) as text for an admin's /stats or ``iddt-bot stats``,
in the reader's language. Counts only: nothing in them identifies a user."""

from __future__ import annotations

from typing import Any

from bot.knowledge.base import KnowledgeBase


def title_in(kb: KnowledgeBase, collection: str, item_id: str, lang: str) -> str:
    """An entry's title in ``lang`` (the figures name entries by id; a removed entry by its id)."""
    entry = kb.get(collection, item_id)
    if entry is None:
        return item_id
    return entry.title if isinstance(entry.title, str) else entry.title.get(lang)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def usage_text(stats: dict[str, Any], kb: KnowledgeBase, lang: str = "en") -> str:
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
        return title_in(kb, collection, item_id, lang)

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
