"""Word patterns that trainers write in YAML, compiled once and matched against an :class:`Analysis`.

A pattern is words separated by spaces; each word is one *element*, and a message matches when the
elements occur in order in one sentence, with at most ``GAP`` other word between two of them
(``vil dø`` matches "vil dø" and "vil bare dø"). An element is one or more alternatives separated by ``|``:

=========== =================================================================================
``pille``   the lemma in every form: the generated form table ("pilla", "pillene") and the
            Snowball stem ("pillene" → "pill"); typos of words of seven letters or more too
``=nå``     this exact word only (after folding): for short function words
``selvmord*`` any word that starts so ("selvmordstanker"); ``*piller``: any word that ends so
``@means``  any alternative of a concept defined in the lexicon's ``concepts``
``#``       a number ("5", "fem", "five", "noen"); ``#10`` a number of at least 10 ("30", "tjue")
``#year``   a year from 1950 to 2039 ("i 2015")
``...``     not an element: allows up to ``WIDE_GAP`` words before the next element
=========== =================================================================================

Words compare folded (æ→ae, ø→o, å→a), so "doe", "dø" and "do" after a Norwegian "vil" are the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA

from bot.language.forms import LANGUAGES, forms_of, stem
from bot.language.text import Analysis, fold

GAP = 1
"""Words allowed between two elements of a pattern ("vil [bare] dø"); ``...`` allows more."""
WIDE_GAP = 6
"""Words allowed where a pattern says ``...``."""
TYPO_MIN = 7
"""Words at least this long also match with one letter wrong, missing, extra or swapped."""
TYPO_MAX = 30
"""Longer "words" (a pasted hash, a row of one letter) are not looked at for typos."""
NUMBER_VALUES = {fold(w): v for w, v in (
    ("ti", 10), ("elleve", 11), ("tolv", 12), ("femten", 15), ("tjue", 20), ("tyve", 20), ("tretti", 30),
    ("tredive", 30), ("førti", 40), ("fyrre", 40), ("femti", 50), ("halvtreds", 50), ("hundre", 100),
    ("hundrede", 100), ("ten", 10), ("eleven", 11), ("twelve", 12), ("fifteen", 15), ("twenty", 20),
    ("thirty", 30), ("forty", 40), ("fifty", 50), ("hundred", 100), ("dusin", 12), ("dozen", 12),
)}  # fmt: skip
"""Number words worth a value: ``#10`` ("a number of at least ten") reads them."""
NUMBER_WORDS = frozenset(fold(w) for w in str.split(
    "en et ei ett to tre fire fem seks sju syv åtte ni ti elleve tolv femten tjue tretti førti femti hundre "
    "noen par flere mange fa få ett halvt halvannen "
    "én to tre fire fem seks syv otte ni ti elleve tolv femten tyve tredive fyrre halvtreds hundrede nogle "
    "par flere mange få halvanden "
    "a an one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
    "hundred some few several many couple half"
))  # fmt: skip


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message says what is wrong."""


@dataclass(frozen=True)
class Match:
    """One occurrence of a pattern: the payload it was compiled with and the tokens it used."""

    payload: Any
    first: int
    last: int
    used: tuple[int, ...]
    """Indices of the tokens that matched an element (not the words between them)."""


class Sentence(NamedTuple):
    """One sentence's words as elements: per token index, and all of them together."""

    per_token: dict[int, frozenset[int]]
    present: frozenset[int]


@dataclass
class _Compiled:
    elements: tuple[int, ...]
    gaps: tuple[int, ...]
    """Words allowed before each element after the first."""
    payload: Any
    needs: frozenset[int] = frozenset()
    """Every element: a sentence lacking one cannot match (checked before the walk)."""


