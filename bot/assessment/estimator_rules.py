"""Text machinery for the free-text SATS estimator: folding, sentences, durations, substances, cues.

Everything here is plain regular expressions over a *folded* copy of the text (lower case, æ→ae,
ø→o, å→a, a few typos of key words corrected), with a map from each folded character back to the
original, so every quote is an exact substring of what the user wrote. No pattern has an unbounded
gap: word gaps are written ``(?:\\W+\\w+){0,n}`` with disjoint classes, so matching stays linear.

The decision itself (which answer each tree question gets) is in :mod:`bot.assessment.estimator`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

ALL = None  # scope of a hit that concerns every substance

# ------------------------------------------------------------------------------------------ folding

_FOLD = {"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "é": "e", "è": "e", "ê": "e",
         "á": "a", "à": "a", "ó": "o", "ò": "o", "í": "i", "ú": "u",
         "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2019": "'", "\u2018": "'", "\u00a0": " "}


def fold(text: str) -> str:
    """Fold a pattern or word the way :class:`Folded` folds text (for writing patterns in bokmål)."""
    return "".join(_FOLD.get(c, c) for c in text.lower())


def wordset(words: str) -> frozenset[str]:
    """The folded words of a space-separated list."""
    return frozenset(fold(w) for w in words.split())


# Key words whose typos we correct (folded). A token of 5+ letters at one edit (insert, delete,
# substitute or swap) from one of these, and not itself a known word here, is read as that word.
KEY_WORDS = wordset("""
kontakt kontakten kontakt redusert rusfri rusfritt edru avtaler avtale allianse behandling behandlingen
rusbehandling rusbehandlingen behandler samtaler jevnlig jevnlige regelmessig ukentlig ukentlige
alkohol alkoholen amfetamin cannabis kokain heroin benzodiazepiner måneder måned uker erkjenner
sluttet slutte drukket drikker mindre fortsatt sporadisk uteblir rusrelaterte problemer leilighet
contact reduced abstinent sober appointments appointment alliance treatment counsellor counselor
regularly regular weekly alcohol amphetamine cocaine months weeks acknowledges relationship
drinking sessions substance problems
""")
_PROTECTED = wordset("""
kontrakt kontrakter kontakte behandle behandlet rusfrie redusere reduserer reduces reduce reducing
mindretall drikke drikk drink drinks drinker drinkers contacts contacted treatments sobre weeks
monthly month amfetaminet heroinen counsel regularity abstinens slutter sluttes contract problem
fortsett fortsette
""")
_WORD_RE = re.compile(r"[a-z]{5,}")


@dataclass(frozen=True)
class Folded:
    """A folded view of ``original``: ``text`` plus ``index[i]`` = offset in ``original`` of ``text[i]``."""

    original: str
    text: str
    cased: str
    index: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of the folded span ``[start, end)``."""
        if end <= start:
            pos = self.index[start] if start < len(self.index) else len(self.original)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1

    def quote(self, start: int, end: int) -> tuple[str, int, int]:
        a, b = self.span(start, end)
        return self.original[a:b], a, b


def fold_text(original: str) -> Folded:
    chars: list[str] = []
    cased: list[str] = []
    index: list[int] = []
    for i, c in enumerate(original):
        low = c.lower()
        if len(low) != 1:
            low = c
        f = _FOLD.get(low, low)
        upper = c != low
        for fc in f:
            chars.append(fc)
            cased.append(fc.upper() if upper else fc)
            index.append(i)
    text = "".join(chars)
    # Correct typos of key words, keeping the map to the original characters.
    fixes = []
    for m in _WORD_RE.finditer(text):
        word = m.group()
        if word in KEY_WORDS or word in _PROTECTED or len(word) > 16:
            continue
        best = _closest_key(word)
        if best is not None:
            fixes.append((m.start(), m.end(), best))
    if fixes:
        out_chars: list[str] = []
        out_cased: list[str] = []
        out_index: list[int] = []
        pos = 0
        for start, end, word in fixes:
            out_chars.append(text[pos:start])
            out_cased.append("".join(cased[pos:start]))
            out_index.extend(index[pos:start])
            out_chars.append(word)
            out_cased.append(word)
            span = index[start:end]
            out_index.extend(span[min(k, len(span) - 1)] for k in range(len(word)))
            pos = end
        out_chars.append(text[pos:])
        out_cased.append("".join(cased[pos:]))
        out_index.extend(index[pos:])
        text = "".join(out_chars)
        cased_text = "".join(out_cased)
        index = out_index
    else:
        cased_text = "".join(cased)
    return Folded(original, text, cased_text, tuple(index))


@lru_cache(maxsize=4096)
def _closest_key(word: str) -> str | None:
    if word in _UNIT_OF:
        return None
    best = None
    for key in KEY_WORDS:
        if abs(len(key) - len(word)) > 1 or key[0] != word[0]:
            continue
        if OSA.distance(word, key, score_cutoff=1) <= 1:
            if best is not None and best != key:
                return None  # ambiguous: leave it alone
            best = key
    return best


# ---------------------------------------------------------------------------------------- sentences

_SENT_END = re.compile(r"(?<=[.!?])\s+|[;\n]+|(?<!\s)\s+-\s+")
_ABBREV = wordset("ca pt mr mrs ms dr nr kl jf evt ev mht bl osv dvs feks eks ref st vs etc approx")
_LAST_TOKEN = re.compile(r"([\w]+)\.$")
_CLAUSE_END = re.compile(
    r",\s*(?=(?:men|but|though|although|while|whereas|mens|selv\s+om|og\s+(?:han|hun|hen)\s+(?:har\s+)?"
    r"(?:fortsatt|ikke))\b)|:\s+")


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    sentence: int


def sentences(text: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for m in _SENT_END.finditer(text):
        last = _LAST_TOKEN.search(text, max(0, m.start() - 12), m.start())
        if last and (last.group(1) in _ABBREV or last.group(1).isdigit() and len(last.group(1)) <= 2
                     or len(last.group(1)) == 1):
            continue  # "ca. 3", "1. mars", "Mr. K": not the end of a sentence
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return out


def clauses(text: str, sents: list[tuple[int, int]]) -> list[Segment]:
    out = []
    for n, (s, e) in enumerate(sents):
        pos = s
        for m in _CLAUSE_END.finditer(text, s, e):
            if m.start() > pos:
                out.append(Segment(pos, m.start(), n))
            pos = m.end()
        if pos < e:
            out.append(Segment(pos, e, n))
    return out


# ---------------------------------------------------------------------------------------- durations

DAY, WEEK, MONTH, YEAR = 1.0, 7.0, 30.0, 365.0


@dataclass(frozen=True)
class Duration:
    """How long something has lasted, as a range of days; ``start``/``end`` in the folded text."""

    min_days: float
    max_days: float
    start: int
    end: int
    anchor: bool = False  # a point in time ("in January"), weaker than "for 3 months"/"since Easter"
    vague: bool = False  # from a holiday, season or month name: numbers stated elsewhere win

    def at_least(self, days: float) -> bool | None:
        if self.min_days >= days:
            return True
        if self.max_days < days:
            return False
        return None


_NB_NUM = {"en": 1, "ett": 1, "ei": 1, "et": 1, "én": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
           "sju": 7, "syv": 7, "åtte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12, "tretten": 13,
           "fjorten": 14, "femten": 15, "seksten": 16, "sytten": 17, "atten": 18, "nitten": 19, "tjue": 20,
           "tjuefire": 24, "halvannet": 1.5, "halvannen": 1.5, "et halvt": 0.5, "halvt": 0.5,
           "et par": 2, "par": 2}
_EN_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
           "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
           "twenty-four": 24, "a couple of": 2, "couple of": 2, "one and a half": 1.5, "half a": 0.5}
