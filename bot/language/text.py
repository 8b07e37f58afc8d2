"""Cut text into tokens, clauses and sentences, with offsets, and fold words for comparison.

Folding makes the spellings staff actually type compare equal: lower case, æ/ø/å (and ä/ö/é …) to
plain letters, "aa" to "a", curly apostrophes to "'". Dialect and chat spellings ("ikkje", "berre",
"dont") are mapped to their standard word by a table the caller passes in (the lexicon's
``variants``), so the rules are written once, in standard spelling.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

_FOLD = str.maketrans({
    "æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "é": "e", "è": "e", "ê": "e", "á": "a",
    "à": "a", "ó": "o", "ò": "o", "í": "i", "ú": "u", "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
})  # fmt: skip
_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")
_SENTENCE_END_RE = re.compile(r"[.!?;]+|\n+")
_LAST_WORD_RE = re.compile(r"\w+$")
_NON_WORD_RE = re.compile(r"[^\w]+")
_CLAUSE_PUNCT_RE = re.compile(r"[,:()\[\]]|\s[-–—]\s|\s[-–—]$")
"""Clause ends inside a sentence; quotation marks are not among them ("hun sa «nei»": one clause)."""
ABBREVIATIONS = frozenset(
    str.split("pas pt ca kl ev evt mtp ifm dvs osv bl f eks fx dr mr mrs ms nr tlf vs etc e g i jf st ang iht mht tbl stk mnd "
              "tab inj amp avd bl.a")
)
"""Words after which a full stop does not end the sentence ("pas. har tatt …", "kl. 22.30")."""
MAX_SENTENCE_TOKENS = 120
"""A run-on text without punctuation is cut into pieces of this many words: every reader works
sentence by sentence, so a 10 000-character message with no full stop stays linear."""


def fold(word: str) -> str:
    """Lower case, æøå and accents to plain letters, "aa" to "a", apostrophes unified."""
    return fold_cached(word)


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """A phrase lower-cased, punctuation stripped and white space folded (æøå kept): how option
    labels, knowledge titles and typed answers are compared when the letters matter."""
    return " ".join(_NON_WORD_RE.sub(" ", unicodedata.normalize("NFC", text).lower()).split())


@lru_cache(maxsize=8192)
def fold_phrase(text: str) -> str:
    """:func:`normalise`, then folded like :func:`fold`: "tilbakefall", "tilbakefal" and "Tilbakefall!"
    compare equal, as typed without æøå or in a hurry."""
    return fold_cached(normalise(text))


@lru_cache(maxsize=65536)
def fold_cached(word: str) -> str:
    folded = unicodedata.normalize("NFC", word).lower().translate(_FOLD)
    if "aa" in folded:
        folded = folded.replace("aa", "a")
    return folded


@dataclass(frozen=True)
class Analysis:
    """A text cut into words, each with its folded form and its sentence and clause (numbered over the
    whole text). Kept as parallel tuples, the form every reader loops over."""

    text: str
    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    norms: tuple[str, ...]
    """Each word's folded form (after variants and abbreviations): what the pattern matchers read."""
    sentences: tuple[int, ...]
    clauses: tuple[int, ...]
    clause_bounds: tuple[tuple[int, int], ...]
    """(first token, last token + 1) of each clause."""
    sentence_bounds: tuple[tuple[int, int], ...]
    """(first token, last token + 1) of each sentence."""

    def span(self, first: int, end: int) -> str:
        """The original text from token ``first`` to token ``end - 1``."""
        return self.text[self.starts[first] : self.ends[end - 1]]


def _sentence_breaks(text: str) -> list[int]:
    """Offsets where a sentence ends; a full stop after an abbreviation, a single letter, between
    digits ("22.30") or after an ordinal ("9. klasse") does not."""
    breaks = []
    for m in _SENTENCE_END_RE.finditer(text):
        start = m.start()
        if m.group() == "." and start:
            word = _LAST_WORD_RE.search(text, max(0, start - 6), start)
            if word:
                last = word.group()
                after = text[m.end() : m.end() + 2]
                if (last.lower() in ABBREVIATIONS or (len(last) == 1 and last.isalpha())
                        or (last.isdigit() and (after[:1].isdigit()
                                                or (len(last) <= 2 and after[:1] == " " and after[1:].islower())))):
                    continue
        breaks.append(start)
    return breaks


def _marks(starts: tuple[int, ...], offsets: list[int]) -> list[bool]:
    """Per word: does one of the sorted ``offsets`` (a sentence or clause end) lie before it and after
    the word before it?"""
    marks = [False] * len(starts)
    for offset in offsets:
        at = bisect_left(starts, offset)
        if at < len(marks):
            marks[at] = True
    return marks


def analyse(text: str, variants: Mapping[str, str], clause_words: frozenset[str] = frozenset(),
            abbreviations: Mapping[str, str] | None = None) -> Analysis:
    """Words with folded forms, sentences at . ! ? ; and new lines, clauses also at , : ( ) and at
    ``clause_words`` (conjunctions such as "men", "but", "og" that end a negation's reach).

    ``abbreviations`` maps words written exactly so ("NA", "OD") to the word they stand for, before
    folding: "NA" (Narcotics Anonymous) must not be read as "nå" typed without its "å".
    """
    abbreviations = abbreviations or {}
    found = list(_WORD_RE.finditer(text))
    words = tuple(m.group() for m in found)
    starts = tuple(m.start() for m in found)
    # each distinct word folded once: a long note repeats most of its words
    norm_of = {word: abbreviations.get(word) or variants.get(f := fold_cached(word), f) for word in set(words)}
    norms = tuple(map(norm_of.__getitem__, words))
    sentence_marks = _marks(starts, _sentence_breaks(text))
    clause_marks = _marks(starts, [m.start() for m in _CLAUSE_PUNCT_RE.finditer(text)])
    sentences: list[int] = []
    clauses: list[int] = []
    sentence_bounds: list[tuple[int, int]] = []
    clause_bounds: list[tuple[int, int]] = []
    sentence = clause = sentence_start = clause_start = 0
    for i in range(len(words)):
        if i:
            new_sentence = sentence_marks[i] or i - sentence_start >= MAX_SENTENCE_TOKENS
            if new_sentence or clause_marks[i] or norms[i] in clause_words:
                clause_bounds.append((clause_start, i))
                clause_start, clause = i, clause + 1
            if new_sentence:
                sentence_bounds.append((sentence_start, i))
                sentence_start, sentence = i, sentence + 1
        sentences.append(sentence)
        clauses.append(clause)
    if words:
        clause_bounds.append((clause_start, len(words)))
        sentence_bounds.append((sentence_start, len(words)))
    return Analysis(text, words, starts, tuple(m.end() for m in found), norms, tuple(sentences), tuple(clauses),
                    tuple(clause_bounds), tuple(sentence_bounds))
