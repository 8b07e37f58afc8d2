"""Decide whether a message is a crisis: which signals are current, and what they add up to.

A signal (``knowledge/lexicon/crisis.yaml``) is *current* unless it is negated ("benekter
selvmordstanker"), over ("for ti år siden") without anything in its clause saying "now", or inside a
frame — teaching, statistics, a hypothetical, fiction — again unless its clause says "now". Current
signals add up, each signal once: acute 1.0, possible 0.5, a hint 0.25 (a topic word such as
"overdose" named in passing), and cues (immediacy, alone, intoxicated, low mood, a plea for help)
0.5 — a cue only counts beside a real warning sign. A reassurance ("he is fine now"), when nothing
acute was found, takes 0.5 off and the cues no longer count. A score of 1.0 is ``acute``, 0.5
``possible``. So one clear sign is enough, and two weaker ones ("har samlet opp pillene" and "i
kveld") make an acute answer, as a trained colleague would read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language.patterns import Match
from bot.language.scopes import SentenceScopes
from bot.language.text import Analysis
from bot.safety.lexicon import ACUTE_SCORE, POSSIBLE_SCORE, WEIGHTS, ScreenRules, Signal

LEVEL_ORDER = ("none", "possible", "acute")


@dataclass(frozen=True)
class SeenSignal:
    """A signal found in the text: what it is, the words that matched, and why it was set aside."""

    signal: Signal
    words: str
    set_aside: str | None = None
    """None when current; else "negated", "past" or "framed"."""
    sentence: int = 0

    def to_json(self) -> dict[str, str]:
        out = {"id": self.signal.id, "kind": self.signal.kind, "level": self.signal.level, "words": self.words}
        if self.set_aside:
            out["set_aside"] = self.set_aside
        return out


@dataclass(frozen=True)
class CrisisReading:
    """The verdict: level, score and every signal seen (current first)."""

    level: str
    score: float
    signals: tuple[SeenSignal, ...]

    @property
    def current(self) -> tuple[SeenSignal, ...]:
        return tuple(s for s in self.signals if s.set_aside is None)

    @property
    def explained(self) -> bool:
        """The rules saw risk words and set every one aside (negated, past, framed), or heard that the
        person is safe now: the message has been read, and a second opinion must not overrule that."""
        if any(s.signal.level == "reassurance" for s in self.current):
            return True
        signs = [s for s in self.signals if s.signal.level != "cue"]
        return bool(signs) and all(s.set_aside is not None for s in signs)


def _why_set_aside(scopes: SentenceScopes, used: tuple[int, ...], sentence: int) -> str | None:
    """"negated", "past", "framed", or None for a current signal."""
    if scopes.negated(used):
        return "negated"
    if scopes.in_frame(used):
        return "framed"
    in_clause = scopes.nearest(used, ("past", "now"))
    if in_clause == "past":
        return "past"
    if in_clause is None and scopes.nearest(used, ("past_sentence", "now_sentence"), sentence) == "past_sentence":
        return "past"
    return None


MARKS = {"negated": "n", "past": "p", "framed": "f", None: ""}


def token_marks(rules: ScreenRules, analysis: Analysis) -> list[str]:
    """Per token, "n", "p", "f" when negation, the past or a frame reaches it, else "": the learned
    model reads "ikke" + "selvmordstanker" as a different word from "selvmordstanker" alone."""
    marks = [""] * len(analysis.words)
    if rules.scopes is None:
        return marks
    for sentence, hits in rules.scopes.find_by_sentence(analysis).items():
        scopes = SentenceScopes(analysis, hits)
        first, end = analysis.sentence_bounds[sentence]
        for i in range(first, end):
            marks[i] = MARKS[_why_set_aside(scopes, (i,), sentence)]
    return marks


def read_crisis(rules: ScreenRules, analysis: Analysis) -> CrisisReading:
    """Find every signal in ``analysis``, set aside those that are not current, and score the rest.

    Sentences with a real sign (acute, possible, reassurance) are read first; when they already make
    the message acute, the sentences holding only cues and hints are not read further (a long note
    stays fast), and the reading lists the signs that decided it.
    """
    plan = rules.vocabulary.plan(analysis)
    matches: list[Match] = rules.signals.matches(analysis, None, plan)
    if not matches:
        return CrisisReading("none", 0.0, ())
    matches_in: dict[int, list[Match]] = {}
    for m in matches:
        matches_in.setdefault(analysis.sentences[m.first], []).append(m)
    strong = {s for s, found in matches_in.items() if any(m.payload.level not in ("cue", "hint") for m in found)}
    if not strong and len({m.payload.id for m in matches if m.payload.level == "hint"}) * WEIGHTS["hint"] < POSSIBLE_SCORE:
        return CrisisReading("none", 0.0, ())  # only cues and a single hint: nothing they could add up to
    seen = _read_sentences(rules, analysis, plan, matches_in, strong)
    rest = set(matches_in) - strong
    if rest and _level(_score(seen)[0]) != _level(_score(seen)[0] + _most_added(seen, matches_in, rest)):
        seen += _read_sentences(rules, analysis, plan, matches_in, rest)
    score, level = _score(seen)
    ordered = sorted(_unique(seen), key=lambda s: (s.set_aside is not None, -s.signal.weight))
    return CrisisReading(level, round(score, 2), tuple(ordered))


def _read_sentences(rules: ScreenRules, analysis: Analysis, plan: list, matches_in: dict[int, list[Match]],
                    sentences: set[int]) -> list[SeenSignal]:
    """The signals of ``sentences``, each with the reason it is set aside (or None)."""
    if not sentences:
        return []
    # the next sentence too: an answer there ("Han sa nei.") may negate a question about a signal
    nearby = {*sentences, *(s + 1 for s in sentences if s + 1 < len(analysis.sentence_bounds))}
    by_sentence = rules.scopes.find_by_sentence(analysis, nearby, plan) if rules.scopes is not None else {}
    cancelled = {(m.payload, analysis.sentences[m.first]) for m in rules.unless.matches(analysis, sentences, plan)}
    seen: list[SeenSignal] = []
    for sentence in sorted(sentences):
        in_sentence = matches_in[sentence]
        # a signal's own "ikke" ("orker ikke mer", "not breathing") negates nothing after it
        scopes = SentenceScopes(analysis, by_sentence.get(sentence, ()), frozenset(i for m in in_sentence for i in m.used))
        reasons: dict[tuple[int, ...], str | None] = {}
        for m in in_sentence:
            signal: Signal = m.payload
            if (signal.id, sentence) in cancelled:
                continue
            if signal.level == "reassurance":  # "ikke akut, men hvordan …": a question does not undo it
                reason = "negated" if scopes.negated(m.used) else None
            else:
                if m.used not in reasons:
                    reasons[m.used] = _why_set_aside(scopes, m.used, sentence)
                reason = reasons[m.used]
            seen.append(SeenSignal(signal, analysis.span(m.first, m.last + 1), reason, sentence))
    return seen


def _level(score: float) -> str:
    return "acute" if score >= ACUTE_SCORE else "possible" if score >= POSSIBLE_SCORE else "none"


def _most_added(seen: list[SeenSignal], matches_in: dict[int, list[Match]], rest: set[int]) -> float:
    """The most that the cues and hints of the ``rest`` sentences could add to the score of ``seen``:
    when even that cannot change the level, they need not be read (a long note stays fast)."""
    counted = {s.signal.id for s in seen if s.set_aside is None}
    signs = [s.sentence for s in seen if s.set_aside is None and s.signal.level in ("acute", "possible")]
    hints = {m.payload.id for at in rest for m in matches_in[at] if m.payload.level == "hint"} - counted
    cues = {m.payload.id for at in rest for m in matches_in[at] if m.payload.level == "cue"
            and any(abs(at - sign) <= CUE_REACH for sign in signs)} - counted
    return len(hints) * WEIGHTS["hint"] + len(cues) * WEIGHTS["cue"]


CUE_REACH = 1
"""Sentences between a cue and the sign it strengthens ("Han har samlet pillene. Han er alene nå.")."""


def _score(seen: list[SeenSignal]) -> tuple[float, str]:
    """Each current signal once; a cue only near a current acute or possible sign (in a long note, a
    "nå" twenty sentences away says nothing about it)."""
    current = [s for s in seen if s.set_aside is None]
    by_id = {s.signal.id: s.signal for s in current}
    levels = {sig.level for sig in by_id.values()}
    score = sum(sig.weight for sig in by_id.values() if sig.level in ("acute", "possible", "hint"))
    if "reassurance" in levels and "acute" not in levels:
        score += sum(sig.weight for sig in by_id.values() if sig.level == "reassurance")
    elif levels & {"acute", "possible"}:
        signs = [s.sentence for s in current if s.signal.level in ("acute", "possible")]
        cues = {s.signal.id: s.signal.weight for s in current if s.signal.level == "cue"
                and any(abs(s.sentence - at) <= CUE_REACH for at in signs)}
        score += sum(cues.values())
    return score, _level(score)


def _unique(seen: list[SeenSignal]) -> list[SeenSignal]:
    """One entry per (signal, words, reason): a pattern found twice in the same words is one sign."""
    out: dict[tuple[str, str, str | None], SeenSignal] = {}
    for s in seen:
        out.setdefault((s.signal.id, s.words, s.set_aside), s)
    return list(out.values())