_NB_FUZZY = {"noen": (2, 4), "flere": (2, 6), "mange": (4, 20)}
_EN_FUZZY = {"a few": (2, 4), "few": (2, 4), "several": (2, 6), "many": (4, 20)}
_UNITS = {"dag": DAY, "dager": DAY, "dagen": DAY, "dagene": DAY, "døgn": DAY, "uke": WEEK, "uker": WEEK,
          "uka": WEEK, "uken": WEEK, "ukene": WEEK, "måned": MONTH, "måneder": MONTH, "måneden": MONTH,
          "månedene": MONTH, "mnd": MONTH, "år": YEAR, "året": YEAR, "årene": YEAR, "halvår": YEAR / 2,
          "halvåret": YEAR / 2, "day": DAY, "days": DAY, "week": WEEK, "weeks": WEEK, "wk": WEEK,
          "wks": WEEK, "month": MONTH, "months": MONTH, "mo": MONTH, "mos": MONTH, "year": YEAR,
          "years": YEAR, "yr": YEAR, "yrs": YEAR}
_UNIT_OF = {fold(k): v for k, v in _UNITS.items()}
_QUALS = {"over": "more", "mer enn": "more", "more than": "more", "well over": "more", "godt over": "more",
          "drøyt": "more", "just over": "more", "minst": "least", "at least": "least",
          "nesten": "almost", "snart": "almost", "nearly": "almost", "almost": "almost", "knapt": "almost",
          "under": "less", "less than": "less", "mindre enn": "less",
          "ca": "about", "ca.": "about", "cirka": "about", "omtrent": "about", "rundt": "about",
          "about": "about", "around": "about", "approximately": "about", "roughly": "about"}
_QUAL_OF = {fold(k): v for k, v in _QUALS.items()}


def _alt(words) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def _num_map(lang: str | None) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    nums: dict[str, float] = {}
    fuzzy: dict[str, tuple[float, float]] = {}
    if lang in (None, "nb"):
        nums.update({fold(k): v for k, v in _NB_NUM.items()})
        fuzzy.update(_NB_FUZZY)
    if lang in (None, "en"):
        nums.update(_EN_NUM)
        fuzzy.update(_EN_FUZZY)
    return nums, fuzzy


@lru_cache(maxsize=4)
def _duration_re(lang: str | None) -> re.Pattern[str]:
    nums, fuzzy = _num_map(lang)
    num = rf"\d+(?:[.,]\d+)?(?:\s*-\s*\d+(?:[.,]\d+)?)?|{_alt(list(nums) + list(fuzzy))}"
    return re.compile(
        rf"\b(?:(?P<qual>{_alt(_QUAL_OF)})\s+)?(?P<num>{num})(?P<half>\s+(?:and\s+a\s+half|og\s+et\s+halvt|og\s+en\s+halv))?"
        rf"\s+(?P<unit>{_alt(_UNIT_OF)})\b"
        r"(?:\s+(?P<ago>siden|ago)\b)?")


_YEAR_AND_HALF = re.compile(r"\ba\s+year\s+and\s+a\s+half\b|\b(?:ett|et|ei|en)\s+og\s+et\s+halvt\s+ar\b")
_BARE_UNIT = re.compile(
    r"\b(?:(?:de|det|den)\s+)?siste\s+(?P<nb>maneden|manedene|uka|uken|ukene|aret|arene|halvaret|halvar)\b"
    r"|\b(?:the\s+)?(?:past|last)\s+(?P<en>months?|weeks?|years?)\b"
    r"|\bfor\s+(?P<for>months|weeks|years)\b|\bi\s+(?P<vis>manedsvis|arevis|ukevis)\b")
_SEASONS = (r"jul\w*|paske\w*|nyttar\w*|sommer\w*|host\w*|varen|vinter\w*|christmas|easter|new\s+year|"
            r"(?:the\s+)?(?:summer|autumn|fall|spring|winter)|januar|februar|mars|april|mai|juni|juli|"
            r"august|september|oktober|november|desember|january|february|march|may|june|july|october|"
            r"december")
_ANCHOR = re.compile(
    rf"\b(?P<prep>siden|since|fra|from|etter|after|i|in)\s+(?:(?P<last>i\s+fjor|last)\s+)?"
    rf"(?P<what>{_SEASONS})\b(?!\s+\d)|\b(?P<prep2>siden|since)\s+(?P<lastyear>i\s+fjor|last\s+year)\b")
_FREQ_BEFORE = wordset("once twice thrice times gang ganger per every each hver annenhver")
_FREQ_AFTER = re.compile(r"\s+(?:i\s+(?:uka|uken|maneden|aret|dognet)|a\s+(?:week|month|year|day)|per|each|"
                         r"every|om\s+(?:dagen|uka|maneden)|old|gammel|gamle)\b")
_PREPS = wordset("i på for siste de over in for past last since siden etter after mer enn more than nesten "
                 "almost about ca omtrent the in")


def durations(text: str, lang: str | None = None) -> list[Duration]:
    """Every duration in the folded ``text``, as ranges of days."""
    out: list[Duration] = []
    nums, fuzzy = _num_map(lang)
    taken: list[tuple[int, int]] = []
    for m in _YEAR_AND_HALF.finditer(text):
        out.append(Duration(1.5 * YEAR, 1.5 * YEAR, m.start(), m.end()))
        taken.append((m.start(), m.end()))
    for m in _duration_re(lang).finditer(text):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        before = text[max(0, m.start() - 12):m.start()].split()
        prev = before[-1] if before else ""
        if prev in _FREQ_BEFORE or _FREQ_AFTER.match(text, m.end()):
            continue
        unit = _UNIT_OF[re.sub(r"\s+", " ", m.group("unit"))]
        raw = re.sub(r"\s+", " ", m.group("num"))
        if raw in nums:
            lo = hi = nums[raw]
        elif raw in fuzzy:
            lo, hi = fuzzy[raw]
        else:
            parts = [float(p.replace(",", ".")) for p in re.split(r"\s*-\s*", raw)]
            lo, hi = min(parts), max(parts)
        if m.group("half"):
            lo, hi = lo + 0.5, hi + 0.5
        if unit == YEAR and lo >= 15 and not m.group("qual") and prev not in _PREPS and not m.group("ago"):
            continue  # an age ("Kvinne 52 år"), not a duration
        lo, hi = lo * unit, hi * unit
        qual = _QUAL_OF.get(re.sub(r"\s+", " ", m.group("qual") or ""))
        if qual == "more":
            lo, hi = lo + 1, hi + unit
        elif qual == "least":
            hi = hi + unit
        elif qual == "almost":
            lo, hi = lo * 0.8, hi - 1
        elif qual == "less":
            lo, hi = 0, hi - 1
        elif qual == "about":
            lo, hi = lo * 0.85, hi * 1.15
        out.append(Duration(lo, hi, m.start(), m.end()))
    for m in _BARE_UNIT.finditer(text):
        word = m.group("nb") or m.group("en") or m.group("for") or m.group("vis")
        unit = (YEAR / 2 if word.startswith("halvar") else YEAR if word.startswith(("ar", "year"))
                else WEEK if word.startswith(("uk", "week")) else MONTH)
        plural = word in ("manedene", "ukene", "arene", "months", "weeks", "years") or bool(m.group("vis"))
        lo, hi = (2 * unit, 6 * unit) if plural else (unit, unit)
        out.append(Duration(lo, hi, m.start(), m.end()))
    for m in _ANCHOR.finditer(text):
        if m.group("lastyear"):
            out.append(Duration(2 * MONTH, 23 * MONTH, m.start(), m.end(), vague=True))
            continue
        since = m.group("prep") in ("siden", "since", "fra", "from")
        if m.group("last"):
            lo, hi = 7 * MONTH, 18 * MONTH
        else:
            lo, hi = 2.5 * MONTH, 6 * MONTH  # "since Easter": a few months; the date is unknown
        out.append(Duration(lo, hi, m.start(), m.end(), anchor=not since, vague=True))
    out.sort(key=lambda d: d.start)
    return out


