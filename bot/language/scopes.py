"""Scopes: what a trigger word reaches in its sentence (NegEx-style negation, time, framing).

A negation such as "ikke", "denies" or "uten" reaches forward to the end of its clause (clauses end at
commas and at conjunctions such as "men"/"but"); a post-negation such as "…: nei" or "… denied"
reaches back a few words; an answer opening a sentence ("Han sa nei.") reaches the sentence before; a time expression such as "for fem år siden" colours its clause; a frame
such as "hvis"/"what if" reaches forward through the sentence. Pseudo-triggers ("vet ikke om",
"can't rule out") are phrases that contain a trigger word without negating anything: they switch
the trigger inside them off, as in the published NegEx algorithm (Chapman et al. 2001).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.language.patterns import PatternSet, Sentence, Vocabulary
from bot.language.text import Analysis

REACHES = ("forward", "backward", "clause", "sentence", "previous")


@dataclass(frozen=True)
class ScopeRule:
    """What a trigger means (``name``, e.g. "negation", "past") and how far it reaches."""

    name: str
    reach: str
    limit: int = 8
    """Words reached at most (forward and backward reaches)."""
    within: str = "clause"
    """Where a forward reach stops: the end of the trigger's ``clause`` (negation) or ``sentence``
    (a frame such as "what if a client says …, and …")."""


@dataclass(frozen=True)
class ScopeHit:
    """One trigger in a text: its rule, the trigger's own tokens and the token range it covers."""

    rule: ScopeRule
    trigger: tuple[int, ...]
    first: int
    end: int
    sentence: int

    def covers(self, used: Iterable[int]) -> bool:
        """Whether the scope reaches one of ``used``; a negation that is itself part of them ("vil
        ikke leve") negates nothing, while a frame may contain them ("spørre om selvmordstanker")."""
        used = tuple(used)
        if any(t in used for t in self.trigger):
            return self.rule.name == "frame"
        return any(self.first <= u < self.end for u in used)


class Scopes:
    """Compiled trigger and pseudo-trigger patterns."""

    def __init__(self, triggers: Iterable[tuple[str, str, ScopeRule]], pseudo: Iterable[tuple[str, str]],
                 concepts: Mapping[str, Mapping[str, list[str]]], vocabulary: Vocabulary | None = None) -> None:
        vocabulary = vocabulary or Vocabulary()
        self.triggers = PatternSet(vocabulary)
        for pattern, lang, rule in triggers:
            if rule.reach not in REACHES:
                raise ValueError(f"reach must be one of {', '.join(REACHES)}, not '{rule.reach}'")
            self.triggers.add(pattern, lang, rule, concepts)
        self.pseudo = PatternSet(vocabulary)
        for pattern, lang in pseudo:
            self.pseudo.add(pattern, lang, None, concepts)

    def find(self, analysis: Analysis, sentences: Iterable[int] | None = None,
             plan: list[Sentence | None] | None = None) -> list[ScopeHit]:
        """Every trigger (in ``sentences``, when given) that no pseudo-trigger switches off, with its reach.

        ``plan``: the shared vocabulary's :meth:`~Vocabulary.plan` of ``analysis``, when the caller has it."""
        sentences = None if sentences is None else set(sentences)
        if plan is None:
            plan = self.triggers.vocabulary.plan(analysis)
        blocked = {i for m in self.pseudo.matches(analysis, sentences, plan) for i in range(m.first, m.last + 1)}
        hits: list[ScopeHit] = []
        for m in self.triggers.matches(analysis, sentences, plan):
            if any(i in blocked for i in m.used):
                continue
            rule: ScopeRule = m.payload
            sentence, clause = analysis.sentences[m.first], analysis.clauses[m.first]
            clause_first, clause_end = analysis.clause_bounds[clause]
            sentence_first, sentence_end = analysis.sentence_bounds[sentence]
            if rule.reach == "forward":
                stop = clause_end if rule.within == "clause" else sentence_end
                first, end = m.last + 1, min(stop, m.last + 1 + rule.limit)
            elif rule.reach == "backward":
                if m.first - clause_first > 1 and m.last not in (clause_end - 1, sentence_end - 1):
                    continue  # an answer stands first or last in its clause
                first, end = max(sentence_first, m.first - rule.limit), m.first
            elif rule.reach == "previous":
                # an answer opening a sentence ("Han sa nei.") answers the sentence before it
                if m.first - sentence_first > 2 or sentence == 0:
                    continue
                first, end = analysis.sentence_bounds[sentence - 1]
                hits.append(ScopeHit(rule, m.used, first, end, sentence - 1))
                continue
            elif rule.reach == "clause":
                first, end = clause_first, clause_end
            else:
                first, end = sentence_first, sentence_end
            hits.append(ScopeHit(rule, m.used, first, end, sentence))
        return hits

    def find_by_sentence(self, analysis: Analysis, sentences: Iterable[int] | None = None,
                         plan: list[Sentence | None] | None = None) -> dict[int, list[ScopeHit]]:
        """:meth:`find`, grouped by sentence: a scope never leaves its sentence, so a signal needs
        only its own sentence's triggers (a long text stays linear)."""
        grouped: dict[int, list[ScopeHit]] = {}
        for hit in self.find(analysis, sentences, plan):
            grouped.setdefault(hit.sentence, []).append(hit)
        return grouped


