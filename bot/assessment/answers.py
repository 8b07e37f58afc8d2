"""Read a typed answer: to a yes/no question by its polarity (:func:`read_polarity`), and to the
options on screen by number, key, label or synonym, with typos (:func:`match_one`, :func:`match_many`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.language.patterns import Match
from bot.language.text import Analysis, analyse, fold_phrase

if TYPE_CHECKING:  # the compiled lexicon is handed in by the engine
    from bot.safety.lexicon import ScreenRules

FUZZY_CUTOFF = 80
_SPLIT = re.compile(r"\s*(?:,|;|\n|\bog\b|\band\b|&|\+)\s*")


POLAR_KEYS = frozenset({"yes", "no", "unsure"})
"""The option keys of a yes/no question (``conversations/options.yaml`` ``yes_no_unsure``)."""


def read_polarity(text: str, rules: ScreenRules, question: str | None = None) -> str | None:
    """"yes", "no" or "unsure" as a rater reads a typed answer to a yes/no ``question``; None when the
    words say none of these (the caller falls back to the options' names, then asks again).

    In this order: an unsure word in the first clause ("vet ikke", "not sure"); a denial in the first
    clause ("absolutt ikke", "ikke fast", "har ikke drukket"): no, unless it denies a problem
    ("ikke drukket siden jul", "no trouble" are yes); an answer word opening the text ("nei, …",
    "ja, ikke bare for barnevernets skyld"); an unsure word anywhere ("about six months, not sure
    exactly"); a denial anywhere; and contact "now and then" is a no to whether contact is regular.
    Word lists: ``language.answers`` in ``knowledge/lexicon/language.yaml``.
    """
    analysis = analyse(text, rules.variants, rules.clause_words, rules.abbreviations)
    if not analysis.words:
        return None
    found = rules.answers.matches(analysis, None, rules.vocabulary.plan(analysis))
    unsure = [m for m in found if m.payload == "unsure"]
    hedged = {i for m in unsure for i in m.used}  # "vet ikke" holds a negation that denies nothing
    words = {kind: [m for m in found if m.payload == kind and not hedged & set(m.used)]
             for kind in ("yes", "no", "negation", "problem", "irregular")}
    first_clause = analysis.clauses[0]
    denials_first = [m for m in words["negation"] if analysis.clauses[m.first] == first_clause]
    opening = {m.payload for m in words["yes"] + words["no"] if m.first == 0}

    def verdict(denials: list[Match]) -> str:
        return "yes" if all(_denies_problem(analysis, m, words["problem"]) for m in denials) else "no"

    if any(analysis.clauses[m.first] == first_clause for m in unsure):
        return "unsure"
    if denials_first and "no" not in opening:
        return verdict(denials_first)
    if opening:
        return "no" if "no" in opening else "yes"
    if unsure:
        return "unsure"
    if words["negation"]:
        return verdict(words["negation"])
    if question == "regular" and words["irregular"]:
        return "no"
    return None


def _denies_problem(analysis: Analysis, negation: Match, problems: list[Match]) -> bool:
    """The negation denies a problem word after it in its clause ("ingen problemer", "not drunk")."""
    clause = analysis.clauses[negation.first]
    return any(p.first > negation.last and analysis.clauses[p.first] == clause and p.first - negation.last <= 4
               for p in problems)


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