@dataclass
class Vocabulary:
    """The word side of compiled patterns: which folded words match which elements.

    Pattern sets that read the same text share one vocabulary, so each word of a message is looked
    up once (:meth:`per_token`) however many sets then walk their patterns over it.
    """

    forms: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    stems: dict[tuple[str, str], set[tuple[int, int]]] = field(default_factory=lambda: defaultdict(set))
    """(lang, stem) -> (element, length of the pattern word): see :meth:`elements_of`."""
    prefixes: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    suffixes: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    deletions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """A long form with one letter (not among its first two) left out -> the forms it came from."""
    long_forms: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    number_elements: set[int] = field(default_factory=set)
    min_number_elements: list[tuple[int, int]] = field(default_factory=list)
    year_elements: set[int] = field(default_factory=set)
    _element_ids: dict[tuple[str, frozenset[str]], int] = field(default_factory=dict)
    _cache: dict[str, frozenset[int]] = field(default_factory=dict)

    @staticmethod
    def expand(word: str, lang: str, concepts: Mapping[str, Mapping[str, list[str]]], seen: tuple = ()) -> frozenset[str]:
        """The alternatives of one pattern word, with ``@concepts`` spelled out."""
        out: set[str] = set()
        for alt in word.split("|"):
            if not alt:
                raise PatternError(f"empty alternative in '{word}'")
            if alt.startswith("@"):
                name = alt[1:]
                if name not in concepts:
                    raise PatternError(f"unknown concept '@{name}'")
                if name in seen:
                    raise PatternError(f"concept '@{name}' refers to itself")
                values = concepts[name].get(lang) or concepts[name].get("all") or []
                if not values:
                    raise PatternError(f"concept '@{name}' has no words for '{lang}'")
                for value in values:
                    out |= Vocabulary.expand(value, lang, concepts, (*seen, name))
            else:
                out.add(alt)
        return frozenset(out)

    def element(self, lang: str, alternatives: frozenset[str]) -> int:
        """The id of the element matching ``alternatives`` in ``lang`` (compiled once)."""
        key = (lang, alternatives)
        if key in self._element_ids:
            return self._element_ids[key]
        eid = len(self._element_ids)
        self._element_ids[key] = eid
        self._cache.clear()
        for alt in alternatives:
            if alt == "#":
                self.number_elements.add(eid)
            elif alt == "#year":
                self.year_elements.add(eid)
            elif alt[0] == "#" and alt[1:].isdigit():
                self.min_number_elements.append((int(alt[1:]), eid))
            elif alt.startswith("="):
                self.forms[fold(alt[1:])].add(eid)
            elif alt.endswith("*"):
                prefix = fold(alt[:-1])
                if len(prefix) < 3:
                    raise PatternError(f"prefix '{alt}' is shorter than three letters")
                self.prefixes[prefix[:3]].append((prefix, eid))
            elif alt.startswith("*"):
                suffix = fold(alt[1:])
                if len(suffix) < 3:
                    raise PatternError(f"suffix '{alt}' is shorter than three letters")
                self.suffixes[suffix[-3:]].append((suffix, eid))
            else:
                for form in forms_of(alt, lang):
                    self.forms[form].add(eid)
                written = fold(alt)
                if len(written) >= TYPO_MIN:  # typos of the word as written only: its inflections are
                    self.long_forms[written].add(eid)  # too often another real word ("hengende", "henvende")
                    for i in range(2, len(written)):
                        self.deletions[written[:i] + written[i + 1 :]].add(written)
                word_stem = stem(fold(alt), lang)
                if len(alt) > 3 and len(word_stem) >= 4:  # short stems ("ta", "tid") join unrelated words
                    self.stems[(lang, word_stem)].add((eid, len(alt)))
        return eid

    # ------------------------------------------------------------------------------ matching
    def elements_of(self, norm: str) -> frozenset[int]:
        """Every element the folded word ``norm`` matches (cached per word)."""
        cached = self._cache.get(norm)
        if cached is not None:
            return cached
        found: set[int] = set(self.forms.get(norm, ()))
        if len(norm) > 3:
            # A stem joins inflections ("cutting" ~ "cut", "pillene" ~ "pille"), but it also joins a
            # shorter word to a derived one ("near" ~ "nearly", "overdose" ~ "overdoserer"): a word
            # much shorter than the pattern's word is not one of its forms.
            for lang in LANGUAGES:
                for eid, length in self.stems.get((lang, stem(norm, lang)), ()):
                    if len(norm) >= length - 1:
                        found.add(eid)
        for prefix, eid in self.prefixes.get(norm[:3], ()):
            if norm.startswith(prefix):
                found.add(eid)
        for suffix, eid in self.suffixes.get(norm[-3:], ()):
            if norm.endswith(suffix):
                found.add(eid)
        digits = norm.isascii() and norm.isdigit()
        if digits or norm in NUMBER_WORDS:
            found |= self.number_elements
            value = int(norm) if digits and len(norm) < 7 else NUMBER_VALUES.get(norm, 0)
            found.update(eid for minimum, eid in self.min_number_elements if value >= minimum)
            if len(norm) == 4 and 1950 <= value <= 2039:
                found |= self.year_elements
        if not found and TYPO_MIN - 1 <= len(norm) <= TYPO_MAX and norm.isalpha():
            found = self._typo(norm)
        result = frozenset(found)
        if len(self._cache) > 50000:
            self._cache.clear()
        self._cache[norm] = result
        return result

    def plan(self, analysis: Analysis) -> list[Sentence | None]:
        """Per sentence of ``analysis``: the elements each of its words matches, and all of them
        together (None for a sentence with no known word). Every pattern set over this vocabulary
        reads the same plan, so a message is looked up once."""
        cache = self._cache
        elements = []
        for norm in analysis.norms:
            found = cache.get(norm)
            elements.append(self.elements_of(norm) if found is None else found)
        plan: list[Sentence | None] = []
        for first, end in analysis.sentence_bounds:
            per_token = {i: elements[i] for i in range(first, end) if elements[i]}
            plan.append(Sentence(per_token, frozenset().union(*per_token.values())) if per_token else None)
        return plan


    def _typo(self, norm: str) -> set[int]:
        """Elements a long word matches with one letter missing, extra, wrong, or two swapped.

        The first two letters must be right: typos there are rare, and prefixes such as "u-" and
        "un-" turn a word into its opposite ("regelmessig", "uregelmessig"). Candidates found through
        the deletion index are confirmed by their true edit distance ("skjerpe" is not "skjære").
        """
        candidates: set[str] = set(self.deletions.get(norm, ()))  # a letter missing
        found: set[int] = set()
        for i in range(2, len(norm)):
            shorter = norm[:i] + norm[i + 1 :]
            if shorter in self.long_forms:
                candidates.add(shorter)  # a letter too many
            candidates |= self.deletions.get(shorter, set())  # a letter wrong, or two swapped
            if i + 1 < len(norm):
                swapped = norm[:i] + norm[i + 1] + norm[i] + norm[i + 2 :]
                for prefix, eid in self.prefixes.get(swapped[:3], ()):
                    if len(prefix) >= TYPO_MIN - 1 and swapped.startswith(prefix):
                        found.add(eid)  # "selvmrodstanker" for selvmord*
        for form in candidates:
            if OSA.distance(norm, form) <= 1:
                found |= self.long_forms[form]
        return found