class SentenceScopes:
    """One sentence's scope hits, indexed by token: a question about a signal costs only the few
    hits near it, so a sentence full of triggers ("ikke ikke ikke …") stays linear.

    Negations are kept per covered token (they reach a few words); frames as the set of tokens they
    cover; time expressions ("past", "now", reaching their clause; "past_sentence", "now_sentence",
    reaching the sentence) as sorted trigger positions per clause or sentence, for :meth:`nearest`.
    """

    def __init__(self, analysis: Analysis, hits: Iterable[ScopeHit], ignore: frozenset[int] = frozenset()) -> None:
        """``ignore``: tokens whose negations negate nothing (a signal's own "ikke")."""
        self.clauses = analysis.clauses
        self.negations: dict[int, list[ScopeHit]] = {}
        self.framed: set[int] = set()
        self.times: dict[tuple[str, int], list[int]] = {}
        for hit in hits:
            name = hit.rule.name
            if name == "negation":
                if not ignore.intersection(hit.trigger):
                    for u in range(hit.first, hit.end):
                        self.negations.setdefault(u, []).append(hit)
            elif name == "frame":
                self.framed.update(range(hit.first, hit.end))
                self.framed.update(hit.trigger)
            else:
                where = self.clauses[hit.trigger[0]] if name in ("past", "now") else hit.sentence
                self.times.setdefault((name, where), []).append(hit.trigger[0])
        for positions in self.times.values():
            positions.sort()

    def negated(self, used: tuple[int, ...]) -> bool:
        """A negation reaches one of ``used`` and is not itself one of them."""
        return any(not set(h.trigger).intersection(used) for u in used for h in self.negations.get(u, ()))

    def in_frame(self, used: tuple[int, ...]) -> bool:
        return any(u in self.framed for u in used)

    def nearest(self, used: tuple[int, ...], names: tuple[str, str], sentence: int | None = None) -> str | None:
        """Which of two time scopes has the trigger nearest to ``used`` (in the clause of each token,
        or in ``sentence`` when given); None when neither reaches it. A time expression belongs to
        the event next to it ("fortalte i dag om da han tok en overdose for ti år siden": the
        overdose is ten years ago, the telling today)."""
        best: tuple[int, str] | None = None
        for name in names:
            for u in used:
                positions = self.times.get((name, self.clauses[u] if sentence is None else sentence))
                if not positions:
                    continue
                at = bisect_left(positions, u)
                for p in positions[max(0, at - 1) : at + 1]:
                    if best is None or abs(p - u) < best[0]:
                        best = (abs(p - u), name)
        return best[1] if best else None