def nearest_duration(durs: list[Duration], start: int, end: int, lo: int, hi: int,
                     starts: list[int] | None = None) -> Duration | None:
    """The duration in ``[lo, hi)`` that belongs to the words ``[start, end)``: after them first.

    Only the few durations nearest on each side are weighed (``starts`` = their sorted start offsets),
    so a text full of durations stays linear.
    """
    if starts is None:
        starts = [d.start for d in durs]
    at = bisect_left(starts, start)
    best: tuple[float, Duration] | None = None
    for d in durs[max(0, at - 6):at + 6]:
        if d.start < lo or d.end > hi:
            continue
        if d.start >= end:
            gap = d.start - end
        elif d.end <= start:
            gap = 2 * (start - d.end) + 5
        else:
            gap = 0
        if d.anchor:
            gap += 1000
        if d.vague:
            gap += 500
        if best is None or gap < best[0]:
            best = (gap, d)
    return best[1] if best else None


# --------------------------------------------------------------------------------------- substances

SUBSTANCES: dict[str, str] = {
    "alcohol": r"alkohol\w*|alcohol\w*|drikk\w*|drukket|drakk|drink\w*|drank|drunk|ol|vin|wine|beer|"
               r"sprit|vodka|antabus|disulfiram|alkoholiker\w*|alcoholic\w*",
    "cannabis": r"cannabis\w*|hasj\w*|marihuana|marijuana|weed|thc",
    "amphetamine": r"amfetamin\w*|amphetamin\w*|speed|metamfetamin\w*|methamphetamin\w*|meth",
    "cocaine": r"kokain\w*|cocaine|coke|crack",
    "opioids": r"heroin\w*|opioid\w*|opiat\w*|opiate\w*|metadon\w*|methadone|buprenorf\w*|buprenorph\w*|"
               r"subutex|suboxone|morfin\w*|morphine|oxycodon\w*|oxycontin|fentanyl\w*",
    "benzodiazepines": r"benzo\w*|valium|vival|sobril|rivotril|xanax|diazepam|alprazolam|klonazepam|"
                       r"clonazepam|oxazepam",
    "ghb": r"ghb|gbl",
}
_SUBSTANCE_RE = {name: re.compile(rf"\b(?:{p})\b") for name, p in SUBSTANCES.items()}
SUBST = "(?:" + "|".join(p for name, p in SUBSTANCES.items() if name != "alcohol") + \
    r"|alkohol\w*|alcohol\w*|rus\w*|stoff\w*|narkotika|drugs?|substances?|piller|pills|booze|the\s+drink)"
_ACRONYMS = {"opioids": re.compile(r"\b(?:LAR|OMT)\b"), "alcohol": re.compile(r"\bAA\b")}
_GENERAL = re.compile(r"\b(?:rus\w*|narkotika|stoff\w*|drugs?|drug-free|substances?|clean|sober|edru|"
                      r"abstinent)\b")


def substances_in(folded: Folded, start: int, end: int) -> list[str]:
    found = []
    for name, rx in _SUBSTANCE_RE.items():
        m = rx.search(folded.text, start, end)
        acr = _ACRONYMS.get(name)
        if m or (acr and acr.search(folded.cased, start, end)):
            found.append(name)
    return found


def general_in(text: str, start: int, end: int) -> bool:
    return _GENERAL.search(text, start, end) is not None


# --------------------------------------------------------------------------------------------- cues


@dataclass(frozen=True)
class Cue:
    """A pattern that signals one answer.

    ``signal`` is a tree question id or one of the helper signals: ``ack`` (acknowledges the problem;
    "no" = denies it), ``out_treatment``/``in_treatment`` (substance treatment ended / ongoing),
    ``no_problems`` (no substance-related problems), ``still_using`` (current problem use),
    ``current_use`` (frequent present use: weak sign of no reduction), ``engaged`` (treatment words).
    ``negatable``: a negation word just before flips yes to no. ``guard``: skip when the words just
    before state a goal ("bli rusfri", "wants to be sober") or a passing state ("møtte edru", "virket
    redusert"); with ``"attempt"`` also an attempt ("tried to set up regular meetings"); with ``"meeting"``
    skip frequency words that describe use, not meetings ("drinks regularly", "bruker hver uke").
    """

    signal: str
    answer: str
    pattern: re.Pattern[str]
    negatable: bool | str = False  # True: a negation flips yes to no; "never": only aldri/never flips, others skip
    guard: bool | str = False
    weight: float = 1.0
    needs_duration: bool = False
    person: bool = False  # about the person and the helpers, not one substance
    unless_next: re.Pattern[str] | None = None  # skip when the match or the 3 words after it match this
    cased: bool = False  # match against the case-preserving text (acronyms such as NA, AA, LAR)


def fold_pattern(pattern: str) -> str:
    """Fold the bokmål letters of a regex (never its case: ``\\W`` must stay ``\\W``)."""
    return "".join(_FOLD.get(c, c) for c in pattern)


def _cue(signal: str, answer: str, pattern: str, **kw) -> Cue:
    return Cue(signal, answer, re.compile(fold_pattern(pattern)), **kw)


_UP_TO_3_WORDS = r"(?:\W+[\w']+){0,3}\W+"  # up to three words in between
_UP_TO_6_WORDS = r"(?:\W+[\w']+){0,6}\W+"
_HELPER = (r"(?:case\s+manager|counsell?or|therapist|social\s+worker|[\w-]*team|clinic|nurse|psychiatrist|"
           r"psychologist|doctor|gp|key\s+worker|coordinator|care\s+coordinator)")
_USE_VERB_NB = (r"(?:drukket|drikker|drikke|drakk|brukt|bruker|bruke|brukte|røyket|røyker|røyke|tatt|tar|ta|injisert|"
                r"injiserer)")
