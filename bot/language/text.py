"""Cut text into tokens, clauses and sentences, with offsets, and fold words for comparison.

Folding makes the spellings staff actually type compare equal: lower case, æ/ø/å (and ä/ö/é …) to
plain letters, "aa" to "a", curly apostrophes to "'". Dialect and chat spellings ("ikkje", "berre",
"dont") are mapped to their standard word by a table the caller passes in (the lexicon's
``variants``), so the rules are written once, in standard spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_FOLD = str.maketrans({
    "æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "é": "e", "è": "e", "ê": "e", "á": "a",
    "à": "a", "ó": "o", "ò": "o", "í": "i", "ú": "u", "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
})  # fmt: skip
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SENTENCE_END_RE = re.compile(r"[.!?;]+|\n+")
_CLAUSE_PUNCT_RE = re.compile(r"[,:()\[\]\"«»]|\s[-–—]\s|\s[-–—]$")
ABBREVIATIONS = frozenset(
    str.split("pas pt ca kl ev evt mtp ifm dvs osv bl f eks fx dr mr mrs ms nr tlf vs etc e g i jf st ang iht mht")
)
"""Words after which a full stop does not end the sentence ("pas. har tatt …", "kl. 22.30")."""
MAX_SENTENCE_TOKENS = 120
"""A run-on text without punctuation is cut into pieces of this many words: every reader works
sentence by sentence, so a 10 000-character message with no full stop stays linear."""


def fold(word: str) -> str:
    """Lower case, æøå and accents to plain letters, "aa" to "a", apostrophes unified."""
    return fold_cached(word)


@lru_cache(maxsize=65536)
def fold_cached(word: str) -> str:
    folded = unicodedata.normalize("NFC", word).lower().translate(_FOLD)
    if "aa" in folded:
        folded = folded.replace("aa", "a")
    return folded


class Token(NamedTuple):
    """One word: its text as written, its folded form (after variants), offsets and its place."""

    text: str
    norm: str
    start: int
    end: int
    index: int
    sentence: int
    clause: int


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text cut into tokens; each token knows its sentence and clause (numbered over the whole text)."""

    text: str
    tokens: tuple[Token, ...]
    clause_bounds: tuple[tuple[int, int], ...]
    """(first token, last token + 1) of each clause."""
    sentence_bounds: tuple[tuple[int, int], ...]
    """(first token, last token + 1) of each sentence."""
    norms: tuple[str, ...] = ()
    """Each token's folded form, in order (what the pattern matchers read)."""
    clauses: tuple[int, ...] = ()
    """Each token's clause number, in order."""

    def words(self, first: int, end: int) -> str:
        """The original text from token ``first`` to token ``end - 1``."""
        return self.text[self.tokens[first].start : self.tokens[end - 1].end]


def _sentence_breaks(text: str) -> list[int]:
    """Offsets where a sentence ends; a full stop after an abbreviation or between digits does not."""
    breaks = []
    for m in _SENTENCE_END_RE.finditer(text):
        if m.group() == ".":
            before = text[max(0, m.start() - 6) : m.start()]
            word = re.search(r"(\w+)$", before)
            nxt = text[m.end() : m.end() + 1]
            if word and (word.group(1).lower() in ABBREVIATIONS or (word.group(1).isdigit() and nxt.isdigit())):
                continue
            after = text[m.end() : m.end() + 2]
            if word and word.group(1).isdigit() and len(word.group(1)) <= 2 and after[:1] == " " and after[1:].islower():
                continue  # an ordinal: "i 9. klasse", "den 3. mai"
            if word and len(word.group(1)) == 1 and word.group(1).isalpha():
                continue
        breaks.append(m.start())
    return breaks


def analyse(text: str, variants: Mapping[str, str], clause_words: frozenset[str] = frozenset(),
            abbreviations: Mapping[str, str] | None = None) -> Analysis:
    """Tokens with folded forms, sentences at . ! ? ; and new lines, clauses also at , : ( ) and
    at ``clause_words`` (conjunctions such as "men", "but", "og" that end a negation's reach).

    ``abbreviations`` maps words written exactly so ("NA", "OD") to the word they stand for, before
    folding: "NA" (Narcotics Anonymous) must not be read as "nå" typed without its "å".
    """
    abbreviations = abbreviations or {}
    breaks = _sentence_breaks(text)
    punct = [m.start() for m in _CLAUSE_PUNCT_RE.finditer(text)]
    tokens: list[Token] = []
    sentence = clause = 0
    b = p = 0
    clause_bounds: list[tuple[int, int]] = []
    sentence_bounds: list[tuple[int, int]] = []
    clause_start = sentence_start = 0
    for m in _WORD_RE.finditer(text):
        start = m.start()
        new_sentence = False
        while b < len(breaks) and breaks[b] < start:
            new_sentence = True
            b += 1
        if tokens and len(tokens) - sentence_start >= MAX_SENTENCE_TOKENS:
            new_sentence = True
        new_clause = new_sentence
        while p < len(punct) and punct[p] < start:
            new_clause = True
            p += 1
        word = m.group()
        norm = abbreviations.get(word)
        if norm is None:
            norm = fold_cached(word)
            norm = variants.get(norm, norm)
        if norm in clause_words and tokens:
            new_clause = True
        index = len(tokens)
        if tokens and new_clause:
            clause_bounds.append((clause_start, index))
            clause_start = index
            clause += 1
        if tokens and new_sentence:
            sentence_bounds.append((sentence_start, index))
            sentence_start = index
            sentence += 1
        tokens.append(Token(word, norm, start, m.end(), index, sentence, clause))
    if tokens:
        clause_bounds.append((clause_start, len(tokens)))
        sentence_bounds.append((sentence_start, len(tokens)))
    return Analysis(text, tuple(tokens), tuple(clause_bounds), tuple(sentence_bounds),
                    tuple(t.norm for t in tokens), tuple(t.clause for t in tokens))
