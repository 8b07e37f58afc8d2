"""Free-text case estimator (journey J3): a case description in, a SATS estimate with evidence out.

The estimator reads a colleague's free-text case note (bokmål or English) and answers as many of
the SATS decision-tree questions (``contact``, ``regular``, ``reduced``, ``own_goal``, ``abstinent``,
``six_months``, ``remission``) as the text supports, each with the words that support it. The level
itself always comes from :func:`bot.assessment.sats.walk` over the tree in ``knowledge/sats.yaml``; when the
walk stops at an unanswered question, the estimate is the range of levels the missing answers could
still give, and ``missing`` lists the questions a chat should ask.

The rules are plain, explainable patterns (see :mod:`bot.assessment.estimator_rules`), applied in this order:

1. *Facts stated in the text* ("møter fast hver uke" → regular yes; "har ikke redusert" → reduced no;
   "rusfri i fire måneder" → abstinent yes, six_months no). A reduction counts only if it has lasted
   at least a month; a stated duration under a month answers ``reduced`` with no. Durations are
   ranges of days: "since Easter"/"siden jul" count as a few months (2.5–6), "last summer" as 7–18
   months, so an unknown date never decides a six-month or one-year threshold by itself.
   Negation flips a cue ("har ikke hatt kontakt", "not cut down", "no working relationship"); a goal
   or a passing state is not a fact ("har satt seg som mål å bli rusfri", "møtte edru til timen");
   medication, work, family and mood are not use ("har ikke tatt medisinene på to uker", "ikke god
   kontakt med familien", "drinks regularly" is not a meeting rhythm). One lapse is compatible with
   abstinence; "still uses", "binges", "flere kvelder der hun har drukket mye" are not.
2. *Facts implied by other facts*, marked ``inferred``: abstinence implies reduced use and an own goal;
   a reduction of at least a month with no word of stopping means still using (not abstinent); seeing
   no problem with one's use means no own goal yet; a reduction, own goal or abstinence implies a
   working alliance only when the text also shows engagement in treatment (a helper, a group,
   "avsluttet behandlingen"); regular contact (or even irregular contact) implies contact.
3. Remission (level 8) needs more than a year without substance-related problems *and* substance
   treatment to have ended; ongoing substance follow-up or regular contact (not mental-health
   follow-up such as "for depresjonen") keeps the person at 7.

Several substances: sentences (clauses) naming a substance are staged for that substance only;
contact and alliance are about the person and count for all. The person is rated on the worst-staged
(lowest) substance, so :func:`estimate` returns that one.

``confidence`` is the share of questions on the decision path (including the next unanswered one)
answered by explicit words in the text rather than by inference.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from bot.assessment.estimator_rules import (
    CUES,
    MH_QUALIFIER,
    Cue,
    Duration,
    Folded,
    clauses,
    durations,
    fold_text,
    general_in,
    goal_context,
    nearest_duration,
    negation_word,
    sentences,
    substances_in,
    unless_next,
    wordset,
)
from bot.assessment.sats import walk
from bot.knowledge.models import SatsTree
from bot.knowledge.validate import EXPECTED_STAGE_OF_LEVEL

__all__ = ["Estimate", "Evidence", "estimate", "estimate_per_substance", "detect_language"]

CHANGE_STAGE_OF_LEVEL = {1: "precontemplation", 2: "precontemplation", 3: "contemplation", 4: "preparation",
                         5: "preparation", 6: "action", 7: "maintenance", 8: "maintenance"}
MONTH_DAYS = 28.0  # "reduced for at least the past month": four weeks count
SIX_MONTHS_DAYS = 180.0
YEAR_DAYS = 365.0
MAX_CHARS = 20_000  # longer texts are cut (a case note is a few sentences)


@dataclass(frozen=True)
class Evidence:
    """One answered tree question and the words that support it.

    ``quote`` is ``text[start:end]`` of the original text. ``inferred`` is true when the answer
    follows from another fact (the quote then shows that fact) rather than being stated.
    """

    fact: str
    answer: str
    quote: str
    start: int
    end: int
    inferred: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"fact": self.fact, "answer": self.answer, "quote": self.quote, "inferred": self.inferred}


@dataclass(frozen=True)
class Estimate:
    sats_level: int | None
    stage: str | None
    stage_of_change: str | None
    low: int
    high: int
    confidence: float
    answers: dict[str, str]
    evidence: list[Evidence]
    missing: list[str]
    substance: str | None = None

    @property
    def decided(self) -> bool:
        return self.sats_level is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "sats_level": self.sats_level,
            "stage": self.stage,
            "stage_of_change": self.stage_of_change,
            "confidence": self.confidence,
            "evidence": [e.to_json() for e in self.evidence],
            "missing": list(self.missing),
            "range": [self.low, self.high],
            "substance": self.substance,
        }


# ------------------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class _Hit:
    cue: Cue
    answer: str
    start: int
    end: int
    sentence: int
    scope: frozenset[str] | None  # None: every substance
    duration: Duration | None = None

    @property
    def signal(self) -> str:
        return self.cue.signal


@dataclass
class _Analysis:
    folded: Folded
    hits: list[_Hit]
    substances: list[str]
    mh_sentences: set[int] = field(default_factory=set)


_NB_MARKERS = wordset("og ikke har han hun er det på pa med som til av en for seg ham henne å a etter siden") | {"på", "å"}
_EN_MARKERS = wordset("and not has he she is the of with to for his her a an since after been was")
_BACKREF = re.compile(r"\b(?:siden|since|etter\s+det|denne\s+perioden|that\s+period|then)\b")


def detect_language(text: str) -> str:
    """``nb`` or ``en`` by counting common function words (ties go to bokmål)."""
    words = re.findall(r"[a-zæøå]+", text.lower()[:MAX_CHARS])
    nb = sum(w in _NB_MARKERS for w in words) + 2 * sum(any(c in w for c in "æøå") for w in words)
    en = sum(w in _EN_MARKERS for w in words)
    return "en" if en > nb else "nb"


def _analyse(text: str, lang: str | None) -> _Analysis:
    text = text[:MAX_CHARS]
    folded = fold_text(text)
    ftext = folded.text
    sents = sentences(ftext)
    segs = clauses(ftext, sents)
    durs = durations(ftext, lang)
    starts = [d.start for d in durs]
    # Which substance(s) each clause is about: named ones, else every one ("rusfri"), else the last.
    scopes: list[frozenset[str] | None] = []
    order: list[str] = []
    current: frozenset[str] | None = None
    previous_sentence = -1
    for seg in segs:
        found = substances_in(folded, seg.start, seg.end)
        for name in found:
            if name not in order:
                order.append(name)
        if found:
            current = frozenset(found)
        elif seg.sentence != previous_sentence and general_in(ftext, seg.start, seg.end):
            current = None  # a sentence about use in general ("rusfri i 3 mnd") counts for every substance
        previous_sentence = seg.sentence
        scopes.append(current)
    mh = {n for n, (s, e) in enumerate(sents) if MH_QUALIFIER.search(ftext, s, e)}

    hits: list[_Hit] = []
    for n, (s_start, s_end) in enumerate(sents):
        sent_hits: list[_Hit] = []
        for cue in CUES:
            for m in cue.pattern.finditer(folded.cased if cue.cased else ftext, s_start, s_end):
                seg = _segment_at(segs, m.start())
                lo = segs[seg].start if seg is not None else s_start
                if cue.guard and goal_context(ftext, lo, m.start(), cue.guard):
                    continue
                if unless_next(cue, ftext, m.start(), m.end(), s_end):
                    continue
                answer, start = cue.answer, m.start()
                if cue.negatable and answer == "yes":
                    neg = negation_word(ftext, lo, m.start())
                    if neg is not None:
                        if cue.negatable == "never" and neg[0] not in ("aldri", "never"):
                            continue  # "har ikke møtt siden": contact lapsed, not contact denied
                        answer, start = "no", neg[1]
                dur = None
                if cue.needs_duration or (cue.signal in ("abstinent", "no_problems") and answer == "yes"):
                    hi = segs[seg].end if seg is not None else s_end
                    dur = (nearest_duration(durs, m.start(), m.end(), lo, hi, starts)
                           or nearest_duration(durs, m.start(), m.end(), s_start, s_end, starts))
                    if dur is None and n > 0 and cue.signal in ("abstinent", "no_problems") \
                            and _BACKREF.search(ftext, m.end(), s_end):
                        first = bisect_left(starts, sents[n - 1][0])
                        prev = [d for d in durs[first:first + 8] if d.end <= sents[n - 1][1]]
                        dur = max(prev, key=lambda d: d.min_days) if prev else None
                scope = scopes[seg] if seg is not None else None
                sent_hits.append(_Hit(cue, answer, start, m.end(), n, scope, dur))
        hits.extend(_dedupe(sent_hits))
    return _Analysis(folded, hits, order, mh)


def _segment_at(segs, pos: int) -> int | None:
    lo, hi = 0, len(segs) - 1
    found = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if segs[mid].start <= pos:
            found = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return found


def _dedupe(hits: list[_Hit]) -> list[_Hit]:
    """One hit per overlapping span and signal (two patterns for the same words count once)."""
    out: list[_Hit] = []
    reach: dict[str, int] = {}  # per signal, the furthest end of a kept hit (hits come sorted by start)
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if hit.start < reach.get(hit.signal, -1):
            continue
        reach[hit.signal] = max(reach.get(hit.signal, -1), hit.end)
        out.append(hit)
    return out


# ------------------------------------------------------------------------------------- decision


@dataclass
class _Fact:
    answer: str
    hit: _Hit
    inferred: bool = False
    with_duration: bool = False


def _weight(hits: list[_Hit]) -> float:
    return sum(h.cue.weight for h in hits)


def _decide_answers(an: _Analysis, substance: str | None) -> dict[str, _Fact]:
    hits = [h for h in an.hits
            if h.cue.person or substance is None or h.scope is None or substance in h.scope]

    def pick(signal: str, answer: str) -> list[_Hit]:
        return [h for h in hits if h.signal == signal and h.answer == answer]

    facts: dict[str, _Fact] = {}

    # contact and regular contact (about the person)
    contact_no, contact_yes = pick("contact", "no"), pick("contact", "yes")
    if contact_no:
        facts["contact"] = _Fact("no", contact_no[0])
    elif contact_yes:
        facts["contact"] = _Fact("yes", contact_yes[0])
    reg_yes, reg_no = pick("regular", "yes"), pick("regular", "no")
    if reg_no and _weight(reg_no) >= _weight(reg_yes):
        facts["regular"] = _Fact("no", reg_no[0])
    elif reg_yes:
        facts["regular"] = _Fact("yes", reg_yes[0])
        if facts.get("contact", _Fact("yes", reg_yes[0])).answer == "no":
            facts["contact"] = _Fact("yes", reg_yes[0], inferred=True)

    # reduced use for at least the past month
    red_yes = pick("reduced", "yes")
    long_enough = [h for h in red_yes if h.duration is not None and h.duration.at_least(MONTH_DAYS) is True]
    too_short = [h for h in red_yes if h.duration is not None and h.duration.at_least(MONTH_DAYS) is False]
    red_no = pick("reduced", "no")
    if long_enough:
        facts["reduced"] = _Fact("yes", long_enough[0], with_duration=True)
    elif too_short:
        facts["reduced"] = _Fact("no", too_short[0], with_duration=True)
    elif red_no:
        facts["reduced"] = _Fact("no", red_no[0])
    elif not red_yes and pick("current_use", "no"):
        facts["reduced"] = _Fact("no", pick("current_use", "no")[0])

    # own goal
    goal_yes, goal_no = pick("own_goal", "yes"), pick("own_goal", "no")
    if goal_no and _weight(goal_no) >= _weight(goal_yes):
        facts["own_goal"] = _Fact("no", goal_no[0])
    elif goal_yes:
        facts["own_goal"] = _Fact("yes", goal_yes[0])
    elif pick("ack", "no") and not pick("ack", "yes"):
        facts["own_goal"] = _Fact("no", pick("ack", "no")[0])  # sees no problem: no goal of its own yet

    # abstinence (or problem-free control) and acknowledgement
    still = pick("still_using", "yes") + pick("abstinent", "no")
    abst = pick("abstinent", "yes") + pick("no_problems", "yes")
    denies = pick("ack", "no")
    acks = pick("ack", "yes")
    if still:
        facts["abstinent"] = _Fact("no", still[0])
    elif abst and not (denies and not acks):
        first = min(abst, key=lambda h: h.start)
        facts["abstinent"] = _Fact("yes", first)
    elif long_enough and not abst:
        # "has cut down" (and nothing about stopping) means still using, only less
        facts["abstinent"] = _Fact("no", long_enough[0], inferred=True, with_duration=True)

    if facts.get("abstinent") and facts["abstinent"].answer == "yes":
        timed = [h for h in abst if h.duration is not None]
        six = [h for h in timed if h.duration.at_least(SIX_MONTHS_DAYS) is True]
        under = [h for h in timed if h.duration.at_least(SIX_MONTHS_DAYS) is False]
        if six:
            best = max(six, key=lambda h: h.duration.min_days)
            facts["six_months"] = _Fact("yes", best, with_duration=True)
        elif under:
            facts["six_months"] = _Fact("no", under[0], with_duration=True)
        # remission: more than a year without problems and out of substance treatment
        year = [h for h in timed if h.duration.at_least(YEAR_DAYS) is True]
        short = [h for h in timed if h.duration.at_least(YEAR_DAYS) is False]
        out = pick("out_treatment", "yes")
        inside = [h for h in pick("in_treatment", "yes") if h.sentence not in an.mh_sentences]
        if short and not year:
            facts["remission"] = _Fact("no", short[0], with_duration=True)
        elif inside:
            facts["remission"] = _Fact("no", inside[0])
        elif out:
            if year:
                facts["remission"] = _Fact("yes", out[0])
        elif reg_yes:
            # regular contact now and no word of treatment ending: still in treatment
            facts["remission"] = _Fact("no", reg_yes[0], inferred=True)

    # facts implied by later ones
    def infer(fact: str, answer: str, hit: _Hit) -> None:
        if fact not in facts:
            facts[fact] = _Fact(answer, hit, inferred=True)

    if facts.get("remission") and facts["remission"].answer == "yes":
        infer("six_months", "yes", facts["remission"].hit)
    if facts.get("abstinent") and facts["abstinent"].answer == "yes":
        infer("own_goal", "yes", facts["abstinent"].hit)
        infer("reduced", "yes", facts["abstinent"].hit)
    later = [facts[f] for f in ("abstinent", "own_goal", "reduced") if f in facts and facts[f].answer == "yes"]
    if later and "regular" not in facts:
        support = ([h for h in contact_yes if "contact" in facts and facts["contact"].answer == "yes"]
                   + pick("engaged", "yes") + pick("out_treatment", "yes") + pick("in_treatment", "yes"))
        if support:
            infer("regular", "yes", min(support, key=lambda h: h.start))
    if "regular" in facts and "contact" not in facts:
        infer("contact", "yes", facts["regular"].hit)
    return facts


def _quote(an: _Analysis, fact: _Fact) -> tuple[str, int, int]:
    hit = fact.hit
    start, end = hit.start, hit.end
    dur = hit.duration
    if (dur is not None and (fact.with_duration or hit.signal in ("abstinent", "no_problems"))
            and (abs(dur.start - end) < 80 or abs(start - dur.end) < 80)):
        start, end = min(start, dur.start), max(end, dur.end)
    return an.folded.quote(start, end)


def _estimate_from(an: _Analysis, substance: str | None, tree: SatsTree,
                   levels: Mapping[int, Any] | None) -> Estimate:
    facts = _decide_answers(an, substance)
    order = [q.id for q in tree.questions]
    answers = {q: facts[q].answer for q in order if q in facts}
    result = walk(tree, answers)
    path = [qid for qid, _ in result.decided_by]
    if result.finished:
        low, high = result.low, result.high
        missing: list[str] = []
    else:
        path.append(result.next_question.id)
        low, high, missing = _completions(tree, answers, order)
    explicit = sum(1 for q in path if q in facts and not facts[q].inferred)
    confidence = round(explicit / len(path), 2) if path else 0.0
    evidence = []
    for q in order:
        if q in facts:
            quote, a, b = _quote(an, facts[q])
            evidence.append(Evidence(q, facts[q].answer, quote, a, b, facts[q].inferred))
    level = low if low == high else None
    stage = _common(range(low, high + 1), lambda n: _stage(n, levels))
    change = _common(range(low, high + 1), lambda n: _change_stage(n, levels))
    return Estimate(level, stage, change, low, high, confidence, answers, evidence, missing, substance)


def _completions(tree: SatsTree, answers: dict[str, str], order: list[str]) -> tuple[int, int, list[str]]:
    """The levels reachable when the unanswered questions get any answer, and which of them matter."""
    open_q = [q for q in order if q not in answers]
    levels: set[int] = set()
    needed: set[str] = set()
    for combo in product(("yes", "no"), repeat=len(open_q)):
        trial = {**answers, **dict(zip(open_q, combo, strict=True))}
        res = walk(tree, trial)
        if res.low is not None:
            levels.update(range(res.low, res.high + 1))
        needed.update(qid for qid, _ in res.decided_by if qid in open_q)
    if not levels:
        levels = set(range(1, 9))
    return min(levels), max(levels), [q for q in order if q in needed]


def _stage(level: int, levels: Mapping[int, Any] | None) -> str | None:
    if levels and level in levels:
        return getattr(levels[level], "stage", None)
    return EXPECTED_STAGE_OF_LEVEL.get(level)


def _change_stage(level: int, levels: Mapping[int, Any] | None) -> str | None:
    if levels and level in levels:
        return getattr(levels[level], "change_stage", None)
    return CHANGE_STAGE_OF_LEVEL.get(level)


def _common(values, key) -> str | None:
    found = {key(v) for v in values}
    return found.pop() if len(found) == 1 else None


# ------------------------------------------------------------------------------------------ API


def estimate_per_substance(text: str, tree: SatsTree, lang: str | None = None, *,
                           levels: Mapping[int, Any] | None = None) -> list[Estimate]:
    """One estimate per substance the text names (in order of first mention).

    Sentences that name no substance count for all of them; contact and alliance always do. With no
    substance named, the list holds a single estimate with ``substance=None``. ``levels`` (for example
    ``kb.levels``) supplies stage names; by default the standard SATS mapping is used.
    """
    lang = lang if lang in ("nb", "en") else detect_language(text or "")
    an = _analyse(text or "", lang)
    if not an.substances:
        return [_estimate_from(an, None, tree, levels)]
    return [_estimate_from(an, name, tree, levels) for name in an.substances]


def worst(estimates: list[Estimate]) -> Estimate:
    """The worst-staged estimate: lowest level (undecided ones by their lowest possible level)."""
    return min(estimates, key=lambda e: (e.low, e.high))


def estimate(text: str, tree: SatsTree, lang: str | None = None, *,
             levels: Mapping[int, Any] | None = None) -> Estimate:
    """The SATS estimate for a free-text case description.

    With several substances the person is rated on the worst-staged one; its ``substance`` says which.
    """
    per = estimate_per_substance(text, tree, lang, levels=levels)
    return per[0] if len(per) == 1 else worst(per)