_USE_VERB_EN = (r"(?:drinking|drinks|drank|drunk|using|uses|used|smoking|smokes|smoked|taking|takes|took|"
                r"injecting|injects)")
_MH = (r"\bfor\s+(?:the\s+|his\s+|her\s+|their\s+|sin\s+|hans\s+|hennes\s+)?(?:depresjon\w*|depression|"
       r"schizofreni\w*|schizophrenia|adhd|angst\w*|anxiety|ptsd|bipolar\w*|psykose\w*|psychosis|"
       r"mental\s+health|psykisk\s+helse)")
MH_QUALIFIER = re.compile(fold_pattern(_MH))

ABOUT_PERSON = dict(person=True)
"""The cue is about the person being assessed (not a relative or the staff member)."""
# Words after a use cue that show it is about something else ("har ikke tatt medisinene", "bruker mindre tid").
NOT_USE = re.compile(fold_pattern(
    r"\b(?:dose\w*|dosage|medisin\w*|medikament\w*|medication\w*|meds|mg|depot\w*|antipsykotik\w*|"
    r"antidepressiv\w*|tablettene\s+sine|rullator|tid|penger|ansvar|time|money|kontakt|contact|"
    r"appointments?|sessions?|samtaler|timene|hours|jobb\w*|work|job|skole\w*|school|mood|stemning\w*|"
    r"vekt|weight|himself|herself|themselves|seg\s+selv)\b"))
# Objects of "kontakt med" that are not helpers.
FAMILY = re.compile(fold_pattern(
    r"\b(?:familien|moren|mora|faren|far|mor|barna|barnet|søsteren|broren|venner|vennene|kjæresten|"
    r"samboeren|foreldrene|family|mother|father|children|friends|sister|brother|partner|wife|husband|"
    r"parents|girlfriend|boyfriend|mum|dad)\b"))
UNLESS_OTHER_USE = dict(unless_next=NOT_USE)
"""A use cue followed by a word showing it is about medication, time or money does not count."""

