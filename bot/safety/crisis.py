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
from bot.safety.lexicon import ACUTE_SCORE, POSSIBLE_SCORE, ScreenRules, Signal

LEVEL_ORDER = ("none", "possible", "acute")


@dataclass(frozen=True)
class SeenSignal:
    """A signal found in the text: what it is, the words that matched, and why it was set aside."""

    signal: Signal
    words: str
    set_aside: str | None = None
    """None when current; else "negated", "past" or "framed"."""

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
    marks = [""] * len(analysis.tokens)
    if rules.scopes is None:
        return marks
    for sentence, hits in rules.scopes.find_by_sentence(analysis).items():
        scopes = SentenceScopes(analysis, hits)
        first, end = analysis.sentence_bounds[sentence]
        for i in range(first, end):
            marks[i] = MARKS[_why_set_aside(scopes, (i,), sentence)]
    return marks


def read_crisis(rules: ScreenRules, analysis: Analysis) -> CrisisReading:
    """Find every signal in ``analysis``, set aside those that are not current, and score the rest."""
    elements = rules.vocabulary.per_token(analysis)
    matches: list[Match] = rules.signals.matches(analysis, None, elements)
    if not matches:
        return CrisisReading("none", 0.0, ())
    matches_in: dict[int, list[Match]] = {}
    for m in matches:
        matches_in.setdefault(analysis.tokens[m.first].sentence, []).append(m)
    by_sentence = rules.scopes.find_by_sentence(analysis, matches_in, elements) if rules.scopes is not None else {}
    cancelled = {(m.payload, analysis.tokens[m.first].sentence) for m in rules.unless.matches(analysis, matches_in, elements)}
    # a signal's own "ikke" ("orker ikke mer", "not breathing") negates nothing after it
    scopes_in = {sentence: SentenceScopes(analysis, by_sentence.get(sentence, ()),
                                          frozenset(i for m in in_sentence for i in m.used))
                 for sentence, in_sentence in matches_in.items()}
    seen: list[SeenSignal] = []
    reasons: dict[tuple[int, tuple[int, ...]], str | None] = {}
    for m in matches:
        signal: Signal = m.payload
        sentence = analysis.tokens[m.first].sentence
        if (signal.id, sentence) in cancelled:
            continue
        key = (sentence, m.used)
        if key not in reasons:
            reasons[key] = _why_set_aside(scopes_in[sentence], m.used, sentence)
        reason = reasons[key]
        seen.append(SeenSignal(signal, analysis.words(m.first, m.last + 1), reason))
    current = {s.signal.id: s.signal for s in seen if s.set_aside is None}
    levels = {sig.level for sig in current.values()}
    score = sum(sig.weight for sig in current.values() if sig.level in ("acute", "possible", "hint"))
    if "reassurance" in levels and "acute" not in levels:
        score += sum(sig.weight for sig in current.values() if sig.level == "reassurance")
    elif levels & {"acute", "possible"}:
        score += sum(sig.weight for sig in current.values() if sig.level == "cue")
    level = "acute" if score >= ACUTE_SCORE else "possible" if score >= POSSIBLE_SCORE else "none"
    ordered = sorted(_unique(seen), key=lambda s: (s.set_aside is not None, -s.signal.weight))
    return CrisisReading(level, round(score, 2), tuple(ordered))


def _unique(seen: list[SeenSignal]) -> list[SeenSignal]:
    """One entry per (signal, words, reason): a pattern found twice in the same words is one sign."""
    out: dict[tuple[str, str, str | None], SeenSignal] = {}
    for s in seen:
        out.setdefault((s.signal.id, s.words, s.set_aside), s)
    return list(out.values())
