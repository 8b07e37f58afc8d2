"""Match a typed answer to the options on screen: by number, key, label or synonym, with typos."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.language.text import fold_phrase

FUZZY_CUTOFF = 80
_SPLIT = re.compile(r"\s*(?:,|;|\n|\bog\b|\band\b|&|\+)\s*")


@dataclass(frozen=True)
class Choice:
    """An option as the matcher sees it: its key and every way a user may name it."""

    key: str
    names: tuple[str, ...]


def match_one(text: str, choices: list[Choice]) -> str | None:
    """The key of the option ``text`` names, or None when no option fits well enough."""
    cleaned = fold_phrase(text)
    if not cleaned:
        return None
    if cleaned.isdigit():
        # isdecimal: int() rejects "²"; the length cap: int() rejects over 4300 digits
        index = int(cleaned) - 1 if cleaned.isdecimal() and len(cleaned) <= 9 else -1
        return choices[index].key if 0 <= index < len(choices) else None
    table: dict[str, str] = {}
    for choice in choices:
        for name in (choice.key, *choice.names):
            table.setdefault(fold_phrase(name), choice.key)
    if cleaned in table:
        return table[cleaned]
    # Short names ("ja", "n", "no") only match exactly: fuzzy scores on them are meaningless.
    fuzzy_names = [name for name in table if len(name) >= 4]
    best = process.extractOne(cleaned, fuzzy_names, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF)
    if best is None:
        return _near_short_name(cleaned, table)
    # WRatio rewards partial matches; demand that short inputs are close to the whole name.
    if len(cleaned) < 4 and fuzz.ratio(cleaned, best[0]) < FUZZY_CUTOFF:
        return None
    return table[best[0]]


def _near_short_name(cleaned: str, table: dict[str, str]) -> str | None:
    """One slip on a short answer ("jaa", "nie") still counts; "banana" does not become "n"."""
    if len(cleaned) > 5:
        return None
    close = {table[name] for name in table
             if 2 <= len(name) < 4 and Levenshtein.distance(cleaned, name) <= 1 and cleaned[0] == name[0]}
    return close.pop() if len(close) == 1 else None


def match_many(text: str, choices: list[Choice]) -> tuple[list[str], list[str]]:
    """Keys named in a list such as "1, 3" or "bolig og økonomi", and the parts that matched nothing."""
    keys: list[str] = []
    unknown: list[str] = []
    parts = [p for p in _SPLIT.split(text) if p.strip()]
    if len(parts) <= 1 or any(fold_phrase(text) == fold_phrase(n) for c in choices for n in c.names):
        whole = match_one(text, choices)  # one answer, or a label that itself contains "og"/","
        if whole is not None:
            return [whole], []
    expanded: list[str] = []
    for part in parts:
        expanded.extend(part.split() if all(w.isdigit() for w in part.split()) else [part])
    for part in expanded:
        key = match_one(part, choices)
        if key is None:
            unknown.append(part.strip())
        elif key not in keys:
            keys.append(key)
    return keys, unknown