CUES: list[Cue] = [
    # ---- contact with a helper -------------------------------------------------------------
    _cue("contact", "yes", r"\bkontakt(?:en)?\s+med\b", negatable=True, unless_next=FAMILY, **ABOUT_PERSON),
    _cue("contact", "yes", r"\bi\s+kontakt\b", negatable=True, **ABOUT_PERSON),
    _cue("contact", "yes", r"\b(?:contact|touch)\s+with\b", negatable=True, unless_next=FAMILY, **ABOUT_PERSON),
    _cue("contact", "yes", r"\bin\s+touch\b", negatable=True, **ABOUT_PERSON),
    _cue("contact", "yes", r"(?<!-)\b(?:møter|møtte|møtt)\b|\bvært\s+(?:her|hos\s+oss|hos\s+meg)\b", negatable="never", **ABOUT_PERSON),
    _cue("contact", "yes", r"\b(?:we|i)\s+(?:meet|see)\b|\b(?:vi|jeg)\s+(?:møter|treffer)\b", **ABOUT_PERSON),
    _cue("contact", "yes", rf"\b(?:meets?|met|meeting|sees|seeing|saw|visits|visited|attends|attended)\s+"
                           rf"(?:his|her|their|the|a|our)\s+(?:[\w-]+\s+)?{_HELPER}\b", negatable=True, **ABOUT_PERSON),
    _cue("contact", "yes", r"\b(?:came|comes|come)\s+to\s+(?:the|our)\b|\bdrops?\s+in\b|\bdropped\s+in\b|"
                           r"\b(?:turns?|turned|shows?|showed|shown)\s+up\b|\bwas\s+seen\s+by\b", negatable="never", **ABOUT_PERSON),
    _cue("contact", "yes", r"\boppfølging\b|\bfollow-up\b", negatable=True, weight=0.5, **ABOUT_PERSON),
    _cue("contact", "yes", r"\bsamtaler?\s+hos\b|\bvært\s+til\s+(?:en\s+|to\s+|noen\s+)?(?:samtaler?|timer?|avtaler?)\b",
         negatable=True, **ABOUT_PERSON),
    _cue("contact", "yes", r"\b(?:vært|kommer|var)\s+innom\b|\btalked\s+(?:with|to)\s+the\b", **ABOUT_PERSON),
    _cue("contact", "yes", r"\bhar\s+hatt\s+(?:noen\s+|flere\s+)?samtaler\b|\bfått\s+tildelt\b|"
                           r"\bassigned\s+(?:a\s+)?(?:case\s+manager|counsell?or|key\s+worker)\b", **ABOUT_PERSON),
    _cue("contact", "no", r"\bavvist\s+all\s+kontakt|\bavviser\s+all\s+(?:kontakt|hjelp)|\bikke\s+henvist\b", **ABOUT_PERSON),
    _cue("contact", "no", r"\bukjent\s+for\s+(?:tjenestene|hjelpeapparatet|oss|kommunen)\b|\b(?:ingen|ikke)\s+"
                          r"(?:hjelpere?|tjenester|behandlere?)\s+(?:er\s+)?(?:involvert|inne)\b|"
                          r"\b(?:avslått|avslår|avvist|avviser|takket\s+nei\s+til)\s+(?:alle\s+|all\s+|ethvert\s+|hvert\s+)?(?:tilbud|hjelp)\b", **ABOUT_PERSON),
    _cue("contact", "no", r"\bnot\s+known\s+to\s+(?:any\s+)?(?:services?|us|the\s+team)\b|\bno\s+(?:helpers?|services?|"
                          r"professionals?|clinicians?)\s+(?:are\s+|is\s+)?involved\b|\brefused\s+(?:every|all|any)\s+"
                          r"(?:offers?|help|contact)\b", **ABOUT_PERSON),
    _cue("contact", "no", r"\bnever\s+had\s+contact|\bnot\s+registered\s+with\s+any|\brefuses\s+(?:all\s+)?"
                          r"(?:contact|help)|\bunknown\s+to\s+(?:services|us)\b", **ABOUT_PERSON),
    # ---- regular contact / working alliance ------------------------------------------------
    _cue("regular", "yes", r"\b(?:møter|kommer)\s+(?:fast|jevnlig|regelmessig|ukentlig|hver)\b", negatable=True, **ABOUT_PERSON),
    _cue("regular", "yes", r"\bfast(?:e)?\s+(?:samtaler|timer|avtaler|avtale|kontakt)\b", negatable=True, **ABOUT_PERSON),
    _cue("regular", "yes", r"\bhver\s+(?:uke|mandag|tirsdag|onsdag|torsdag|fredag|fjortende\s+dag|14\.?\s+dag|"
                           r"måned)\b|\bannenhver\s+uke\b", guard="meeting", **ABOUT_PERSON),
    _cue("regular", "yes", r"\bukentlig\w*|\bjevnlig\w*|\bregelmessig\w*", negatable=True, guard="meeting", **ABOUT_PERSON),
    _cue("regular", "yes", r"\bgod\s+(?:arbeids)?(?:allianse|kontakt|relasjon)\b|\b(?:arbeids)?allianse\b",
         negatable=True, unless_next=FAMILY, **ABOUT_PERSON),
    _cue("regular", "yes", r"\b(?:snakker|forteller|prater)\s+(?:\w+\s+){0,2}?åpent\b|\båpent\s+om\b|"
                           r"\b(?:snakker|forteller)\s+om\s+(?:drikkingen|rusen|\w*bruken)\b", negatable=True, **ABOUT_PERSON),
    _cue("regular", "yes", r"\b(?:kommer|kommet|møtt|møter)\s+(?:til|på)\s+alle\s+(?:timer|timene|avtaler|avtalene|samtaler)\b|"
                           r"\bsnakker\s+(?:greit|fint|godt)\s+om\b|\bstabil\s+i\s+kontakten|"
                           r"\b(?:deltar|går)\s+i\s+(?:\w+\s+)?gruppe\w*", **ABOUT_PERSON),
    _cue("regular", "yes", r"\bevery\s+(?:week|monday|tuesday|wednesday|thursday|friday|other\s+week|two\s+weeks|"
                           r"fortnight|month)\b|\b(?:weekly|fortnightly)\b", guard="meeting", **ABOUT_PERSON),
    _cue("regular", "yes", r"\bmonthly\b", weight=0.5, guard="meeting", **ABOUT_PERSON),
    _cue("regular", "yes", r"\bregular(?:ly)?\b", negatable=True, guard="attempt", **ABOUT_PERSON),
    _cue("regular", "yes", r"\bgood\s+(?:working\s+)?(?:alliance|relationship|rapport|contact)\b|"
                           r"\bworking\s+(?:alliance|relationship)\b|\balliance\b", negatable=True, unless_next=FAMILY, **ABOUT_PERSON),
    _cue("regular", "yes", r"\b(?:talks?|speaks?)\s+openly\b|\bopenly\s+(?:discuss\w*|talk\w*)|\bopen\s+about\b|"
                           r"\bdiscuss(?:es)?\s+(?:his|her|their)\s+(?:\w+\s+)?use\b|\bwilling\s+to\s+talk\b|"
                           r"\bin\s+every\s+session\b", negatable=True, **ABOUT_PERSON),
    _cue("regular", "yes", r"\battends?\s+(?:our|a|the)\s+(?:[\w-]+\s+){0,2}?group\b|\bmeet\w*\s+(?:\w+\s+){0,3}?"
                           r"(?:twice|once|three\s+times)\s+a\s+week\b|\bstill\s+in\s+treatment\b", **ABOUT_PERSON),
    _cue("regular", "no", r"\bmøter\s+(?:sjelden|ikke|uregelmessig)\b|\buteb(?:lir|litt|le)\b|\bikke\s+møtt\b|"
                          r"\bbare\s+møtt\s+(?:én|en|et\s+par)\s+gang", **ABOUT_PERSON),
    _cue("regular", "no", r"\b(?:not|never)\s+(?:\w+\s+)?(?:turned|shown|showed)\s+up\b|\b(?:has|have)\s+not\s+"
                          r"(?:attended|come)\b|\bnever\s+attend\w*|\b(?:met|seen|saw)\s+(?:him|her|them)\s+once\b|"
                          r"\bonly\s+(?:met|seen)\s+(?:him|her|them)?\s*once\b", **ABOUT_PERSON),
    _cue("regular", "no", r"\b(?:kommer|er|vært)\s+innom\s+(?:\w+\s+){0,3}?av\s+og\s+til\b|"
                          r"\bvært\s+innom\s+(?:\w+\s+){0,2}?(?:to|tre|en|et\s+par)\s+ganger\b", **ABOUT_PERSON),
    _cue("regular", "no", r"\bdukker\s+(?:bare\s+)?opp\s+(?:bare\s+)?når\b|\bsporadisk\w*|\bustabil\w*|"
                          r"\buregelmessig\w*", **ABOUT_PERSON),
    _cue("regular", "no", r"\b(?:vil|ville|ønsker)\s+ikke\s+(?:snakke|diskutere|prate)\b|\bbytter\s+tema\b|"
                          r"\bavviser\s+samtaler\b|\bavlyst\w*", **ABOUT_PERSON),
    _cue("regular", "no", r"\bsporadic\w*|\birregular\w*|\bmiss(?:es|ed|ing)\s+(?:\w+\s+){0,2}?appointments\b|"
                          r"\bonly\s+(?:shown|showed|turned)\s+up\b|\bhard\s+to\s+(?:reach|engage)\b", **ABOUT_PERSON),
    _cue("regular", "no", r"\b(?:would|will|does|did)\s+not\s+(?:talk|discuss|speak)\b|"
                          r"\b(?:won't|wouldn't|doesn't|didn't)\s+(?:talk|discuss)\b|\brefuses\s+to\s+(?:talk|discuss)\b",
         **ABOUT_PERSON),
    _cue("regular", "no", r"\bstopped\s+(?:answering|coming|attending)\b|\bdoes\s+not\s+answer\b|"
                          r"\bhas\s+not\s+returned\b|\bnot\s+yet\s+been\s+able\s+to\s+talk\b|\bnobody's\s+business\b",
         **ABOUT_PERSON),
    _cue("regular", "no", rf"\b(?:drops?\s+in|turns?\s+up|turned\s+up|shows?\s+up|showed\s+up|comes?\s+in)\b{_UP_TO_6_WORDS}"
                          r"(?:now\s+and\s+then|occasionally|sometimes|sporadically)\b", **ABOUT_PERSON),
    _cue("regular", "no", r"\bcancel(?:s|led|ling|ed)?\s+(?:\w+\s+){0,2}?(?:sessions|appointments|meetings)\b|"
                          r"\b(?:changes|changed)\s+the\s+subject\b", **ABOUT_PERSON),
    _cue("regular", "yes", r"\b(?:build|built|established|formed|have|has)\s+(?:a|an|any)\s+(?:good\s+|working\s+)?"
                           r"(?:relationship|alliance|rapport)\b", negatable=True, **ABOUT_PERSON),
    _cue("regular", "no", r"\bkontakten\s+er\s+(?:løs|ustabil|sporadisk|dårlig|lite\s+stabil|uregelmessig)\b|"
                          r"\bpreget\s+av\s+(?:mange\s+)?brudd\b|\b(?:møtt|kommet|møter)\s+(?:til\s+)?\w+\s+av\s+"
                          r"\w+\s+avtaler\b|\b(?:vil|ønsker)\s+ikke\s+ha\s+(?:fast|faste)\b|\bsvarer\s+(?:sjelden|ikke)\b|"
                          r"\b(?:vil|ville)\s+ikke\s+(?:si|fortelle)\s+(?:noe\s+)?om\b|\brarely\s+(?:answers|attends|comes)\b",
         **ABOUT_PERSON),
    # ---- reduced use ------------------------------------------------------------------------
    _cue("reduced", "yes", r"\bredusert\b|\bkutte[tr]?\s+ned\b|\btrappe[tr]?\s+ned\b|\bhalvert\b|"
                           r"\bholdt\s+(?:bruken|drikkingen|forbruket|inntaket|seg)\s+(?:nede|nær|innenfor|til)\b",
         negatable=True, guard=True, needs_duration=True, **UNLESS_OTHER_USE),
    _cue("reduced", "yes", rf"\b{_USE_VERB_NB}\s+(?:\w+\s+){{0,2}}?(?:mindre|sjeldnere)\b|\bmindre\s+enn\s+"
                           r"(?:før|tidligere)\b", negatable=True, guard=True, needs_duration=True, **UNLESS_OTHER_USE),
    _cue("reduced", "yes", r"\b(?:bruk|bruken|drikkingen|forbruket|inntaket|\w+bruken)\s+(?:\w+\s+){0,2}?(?:har\s+)?"
                           r"gått\s+ned\b|\bfærre\s+(?:stoffer|enheter|piller|tabletter|rusdager|fyllekvelder|dager\s+med)\b|"
                           r"\bfra\s+daglig\s+til\b", negatable=True, guard=True, needs_duration=True, **UNLESS_OTHER_USE),
    _cue("reduced", "yes", r"\bcut\s+(?:down|back)\b|\breduced\b|\bhalved\b|\bfrom\s+daily\s+to\b|"
                           r"\bfewer\s+(?:drinks|units|pills|substances|days\s+of|joints|lines|binges)\b|"
                           r"\b(?:use|using|drinking|consumption|intake)\s+(?:\w+\s+){0,3}?(?:went|has\s+gone|had\s+gone|"
                           r"gone|has\s+come|came)\s+down\b|\bstayed\s+lower\b|\bkept\s+(?:(?:his|her|their)\s+(?:\w+\s+)?"
                           r"(?:drinking|use|using|intake)\s+)?to\s+(?:a|one|two|three|four|five|\d+|the|his|her|their)\s+"
                           r"(?:\w+\s+)?(?:glass\w*|drinks?|beers?|units?|limit|joints?|pills?)\b",
         negatable=True, guard=True, needs_duration=True, **UNLESS_OTHER_USE),
    _cue("reduced", "yes", rf"\b{_USE_VERB_EN}\s+(?:\w+\s+){{0,2}}?(?:less|less\s+often)\b", negatable=True, guard=True,
         needs_duration=True, **UNLESS_OTHER_USE),
    _cue("reduced", "no", r"\bingen\s+(?:endring|reduksjon)\b|\buendret\b|\blike\s+mye\s+som\b|"
                          r"\b(?:omtrent|akkurat)\s+som\s+før\b|\bhar\s+økt\b|\bøkt\s+(?:bruken|forbruket)\b|"
                          r"\b(?:bruken|drikkingen|forbruket)\s+har\s+økt\b"),
    _cue("reduced", "no", r"\b(?:is|was|remains|stayed|has\s+been)\s+(?:about\s+|roughly\s+)?the\s+same\b|\bsame\s+as\s+"
                          r"(?:before|last|ever|when)\b|\bat\s+the\s+same\s+level\b|\bback\s+to\s+(?:his|her|their)\s+usual\b|"
                          r"\b(?:på|er)\s+samme\s+nivå\b|\bsom\s+før\b|\btilbake\s+til\s+(?:vanlig|samme|gammelt)\b"),
    _cue("reduced", "no", r"\bno\s+(?:change|reduction)\b|\bunchanged\b|\bas\s+much\s+as\s+(?:before|ever)\b|"
                          r"\b(?:drinks|uses|smokes)\s+more\b|\bincreased\b|\bmore\s+than\s+before\b"),
    _cue("reduced", "no", r"\b(?:vil|ønsker)\s+ikke\s+(?:endre|forandre)\b|\bdoes\s+not\s+want\s+to\s+change\b|"
                          r"\bno\s+plans?\s+to\s+change\b|\bingen\s+planer\s+om\s+å\s+endre\b"),
    _cue("current_use", "no", rf"\b(?:{_USE_VERB_NB}|{_USE_VERB_EN}){_UP_TO_3_WORDS}(?:daglig|hver\s+dag|om\s+dagen|"
                              r"hver\s+kveld|every\s+day|daily|every\s+evening|every\s+night|several\s+times\s+a\s+week|"
                              r"flere\s+ganger\s+i\s+uka|hver\s+helg|every\s+weekend|most\s+(?:evenings|days|nights))\b",
         weight=0.5, **UNLESS_OTHER_USE),
    # ---- own goal of abstinence or control -------------------------------------------------
    _cue("own_goal", "yes", r"\b(?:ønsker|vil)\s+(?:hun\s+|han\s+|hen\s+)?selv\b|\bselv\s+bestemt\b|\bbestemt\s+seg\s+for\s+å\s+"
                            r"(?:slutte|bli|kutte|redusere)\b|\bsatt\s+seg\s+(?:som\s+)?mål\b|\beget\s+mål\b",
         negatable=True),
    _cue("own_goal", "yes", r"\bmålet\s+(?:hennes|hans|hens|sitt)?\s*(?:er|var)\b|\bjobber\s+(?:aktivt\s+)?mot\s+å\s+"
                            r"bli\b|\b(?:vil|ønsker)\s+(?:å\s+)?(?:slutte|bli\s+rusfri|bli\s+edru|få\s+kontroll|kutte)\b",
         negatable=True),
    _cue("own_goal", "yes", r"\bmotivert\s+for\s+å\s+(?:slutte|bli)|\bvil\s+ikke\s+tilbake\b"),
    _cue("own_goal", "yes", r"\bwants?\s+(?:\w+\s+)?to\s+(?:quit|stop|be\s+(?:drug-free|sober|clean)|cut\s+down|"
                            r"get\s+control|become)\b|\bown\s+(?:goal|aim)\b|\b(?:his|her|their)\s+aim\s+is\b|\bset\s+(?:himself|herself|themselves)\s+"
                            r"(?:the|a)\s+goal\b|\bdecided\s+(?:himself\s+|herself\s+)?to\s+(?:stop|quit)\b",
         negatable=True),
    _cue("own_goal", "yes", r"\bgoal\s+(?:is|was)\s+(?:to\s+stop|to\s+quit|controlled|abstinence|to\s+be)\b|"
                            r"\bworking\s+(?:toward|towards)\s+(?:abstinence|sobriety|being|controlled)\b|"
                            r"\bmotivated\b|\bcommitted\s+to\b", negatable=True),
    _cue("own_goal", "yes", r"\b(?:does\s+not|doesn't|never)\s+wants?\s+to\s+go\s+back\b"),
    _cue("own_goal", "no", r"\bnot\s+(?:his|her|their)\s+(?:own\s+)?(?:goal|aim|plan)\b|\bikke\s+(?:hans|hennes|hens|sitt)\s+"
                           r"(?:eget\s+)?mål\b"),
    _cue("own_goal", "no", r"\b(?:insists?|insisted|demands?|demanded|requires?|required|pressure[ds]?|krever|krevde|"
                           r"presser|presset|mas)\b", weight=0.5),
    _cue("own_goal", "no", r"\bikke\s+(?:har\s+)?tenkt\s+å\s+slutte\b|\bhar\s+ikke\s+tenkt\s+å\s+slutte\b|"
                           r"\b(?:ikke\s+(?:vil|ønsker)|(?:vil|ønsker)\s+ikke)\s+(?:å\s+)?(?:slutte|bli\s+rusfri|"
                           r"kutte\s+ut)\b|\bikke\s+(?:har\s+)?noe\s+(?:eget\s+)?mål\b"),
    _cue("own_goal", "no", r"\bingen\s+(?:planer|intensjon|ønske)\s+om\s+å\s+slutte\b|\bdet\s+er\s+\w+\s+som\s+"
                           r"(?:vil|krever|ønsker)\b|\busikker\s+på\s+om\s+(?:hun|han|hen)\s+vil\s+slutte\b"),
    _cue("own_goal", "no", r"\bno\s+(?:plans?|intention|goal|wish)\s+(?:to|of)\s+(?:stopping|quitting|giving\s+up|stop|quit|give\s+up|change)\b"
                           r"|\bnot\s+see\s+a\s+reason\s+to\s+stop\b|\bwould\s+never\s+give\s+up\b|"
                           r"\bonly\s+(?:does\s+it|because)\b|\bbecause\s+(?:his|her|their)\s+\w+\s+insists?\b|"
                           r"\bthe\s+only\s+reason\b|\bno\s+plans\s+to\s+change\b"),
    # ---- abstinence or problem-free control ------------------------------------------------
    _cue("abstinent", "yes", r"\brusfri\w*|\b(?:vært|holdt\s+seg|holder\s+seg)\s+edru\b|\bedru\s+(?:i|siden|fra|nå)\b|"
                             rf"\bavholdende\b|\bfri\s+for\s+{SUBST}|\b(?:kokain|alkohol|amfetamin|cannabis|"
                             r"hasj|heroin|benzo|opioid|opiat|ghb|spill)\w*fri\b|\b(?:alcohol|cocaine|amphetamine|cannabis|"
                             r"heroin|opioid|benzo|ghb)-free\b", negatable=True, guard=True),
    _cue("abstinent", "yes", rf"\bhar\s+(?:hun\s+|han\s+|hen\s+)?ikke\s+(?:drukket|ruset\s+seg|rust\s+seg|(?:brukt|røyket|"
                             rf"tatt|injisert|snust)\s+(?:\w+\s+)?(?:{SUBST}|noe|på|i|siden)\b)|\bikke\s+(?:drukket|brukt|"
                             r"røyket|tatt)\s+(?:på|i)\b|\b(?:drikker|ruser\s+seg)\s+ikke\s+lenger\b|"
                             rf"\b(?:bruker|røyker|tar)\s+ikke\s+(?:lenger\s+)?{SUBST}|\bsluttet\s+(?:helt\s+)?(?:å\s+(?:drikke|"
                             rf"ruse\s+seg|røyke\s+(?:hasj|cannabis))|med\s+{SUBST}|med\s+drikkingen)", **UNLESS_OTHER_USE),
    _cue("abstinent", "yes", r"\b(?:been|stayed|remained|being|kept)\s+(?:completely\s+)?(?:sober|clean|abstinent|"
                             r"drug[\s-]free|dry)\b|\b(?:is|are)\s+(?:now\s+)?(?:abstinent|drug[\s-]free)\b|"
                             r"\b(?:sober|clean|abstinent|drug[\s-]free|dry)\s+(?:for|since|from)\b", negatable=True, guard=True),
    _cue("abstinent", "yes", rf"\b(?:been|is|stayed|remained|completely)\s+off\s+{SUBST}|\b(?:has|have|had)\s+not\s+"
                             rf"(?:had\s+a\s+drink|drunk|drank|(?:used|smoked|taken|injected)\s+(?:any\s+)?(?:{SUBST}|"
                             r"anything|for|since)\b)|\bnot\s+had\s+a\s+drink\b|\bhas\s+used\s+no\b|\bstopped\s+"
                             rf"(?:drinking|using\s+{SUBST}|using\s+(?:for|since)|smoking\s+(?:weed|cannabis|hash))\b|"
                             rf"\bstopped\s+using\b(?=\W+(?:\w+\s+)?(?:completely|altogether|entirely))|\bno\s+longer\s+"
                             rf"(?:drinks|uses\s+{SUBST}|takes\s+{SUBST})|\bquit\s+(?:drinking|using|{SUBST})", **UNLESS_OTHER_USE),
    _cue("abstinent", "yes", r"\b(?:drukket|drikker|brukt|bruker)\s+kontrollert\b(?:\W+[\w']+){0,12}?\W+uten\s+"
                             r"(?:noen\s+)?problemer\b|\b(?:controlled|moderately)\b(?:\W+[\w']+){0,12}?\W+"
                             r"(?:without\s+(?:any\s+)?|with\s+no\s+)problems\b|\bkept\s+(?:\w+\s+){0,2}?to\b(?:\W+[\w']+){0,10}?\W+"
                             r"(?:with\s+no\s+|without\s+(?:any\s+)?)problems\b"),
    _cue("no_problems", "yes", r"\b(?:ingen|ikke\s+hatt\s+(?:noen\s+)?|uten)\s*(?:rus|alkohol)\w*relaterte\s+problemer|"
                               r"\bingen\s+problemer\s+knyttet\s+til\s+\w+|\bno\s+(?:substance|alcohol|drug)[\s-]"
                               r"related\s+problems|\bno\s+problems\s+related\s+to\s+\w+|\bwithout\s+(?:any\s+)?"
                               r"(?:substance|alcohol|drug)[\s-]related\s+problems"),
    _cue("still_using", "yes", rf"\b{_USE_VERB_NB}\s+(?:han\s+|hun\s+|seg\s+)?fortsatt\b|\bfortsatt\s+(?:sprekker|"
                               r"episoder|bruk|rus|drikker|bruker|røyker)\b|\bdrikker\s+seg\s+(?:fortsatt\s+)?full\b", **UNLESS_OTHER_USE),
    _cue("still_using", "yes", r"\b(?:flere|mange|noen|enkelte|to|tre)\s+(?:kvelder|dager|helger|episoder)\s+"
                               r"(?:med|der|hvor)\b|\bstill\s+(?:gets|got|getting)\s+(?:drunk|high|intoxicated)\b|\bfortsatt\s+(?:kvelder|dager|helger)\s+"
                               r"(?:der|med|hvor)\b|\b(?:had|has\s+had|have\s+had)\s+(?:\w+\s+)?(?:binges|relapses|episodes)\b|"
                               r"\bhar\s+hatt\s+(?:\w+\s+)?(?:tilbakefall|episoder|fyllekvelder)\b"),
    _cue("still_using", "yes", r"\bstill\s+(?:uses|using|drinks|drinking|smokes|smoking|binges|has\s+binges|injects)"
                               r"\b|\bepisodes\s+of\s+use\b|\bdays\s+of\s+(?:problem|heavy)\b|\brelapsed\b|"
                               r"\b(?:several|many|two|three)\s+(?:episodes|binges|days|weekends|evenings)\s+of\b"),
    # ---- acknowledging the problem ---------------------------------------------------------
    _cue("ack", "yes", r"\berkjenner\w*|\binnrømm\w+|\b(?:var|har\s+vært)\s+(?:et\s+)?(?:stort\s+)?problem\b|"
                       r"\bvar\s+alkoholiker\b|\bgjorde\s+(?:ham|henne|hen)\s+psykotisk\b|\bødela\b",
         negatable=True),
    _cue("ack", "yes", r"\b(?:acknowledg\w+|admits?|admitted|recogni[sz]\w+)\b|\b(?:was|were|has\s+been)\s+"
                       r"(?:a\s+)?(?:big\s+|serious\s+|real\s+)?problem\b|\bruin(?:ing|ed)\b|\bdestroy(?:ing|ed)\b|\bwreck(?:ing|ed)\b|"
                       r"\bnearly\s+killed\b|\bout\s+of\s+control\b", negatable=True),
    _cue("ack", "no", r"\bser\s+(?:det\s+)?ikke\s+(?:noe\s+)?(?:som\s+et\s+)?(?:stort\s+)?problem|\bikke\s+(?:er\s+|har\s+)?"
                      r"noe\s+\w*problem\b|\bdoes\s+not\s+see\s+(?:it\s+as\s+)?a\s+problem\b|\bnot\s+(?:really\s+)?a\s+"
                      r"problem\b|\bnobody's\s+business\b|\bway\s+of\s+coping\b|\bunsure\s+whether\b"),
    # ---- substance treatment ended / ongoing ---------------------------------------------
    _cue("out_treatment", "yes", r"\bavsluttet\s+(?:\w+\s+){0,2}?(?:rus)?behandling\w*|\bikke\s+lenger\s+i\s+"
                                 r"(?:noen\s+)?(?:rus)?behandling|\bikke\s+(?:vært\s+)?i\s+rusbehandling|"
                                 r"\butskrevet\s+fra\s+(?:rus)?behandling\w*|\bferdig\s+med\s+(?:rus)?behandling\w*"),
    _cue("out_treatment", "yes", r"\bnot\s+in\s+(?:any\s+)?(?:substance\s+|addiction\s+)?treatment\b|\bikke\s+i\s+(?:noen\s+)?"
                                 r"(?:form\s+for\s+)?rusbehandling\b"),
    _cue("out_treatment", "yes", r"\bno\s+longer\s+(?:receives?|gets?|attends?|in)\s+(?:any\s+)?(?:substance\s+|addiction\s+)?"
                                 r"(?:treatment|follow-up|services)|\btreatment\b(?:\W+[\w']+){0,5}?\W+(?:ended|finished|"
                                 r"was\s+completed|stopped)\b|\b(?:mottar|får)\s+ikke\s+lenger\s+(?:noen\s+)?(?:rus)?"
                                 r"behandling|\b(?:rus)?behandlingen\s+(?:ble\s+)?(?:avsluttet|avsluttes)\b|"
                                 r"\b(?:ended|completed|finished|concluded)\s+(?:her|his|their|the)?\s*(?:substance\s+|"
                                 r"addiction\s+)?treatment|\bdischarged\s+from\s+(?:substance\s+|addiction\s+)?"
                                 r"treatment|\bout\s+of\s+(?:substance\s+)?treatment"),
    _cue("in_treatment", "yes", r"\bfortsatt\s+i\s+(?:rus)?(?:behandling|oppfølging)|\bfortsatt\s+(?:\w+\s+){0,2}?"
                                r"(?:samtaler|timer|kontakt|oppfølging)\b|\bgår\s+fortsatt\s+(?:til|på)\b|"
                                r"\bstill\s+in\s+(?:substance\s+)?treatment|\bstill\s+(?:comes|meets|sees|seeing|"
                                r"attends|attending|goes|has\s+(?:regular\s+)?(?:sessions|appointments|contact))\b",
         **ABOUT_PERSON),
    # ---- words that show the person is (or was) in treatment ------------------------------
    _cue("engaged", "yes", r"\b(?:\w*behandl\w*|treatment|therap\w+|counsell?or|case\s+manager|koordinator\w*|"
                           r"miljøterapeut\w*|ruskonsulent\w*|\w*poliklinikk\w*|\w*klinikk\w*|clinic|\w*team\w*|"
                           r"\w*gruppe\w*|group|samtaler|sessions?|oppfølging|follow-up|avrusning|"
                           r"detox|psykolog\w*|dps)\b", **ABOUT_PERSON),
    _cue("engaged", "yes", r"\b(?:AA|NA|LAR|OMT|FACT|ACT|ROP|TSB|DPS)\b", cased=True, **ABOUT_PERSON),
]

