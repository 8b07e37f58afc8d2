"""Fuzzy search over the knowledge base, with an index built once per knowledge load.

Names (titles in both languages, synonyms, tags) are normalised with æ/ø/å both kept and folded,
so typos and missing letters still land. Stage words in a query ("feller i overtalelsesfasen")
become a filter on the stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from bot.knowledge.base import KnowledgeBase
from bot.textnorm import fold

SEARCHABLE = ("stages", "sats_levels", "change_stages", "interventions", "traps", "elements", "services",
              "resources", "research", "research_topics", "webinars", "chapters", "glossary", "core_questions",
              "screening_tools", "articles", "fidelity_items")
KIND_OF = {"stages": "stage", "sats_levels": "sats_level", "change_stages": "change_stage",
           "interventions": "intervention", "traps": "trap", "elements": "element", "services": "service",
           "resources": "resource", "research": "research", "research_topics": "research_topic",
           "webinars": "webinar", "chapters": "chapter", "glossary": "glossary", "core_questions": "core_question",
           "screening_tools": "screening_tool", "articles": "article", "fidelity_items": "fidelity_item"}
KIND_WORDS = {
    "trap": {"felle", "feller", "fellene", "trap", "traps", "pitfall", "pitfalls", "fallgruve", "fallgruver"},
    "intervention": {"tiltak", "intervensjon", "intervensjoner", "intervention", "interventions", "strategier"},
    "resource": {"ressurs", "ressurser", "resource", "resources", "lenke", "lenker", "kurs"},
    "research": {"forskning", "studie", "studier", "research", "study", "studies", "artikkel", "artikler"},
    "webinar": {"webinar", "webinarer", "webinars", "video"},
}
STOP_WORDS = {"i", "og", "for", "med", "på", "pa", "av", "til", "en", "et", "ei", "den", "det", "de", "som", "er",
              "hva", "hvordan", "om", "the", "a", "an", "of", "in", "on", "for", "to", "and", "what", "how", "is",
              "are", "with", "about", "at", "ved", "fasen", "stage", "stadiet", "stadium", "phase"}
NO_MATCH_SCORE = 62.0


@dataclass(frozen=True)
class SearchHit:
    kind: str
    id: str
    collection: str
    title: str
    score: float
    stage: str | None
    tags: list[str] = field(default_factory=list)
    snippet: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "title": self.title, "score": round(self.score, 1),
                "stage": self.stage, "tags": self.tags}


def _stages_of(entry: Any, collection: str) -> list[str]:
    if collection == "stages":
        return [entry.id]
    if collection == "sats_levels":
        return [entry.stage]
    return list(getattr(entry, "stages", []) or [])


def _names(entry: Any) -> list[str]:
    names: list[str] = []
    title = getattr(entry, "title", None)
    if isinstance(title, str):
        names.append(title)
    elif title is not None:
        names += [title.nb, title.en]
    names += list(getattr(entry, "synonyms", []) or [])
    names += list(getattr(entry, "tags", []) or [])
    term = getattr(entry, "term", None)
    if term:
        names.append(term)
    code = getattr(entry, "code", None)
    if code:
        names.append(code)
    return [n for n in names if n]


def _snippet(entry: Any, lang: str) -> str:
    for name in ("summary", "definition", "description", "contributes", "covers", "looks_like", "body", "question"):
        value = getattr(entry, name, None)
        if value is not None and hasattr(value, "get"):
            return value.get(lang)[:200]
    year = getattr(entry, "year", None)
    return str(year) if year else ""


class SearchIndex:
    """Flat table of normalised names → entries; built once per knowledge load."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.entries: list[tuple[str, Any]] = []
        self.names: list[str] = []
        self.owner: list[int] = []
        for collection in SEARCHABLE:
            for entry in kb.all(collection):
                index = len(self.entries)
                self.entries.append((collection, entry))
                seen: set[str] = set()
                for name in _names(entry):
                    folded = fold(name)
                    if folded and folded not in seen:
                        seen.add(folded)
                        self.names.append(folded)
                        self.owner.append(index)
        self.stage_words = self._stage_words(kb)

    @staticmethod
    def _stage_words(kb: KnowledgeBase) -> dict[str, str]:
        words: dict[str, str] = {}
        for stage in kb.all("stages"):
            for name in _names(stage):
                folded = fold(name)
                if folded:
                    words[folded] = stage.id
        return words

    def _detect(self, query: str) -> tuple[str, str | None, str | None]:
        """Split off stage and kind words: (rest of the query, stage id, kind)."""
        words = fold(query).split()
        stage = kind = None
        rest = []
        for i, word in enumerate(words):
            pair = " ".join(words[i:i + 2])
            if stage is None and pair in self.stage_words:
                stage = self.stage_words[pair]
                continue
            if stage is None and word in self.stage_words:
                stage = self.stage_words[word]
                continue
            if stage is None and len(word) > 6:
                best = process.extractOne(word, list(self.stage_words), scorer=fuzz.ratio, score_cutoff=85)
                if best:
                    stage = self.stage_words[best[0]]
                    continue
            found_kind = next((k for k, ws in KIND_WORDS.items() if word in ws), None)
            if found_kind and kind is None:
                kind = found_kind
                continue
            if word not in STOP_WORDS:
                rest.append(word)
        return " ".join(rest), stage, kind

    def search(self, query: str, lang: str = "nb", top: int = 5) -> list[SearchHit]:
        rest, stage, kind = self._detect(query)
        best: dict[int, float] = {}
        if rest:
            scored = process.extract(rest, self.names, scorer=fuzz.WRatio, limit=max(50, top * 10),
                                     score_cutoff=50)
            for _name, score, pos in scored:
                owner = self.owner[pos]
                best[owner] = max(best.get(owner, 0.0), float(score))
        else:
            for index, (collection, entry) in enumerate(self.entries):
                if (kind and KIND_OF[collection] == kind) or (stage and collection == "stages" and entry.id == stage):
                    best[index] = 90.0
        hits = []
        for index, score in best.items():
            collection, entry = self.entries[index]
            entry_kind = KIND_OF[collection]
            stages = _stages_of(entry, collection)
            if kind is not None:
                score += 8 if entry_kind == kind else -10
            if stage is not None:
                score += 8 if stage in stages else (-15 if stages else -5)
            hits.append((score, index))
        hits.sort(key=lambda pair: -pair[0])
        return [self._hit(index, score, lang) for score, index in hits[:top]]

    def _hit(self, index: int, score: float, lang: str) -> SearchHit:
        collection, entry = self.entries[index]
        title = entry.title if isinstance(entry.title, str) else entry.title.get(lang)
        stages = _stages_of(entry, collection)
        return SearchHit(KIND_OF[collection], entry.id, collection, title, min(score, 100.0),
                         stages[0] if len(stages) == 1 else None, list(getattr(entry, "tags", []) or []),
                         _snippet(entry, lang))

    def is_good(self, hits: list[SearchHit]) -> bool:
        return bool(hits) and hits[0].score >= NO_MATCH_SCORE