@dataclass
class PatternSet:
    """Compiled patterns over a (possibly shared) :class:`Vocabulary`."""

    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    patterns: list[_Compiled] = field(default_factory=list)
    by_first: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    firsts: frozenset[int] = frozenset()
    """The elements some pattern starts with (a set, so a sentence's words intersect it in C)."""

    def add(self, pattern: str, lang: str, payload: Any, concepts: Mapping[str, Mapping[str, list[str]]]) -> None:
        """Compile ``pattern`` (in ``lang``) and remember ``payload`` for its matches."""
        elements: list[int] = []
        gaps: list[int] = []
        gap = GAP
        for word in pattern.split():
            if word in ("...", "…"):
                gap = WIDE_GAP
                continue
            alternatives = self.vocabulary.expand(word, lang, concepts)
            elements.append(self.vocabulary.element(lang, alternatives))
            if len(elements) > 1:
                gaps.append(gap)
            gap = GAP
        if not elements:
            raise PatternError(f"empty pattern '{pattern}'")
        index = len(self.patterns)
        self.patterns.append(_Compiled(tuple(elements), tuple(gaps), payload, frozenset(elements)))
        self.by_first[elements[0]].append(index)
        self.firsts = self.firsts | {elements[0]}

    def matches(self, analysis: Analysis, sentences: Iterable[int] | None = None,
                plan: list[Sentence | None] | None = None) -> list[Match]:
        """Every occurrence of every pattern (in ``sentences`` only, when given), in text order.

        ``plan`` is :meth:`Vocabulary.plan` of ``analysis``, when the caller has it already.
        """
        bounds = analysis.sentence_bounds
        if plan is None:
            plan = self.vocabulary.plan(analysis)
        found: list[Match] = []
        for sentence in range(len(bounds)) if sentences is None else sorted(sentences):
            words = plan[sentence]
            if words is None:
                continue
            end = bounds[sentence][1]
            per_token, present = words.per_token, words.present
            # the patterns whose every element occurs in the sentence, by their first element
            viable: dict[int, list[_Compiled]] = {}
            for eid in present & self.firsts:
                for p in self.by_first[eid]:
                    pattern = self.patterns[p]
                    if pattern.needs <= present:
                        viable.setdefault(eid, []).append(pattern)
            if not viable:
                continue
            for i, token_elements in per_token.items():
                for eid in token_elements:
                    for pattern in viable.get(eid, ()):
                        used = self._extend(pattern, i, per_token, end, analysis.clauses)
                        if used is not None:
                            found.append(Match(pattern.payload, i, used[-1], used))
        found.sort(key=lambda m: m.first)
        return found

    @staticmethod
    def _extend(pattern: _Compiled, start: int, per_token: dict[int, frozenset[int]], end: int,
                clauses: tuple[int, ...]) -> tuple[int, ...] | None:
        """The tokens of ``pattern`` from ``start``: a plain step stays in its clause ("no intent,
        future oriented" is not "no future"); a ``...`` step may cross a comma within the sentence."""
        used = [start]
        position = start
        for element, gap in zip(pattern.elements[1:], pattern.gaps, strict=True):
            for j in range(position + 1, min(end, position + gap + 2)):
                if gap == GAP and clauses[j] != clauses[position]:
                    return None
                if element in per_token.get(j, ()):
                    used.append(j)
                    position = j
                    break
            else:
                return None
        return tuple(used)


def lemmas_in(patterns: Iterable[tuple[str, str]], concepts: Mapping[str, Mapping[str, list[str]]]) -> dict[str, set[str]]:
    """{lang: lemmas} of the plain words in (lang, pattern) pairs and concepts: what the form table needs."""
    out: dict[str, set[str]] = defaultdict(set)

    def plain(word: str, lang: str) -> None:
        for alt in word.split("|"):
            if alt and alt[0] not in "@=*#" and not alt.endswith("*"):
                out[lang].add(alt)

    for lang, pattern in patterns:
        for word in pattern.split():
            if word not in ("...", "…"):
                plain(word, lang)
    for by_lang in concepts.values():
        for lang, values in by_lang.items():
            for value in values:
                for target in (LANGUAGES if lang == "all" else (lang,)):
                    plain(value, target)
    return out