NEGATORS = wordset("ikke ingen aldri not no never nor cannot hverken verken n't")
_STOP_WINDOW = wordset("men but og and so så while mens though")
GOAL_WORDS = wordset("bli mål målet ønsker ønske vil mot want wants wanted goal become be aim hope hoper plan "
                     "planer try prøve prøver aims")
STATE_WORDS = wordset("møtte kom virket fremsto fremstod framsto var was were appeared seemed arrived presented looked")
ATTEMPT_WORDS = GOAL_WORDS | wordset("tried trying attempt attempted attempts prøvd prøvde forsøkt forsøker forsøkte")
USE_WORDS = wordset("drikker drakk drukket bruker brukte brukt røyker røyket tar injiserer drinks drank drinking uses "
                    "used using smokes smoked smoking takes injects gambles spiller")
_TOKEN = re.compile(r"[\w']+")


def words_before(text: str, lo: int, pos: int, n: int = 4) -> list[tuple[str, int]]:
    """Up to ``n`` words (with their offsets) before ``pos``, not crossing ``lo``, punctuation or a
    conjunction."""
    start = max(lo, pos - 48)
    window = text[start:pos]
    cut = max(window.rfind(","), window.rfind(";"), window.rfind("."), window.rfind("("))
    if cut >= 0:
        start += cut + 1
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text, start, pos)][-n:]
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i][0] in _STOP_WINDOW:
            return tokens[i + 1:]
    return tokens


