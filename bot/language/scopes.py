"""Scopes: what a trigger word reaches in its sentence (NegEx-style negation, time, framing).

A negation such as "ikke", "denies" or "uten" reaches forward to the end of its clause (clauses end at
commas and at conjunctions such as "men"/"but"); a post-negation such as "…: nei" or "… denied"
reaches back a few words; a time expression such as "for fem år siden" colours its clause; a frame
such as "hvis"/"what if" reaches forward through the sentence. Pseudo-triggers ("vet ikke om",
"can't rule out") are phrases that contain a trigger word without negating anything: they switch
the trigger inside them off, as in the published NegEx algorithm (Chapman et al. 2001).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.language.patterns import PatternSet, Vocabulary
from bot.language.text import Analysis

REACHES = ("forward", "backward", "clause", "sentence")


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
             elements: list[frozenset[int]] | None = None) -> list[ScopeHit]:
        """Every trigger (in ``sentences``, when given) that no pseudo-trigger switches off, with its reach.

        ``elements``: the shared vocabulary's :meth:`~Vocabulary.per_token`, when the caller has it."""
        sentences = None if sentences is None else set(sentences)
        if elements is None:
            elements = self.triggers.vocabulary.per_token(analysis)
        blocked = {i for m in self.pseudo.matches(analysis, sentences, elements) for i in range(m.first, m.last + 1)}
        hits: list[ScopeHit] = []
        tokens = analysis.tokens
        for m in self.triggers.matches(analysis, sentences, elements):
            if any(i in blocked for i in m.used):
                continue
            rule: ScopeRule = m.payload
            token = tokens[m.first]
            clause_first, clause_end = analysis.clause_bounds[token.clause]
            sentence_first, sentence_end = analysis.sentence_bounds[token.sentence]
            if rule.reach == "forward":
                stop = clause_end if rule.within == "clause" else sentence_end
                first, end = m.last + 1, min(stop, m.last + 1 + rule.limit)
            elif rule.reach == "backward":
                if m.first - clause_first > 1 and m.last not in (clause_end - 1, sentence_end - 1):
                    continue  # an answer stands first or last in its clause
                first, end = max(sentence_first, m.first - rule.limit), m.first
            elif rule.reach == "clause":
                first, end = clause_first, clause_end
            else:
                first, end = sentence_first, sentence_end
            hits.append(ScopeHit(rule, m.used, first, end, token.sentence))
        return hits

    def find_by_sentence(self, analysis: Analysis, sentences: Iterable[int] | None = None,
                         elements: list[frozenset[int]] | None = None) -> dict[int, list[ScopeHit]]:
        """:meth:`find`, grouped by sentence: a scope never leaves its sentence, so a signal needs
        only its own sentence's triggers (a long text stays linear)."""
        grouped: dict[int, list[ScopeHit]] = {}
        for hit in self.find(analysis, sentences, elements):
            grouped.setdefault(hit.sentence, []).append(hit)
        return grouped


def covered(hits: Iterable[ScopeHit], name: str, used: Iterable[int]) -> bool:
    """Whether a scope named ``name`` reaches the tokens ``used``."""
    used = tuple(used)
    return any(hit.rule.name == name and hit.covers(used) for hit in hits)


def nearest(hits: Iterable[ScopeHit], names: Iterable[str], used: Iterable[int]) -> str | None:
    """Of the scopes named ``names`` that reach ``used``, the name of the one whose trigger stands
    nearest: a time expression belongs to the event next to it ("fortalte i dag om da han tok en
    overdose for ti år siden": the overdose is ten years ago, the telling today)."""
    used = tuple(used)
    wanted = set(names)
    best: tuple[int, str] | None = None
    for hit in hits:
        if hit.rule.name in wanted and hit.covers(used):
            distance = min(abs(t - u) for t in hit.trigger for u in used)
            if best is None or distance < best[0]:
                best = (distance, hit.rule.name)
    return best[1] if best else None