def negation_word(text: str, lo: int, pos: int) -> tuple[str, int] | None:
    """The negation word before ``pos`` and where it starts, if any."""
    tokens = words_before(text, lo, pos)
    for i, (tok, at) in enumerate(tokens):
        if tok in NEGATORS or tok.endswith("n't"):
            if i + 1 < len(tokens) and tokens[i + 1][0] in ("lenger", "longer"):
                continue  # "no longer in treatment", "ikke lenger": not a denial of the cue
            return tok, at
    return None


def goal_context(text: str, lo: int, pos: int, kind: str | bool = True) -> bool:
    """The words before ``pos`` make the cue a goal, a passing state, an attempt or a use frequency."""
    before = words_before(text, lo, pos, 4)
    if kind in ("meeting", "attempt") and any(
            tok in USE_WORDS or any(rx.fullmatch(tok) for rx in _SUBSTANCE_RE.values()) for tok, _ in before):
        return True
    if kind == "meeting":
        return False
    words = ATTEMPT_WORDS if kind == "attempt" else GOAL_WORDS
    if any(tok in words for tok, _ in before):
        return True
    return any(tok in STATE_WORDS for tok, _ in before[-2:])


_NEXT_WORDS = re.compile(r"\W*(?:[\w']+\W+){0,2}[\w']*")


def unless_next(cue: Cue, text: str, start: int, end: int, limit: int) -> bool:
    """The match, or the three words after it, show the cue is about something else."""
    if cue.unless_next is None:
        return False
    m = _NEXT_WORDS.match(text, end, min(limit, end + 60))
    stop = m.end() if m else end
    return cue.unless_next.search(text, start, stop) is not None
