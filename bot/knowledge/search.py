"""Search over the knowledge base (J2), with an index built once per knowledge load.

How a query is answered, in plain steps (every score can be explained from these):

1. **Normalise.** Lower-case, punctuation stripped, æ/ø/å folded (``fold``), so "tilbakefal", "bolg"
   and "motiverande intervju" meet the same index as the correctly spelt words.
2. **Read the query.** Norwegian and English stop words are dropped. Stage words ("overtalelsesfasen",
   "active treatment") name a stage; kind words ("feller", "tiltak", "forskning", "webinar", "kapittel")
   name the kind of entry wanted; "hva betyr" / "what does … mean" asks for a definition. These words
   steer the ranking and count less as content.
3. **Match words.** Each remaining word is matched against the index vocabulary: exactly, by a crude
   nb/en stem, as a prefix of a longer word (compounds), or with a typo (rapidfuzz ``ratio``).
4. **Score entries.** Names (titles in both languages, synonyms, tags, terms) weigh most; key body
   words (summaries, definitions, …) less. An entry scores by its best-covered name — how much of the
   query it covers and how much of the name the query covers — or by the query words it covers over
   all its fields, whichever is higher; rare words (idf) count more than common ones.
5. **Steer.** The wanted kind and stage raise entries of that kind and stage (a stage filter when the
   query is only "kind + stage", e.g. "feller i overtalelsesfasen" lists the traps of persuasion), an
   entry matched through a name in the user's language ranks a little higher, and main entries
   (stages, elements, interventions, traps) win ties over chapters and single studies.
6. **Judge.** Below :data:`NO_MATCH_SCORE` there is no good match; the chat then offers the closest
   topics instead of an answer (``bot.engine.lookup.search_answer``).

Only entries sharing a word with the query are scored, through posting lists, so a query costs about
the same on a knowledge base many times larger.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from bot.knowledge.models import field_value
from bot.language.text import fold_phrase, normalise

if TYPE_CHECKING:  # the index is built by the knowledge base it searches (KnowledgeBase.index)
    from bot.knowledge.base import KnowledgeBase

SEARCHABLE = ("stages", "sats_levels", "change_stages", "interventions", "traps", "elements", "services",
              "resources", "research", "research_topics", "webinars", "chapters", "glossary", "core_questions",
              "screening_tools", "articles", "fidelity_items", "risks")
KIND_OF = {"stages": "stage", "sats_levels": "sats_level", "change_stages": "change_stage",
           "interventions": "intervention", "traps": "trap", "elements": "element", "services": "service",
           "resources": "resource", "research": "research", "research_topics": "research_topic",
           "webinars": "webinar", "chapters": "chapter", "glossary": "glossary", "core_questions": "core_question",
           "screening_tools": "screening_tool", "articles": "article", "fidelity_items": "fidelity_item",
           "risks": "risk"}

NO_MATCH_SCORE = 55.0
"""Below this the best hit is not a good answer: say so and offer the closest topics."""

# Words that say which kind of entry is wanted (folded). A compound ending in one counts too
# ("screeningverktoy"), see :func:`_kind_and_head`.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "trap": ("felle", "feller", "fellene", "fella", "fallgruve", "fallgruver", "fallgruvene", "unnga", "unngaa",
             "trap", "traps", "pitfall", "pitfalls", "avoid"),
    "intervention": ("tiltak", "tiltaka", "tiltakene", "intervensjon", "intervensjoner", "intervensjonene",
                     "intervention", "interventions", "strategi", "strategier", "strategy", "strategies"),
    "research": ("forskning", "forskningen", "studie", "studier", "studiene", "research", "study", "studies",
                 "evidens", "evidence", "artikkel", "artikler", "publikasjoner", "papers", "litteratur",
                 "literature"),
    "resource": ("ressurs", "ressurser", "ressursene", "resource", "resources", "lenke", "lenker", "link",
                 "links", "kurs", "kurset", "course", "courses", "nettside", "nettsted", "website", "bok", "book",
                 "elaering", "elearning", "opplaeringstilbud"),
    "webinar": ("webinar", "webinaret", "webinarer", "webinarene", "webinars", "video", "videoer", "videos",
                "foredrag", "forelesning"),
    "chapter": ("kapittel", "kapitlet", "kapitler", "kapitlene", "chapter", "chapters", "manual", "manualen",
                "handbok", "handboka"),
    "screening_tool": ("verktoy", "verktoyet", "verktoyene", "skjema", "skjemaer", "tool", "tools",
                       "questionnaire", "instrument", "instrumenter", "test", "tester"),
    "service": ("tjeneste", "tjenester", "tjenesten", "instans", "instanser", "samarbeidspartner",
                "samarbeidspartnere", "service", "services", "agency", "agencies"),
    "element": ("element", "elementer", "elementet", "elementene", "hovedelement", "hovedelementer",
                "component", "components"),
    "fidelity_item": ("punkt", "item"),
    "sats_level": ("niva", "nivaet", "nivaer", "nivaene", "level", "levels"),
    "stage": ("stadier", "stadiene", "stages", "faser", "fasene", "phases"),
}
ALSO_KINDS = {"research": ("research_topic", "research"), "stage": ("stage", "sats_level")}
"""Kinds a kind word also asks for (a research question is answered by topics and by studies)."""
DEFINE_WORDS = frozenset({"betyr", "betydning", "betydningen", "definisjon", "definisjonen", "defineres",
                          "definer", "forklar", "forklaring", "begrep", "begrepet", "ordliste", "mean", "means",
                          "meaning", "definition", "define", "glossary", "term"})
WHAT_IS = (("hva", "er"), ("hva", "betyr"), ("what", "is"), ("what", "are"), ("what", "does"), ("whats",))


def _words(text: str) -> list[str]:
    return text.split()


# Matched before æ/ø/å are folded (see content_words), so both "på" and "pa" are listed.
STOP_WORDS = frozenset(_words("""
og i jeg du han hun hen vi dere de den det denne dette disse en et ei er var vaere blir ble bli som pa for
med til av om at a har hadde hva hvordan hvorfor hvem hvilke hvilken hvilket nar kan kunne skal skulle vil
ville ma matte bor burde seg sin sitt sine meg deg oss dem min mitt mine din ditt dine var vart vare noe
noen sa da der her na fra etter ved mot over under mellom eller men ogsa bare litt mye mer mest enn slik
sann gjor gjore gjort gjores hjelpe hjelp faar far fa gi gir fikk ha tar ta kommer komme ting opp ut inn
hos ikkje ja nei jo hvis dersom fordi nok veldig helt alle alt annen andre hver hvert egen eget egne
pasienten pasient pasienter pasientene personen person brukeren bruker klienten klient
the a an of in on for to and or what how why who whom which when where is are was were be been being do does
did doing i we you he she they it its my our your their his her with about at by from as into can could should
would will shall may might must this that these those there here me us them if so then than there any some
get gets got have has had having keep keeps kept make makes need needs one ones someone something tell
patient patients client clients person people user someone please after before until only just also very
still again too much many more most other such own same each every both
hei hallo takk tusen hi hello thanks thank ok okay
på når må måtte bør så nå få får gjør gjøre gjøres også vår vårt våre være vært sånn å hvordan
forskjell forskjellen forskjellene difference differences between mener tenker lurer lure sporsmal spørsmål
question questions eksempel eksempler example examples beste best mate måte måter way ways tips rad råd
advice viktig viktigste important typisk typical vanlig vanlige common god gode good riktig riktige right
fasen fase stage stadiet stadium phase
"""))

# Kept out of the stop words on purpose: "ikke"/"not" (part of names such as "ikke møtt"), "uten",
# numbers (webinar 3, kapittel 8, SATS 4).

FIELD_WEIGHT = {"title": 1.0, "term": 1.0, "code": 1.0, "synonym": 0.95, "tag": 0.75}
BODY_WEIGHT = 0.5
BODY_FIELDS = ("summary", "definition", "description", "contributes", "covers", "looks_like", "why_harmful",
               "instead", "body", "question", "help", "deciding", "goal", "why", "topic")
BODY_LISTS = ("picture", "points")
KIND_PRIOR = {"stage": 3.0, "element": 2.5, "intervention": 2.0, "trap": 2.0, "glossary": 1.5, "sats_level": 1.5,
              "change_stage": 1.0, "core_question": 1.0, "article": 1.0, "service": 1.0, "screening_tool": 1.0,
              "chapter": 0.5, "resource": 0.5, "research_topic": 0.5, "webinar": 0.3, "fidelity_item": 0.0,
              "research": 0.0}
STEER_WEIGHT = 0.35
"""How much a stage or kind word counts as content when the query has other words."""
CACHE_SIZE = 4096
MAX_EXPANSIONS = 12
RELATED_SIM = 0.75
"""Similarity of a word to another name of the same glossary term."""
KIND_BONUS, KIND_PENALTY = 15.0, 8.0
"""Points for (and against) entries of (not of) the kind a query asks for ("ressurser om IPS")."""
TITLE_BONUS = 4.0
"""Extra points when the query's words are in the entry's own title (not only in a synonym)."""

_SUFFIXES = ("heten", "ingen", "inger", "ingene", "ende", "ene", "ane", "ing", "ies", "ied", "ert", "est",
             "er", "en", "et", "ed", "es", "ly", "e", "a", "s")
_PARENS = re.compile(r"\(([^()]*)\)")
_DOUBLE = re.compile(r"([bdfgklmnprstv])\1$")


def stem(word: str) -> str:
    """A crude, shared nb/en stem: one common ending stripped, a final double consonant made single."""
    if len(word) > 4 and not word.isdigit():
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    return _DOUBLE.sub(r"\1", word) if len(word) > 5 else word


def content_words(text: str) -> list[str]:
    """Folded words of ``text`` without stop words. Stop words are matched before folding, so "før"
    ("before", a word in "før-overveielse") is kept though its folded form "for" is a stop word."""
    kept = normalise(text).split()
    return [folded for word, folded in zip(kept, fold_phrase(text).split(), strict=True) if word not in STOP_WORDS]


_KIND_BY_WORD = {word: kind for kind, words in KIND_WORDS.items() for word in words}
_KIND_ENDINGS = {"verktoy": "screening_tool", "skjema": "screening_tool", "forskning": "research",
                 "kapittel": "chapter", "webinar": "webinar"}


def _kind_of_word(word: str) -> str | None:
    """The kind a word asks for: exactly, with a typo ("forskining"), or as a compound's ending."""
    return _kind_and_head(word)[0]


def _kind_and_head(word: str) -> tuple[str | None, str | None]:
    """(kind, the compound's first part when the kind comes from its ending: "screening" for
    "screeningverktoy")."""
    kind = _KIND_BY_WORD.get(word)
    if kind or len(word) < 6 or not word.isalpha():
        return kind, None
    best = process.extractOne(word, list(_KIND_BY_WORD), scorer=fuzz.ratio, score_cutoff=88)
    if best:
        return _KIND_BY_WORD[best[0]], None
    if len(word) > 8:
        for ending, kind in _KIND_ENDINGS.items():
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                head = word[: -len(ending)]
                return kind, (head[:-1] if head.endswith("s") and len(head) > 4 else head)
    return None, None


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


@dataclass
class Query:
    """What :meth:`SearchIndex.analyse` read from a query."""

    text: str
    words: list[str]
    """Content words (folded), stage and kind words included."""
    weights: list[float]
    """How much each content word counts (stage and kind words less, when there is other content)."""
    stage: str | None = None
    kinds: tuple[str, ...] = ()
    define: float = 0.0
    """How strongly a definition is asked for (0, weak 0.5, strong 1)."""
    roles: list[str] = field(default_factory=list)
    """Per word: "content", "stage", "kind" or "define"."""

    @property
    def has_content(self) -> bool:
        return "content" in self.roles

    @property
    def listing(self) -> bool:
        """Only kind and stage words ("feller i overtalelsesfasen", "tiltak"): list that kind (at that stage)."""
        return bool(self.kinds) and not self.has_content


@dataclass
class _Name:
    entry: int
    field: str
    lang: str | None
    words: tuple[str, ...]
    weight: float


def _stages_of(entry: Any, collection: str) -> tuple[str, ...]:
    if collection == "stages":
        return (entry.id,)
    if collection == "sats_levels":
        return (entry.stage,)
    return tuple(getattr(entry, "stages", ()) or ())


def _named_fields(entry: Any) -> list[tuple[str, str | None, str]]:
    """(field, language, text) of every name of an entry."""
    out: list[tuple[str, str | None, str]] = []
    title = getattr(entry, "title", None)
    if isinstance(title, str):
        out.append(("title", None, title))
    elif title is not None:
        out += [("title", "nb", title.nb), ("title", "en", title.en)]
    out += [("synonym", None, s) for s in getattr(entry, "synonyms", []) or []]
    out += [("tag", None, t.replace("_", " ")) for t in getattr(entry, "tags", []) or []]
    for name in ("term", "code"):
        value = getattr(entry, name, None)
        if value:
            out.append((name, None, value))
    topic = getattr(entry, "topic", None)
    if hasattr(topic, "nb"):
        out += [("tag", "nb", topic.nb), ("tag", "en", topic.en)]
    for field_name, lang, text in list(out):
        if field_name == "title" and "(" in text:  # "Motiverende intervju (MI)": also each part alone
            outside = _PARENS.sub(" ", text).strip()
            out += [("title", lang, outside)] + [("title", lang, inner) for inner in _PARENS.findall(text)]
    return [(f, lang, text) for f, lang, text in out if text]


def _body_text(entry: Any) -> str:
    parts = []
    for name in BODY_FIELDS:
        value = getattr(entry, name, None)
        if hasattr(value, "nb"):
            parts += [value.nb, value.en]
    for name in BODY_LISTS:
        for value in getattr(entry, name, None) or []:
            if hasattr(value, "nb"):
                parts += [value.nb, value.en]
    return " ".join(parts)


def _snippet(entry: Any, lang: str) -> str:
    for name in ("summary", "definition", "description", "contributes", "covers", "looks_like", "body", "question"):
        value = field_value(entry, name)
        if value is not None and hasattr(value, "get"):
            return value.get(lang)[:200]
    year = field_value(entry, "year")
    return str(year) if year else ""


class SearchIndex:
    """Posting lists from words to names and entries; built once per knowledge load."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.entries: list[tuple[str, Any]] = []
        self.kinds: list[str] = []
        self.stages: list[tuple[str, ...]] = []
        self.names: list[_Name] = []
        self.entry_names: list[list[int]] = []
        name_postings: dict[str, list[int]] = {}
        joined_postings: dict[str, list[int]] = {}
        body_postings: dict[str, list[int]] = {}
        doc_freq: dict[str, int] = {}
        for collection in SEARCHABLE:
            for entry in kb.all(collection):
                index = len(self.entries)
                self.entries.append((collection, entry))
                self.kinds.append(KIND_OF[collection])
                self.stages.append(_stages_of(entry, collection))
                own: list[int] = []
                seen_names: dict[tuple[str, ...], int] = {}
                words_here: set[str] = set()
                for field_name, lang, text in _named_fields(entry):
                    words = tuple(content_words(text))
                    if not words:
                        continue
                    weight = FIELD_WEIGHT[field_name]
                    if words in seen_names:  # the same name twice: keep the strongest field
                        known = self.names[seen_names[words]]
                        if weight > known.weight:
                            known.weight, known.field, known.lang = weight, field_name, lang
                        elif weight == known.weight and known.lang != lang:
                            known.lang = None  # "AUDIT" in both languages belongs to neither
                        continue
                    seen_names[words] = len(self.names)
                    own.append(len(self.names))
                    self.names.append(_Name(index, field_name, lang, words, weight))
                    for word in set(words):
                        name_postings.setdefault(word, []).append(len(self.names) - 1)
                    words_here.update(words)
                    if 1 < len(words) <= 3:  # "rop screen" also as "ropscreen"
                        joined = "".join(words)
                        joined_postings.setdefault(joined, []).append(len(self.names) - 1)
                        words_here.add(joined)
                self.entry_names.append(own)
                body = set(content_words(_body_text(entry))) - words_here
                for word in body:
                    body_postings.setdefault(word, []).append(index)
                for word in words_here | body:
                    doc_freq[word] = doc_freq.get(word, 0) + 1
        self.name_postings = name_postings
        self.joined_postings = joined_postings
        self.body_postings = body_postings
        self.doc_freq = doc_freq
        self.name_entry = [n.entry for n in self.names]
        self.name_weight = [n.weight for n in self.names]
        self.name_len = [len(n.words) for n in self.names]
        self.name_lang = [n.lang for n in self.names]
        self.name_is_title = [n.field == "title" for n in self.names]
        total = max(len(self.entries), 1)
        self.idf = {word: math.log(1 + total / df) for word, df in doc_freq.items()}
        self.unknown_idf = math.log(1 + total) * 0.6
        self.vocab = sorted(doc_freq)
        self.fuzzy_vocab = [w for w in self.vocab if len(w) >= 4 and w.isalpha()]
        self.by_stem: dict[str, list[str]] = {}
        for word in self.vocab:
            self.by_stem.setdefault(stem(word), []).append(word)
        self.related = self._thesaurus()
        self.stage_words = self._stage_words(kb)
        self._stage_word_list = list(self.stage_words)
        self._cache: dict[str, tuple[list[tuple[str, float]], frozenset[str]]] = {}
        self.by_kind: dict[str, list[int]] = {}
        for index, kind in enumerate(self.kinds):
            self.by_kind.setdefault(kind, []).append(index)
        self._lists: dict[tuple[tuple[str, ...], str | None], list[int]] = {}

    def _thesaurus(self) -> dict[str, set[str]]:
        """Word → one-word names of the same glossary term ("sobriety" → "abstinence", "rusfrihet" …)."""
        related: dict[str, set[str]] = {}
        for index, kind in enumerate(self.kinds):
            if kind != "glossary":
                continue
            single = {self.names[n].words[0] for n in self.entry_names[index]
                      if len(self.names[n].words) == 1 and self.names[n].field != "tag"}
            for word in single:
                related.setdefault(word, set()).update(single - {word})
        return related

    # ------------------------------------------------------------------ reading a query
    @staticmethod
    def _stage_words(kb: KnowledgeBase) -> dict[str, str]:
        """Folded stage names and synonyms (one or two words) → stage id. Tags are not stage names."""
        words: dict[str, str] = {}
        for stage in kb.all("stages"):
            for text in (stage.title.nb, stage.title.en, *stage.synonyms):
                folded = fold_phrase(text)
                # whole names only: "stadium 3" must not make "3" a stage word, nor "aktiv fase" "aktiv"
                if folded and len(folded.split()) <= 2 and content_words(text) == folded.split() \
                        and not any(w.isdigit() for w in folded.split()):
                    words[folded] = stage.id
        return words

    def _stage_at(self, words: list[str], i: int) -> tuple[str | None, int]:
        """The stage named at ``words[i]`` (two words or one), and how many words it took."""
        pair = " ".join(words[i:i + 2])
        if i + 1 < len(words):
            if pair in self.stage_words:
                return self.stage_words[pair], 2
            if len(pair) > 9:
                best = process.extractOne(pair, self._stage_word_list, scorer=fuzz.ratio, score_cutoff=88)
                if best and " " in best[0]:
                    return self.stage_words[best[0]], 2
        word = words[i]
        if word in self.stage_words:
            return self.stage_words[word], 1
        if len(word) > 6:
            best = process.extractOne(word, self._stage_word_list, scorer=fuzz.ratio, score_cutoff=85)
            if best and " " not in best[0]:
                return self.stage_words[best[0]], 1
        return None, 0

    def analyse(self, text: str) -> Query:
        raw = fold_phrase(text).split()
        define = 0.0
        if any(w in DEFINE_WORDS for w in raw):
            define = 1.0
        elif any(tuple(raw[i:i + len(p)]) == p for p in WHAT_IS for i in range(len(raw))):
            define = 0.5
        words = content_words(text)
        stage = None
        kinds: list[str] = []
        roles: list[str] = []  # "stage", "kind" or "content" per word
        out: list[str] = []
        i = 0
        while i < len(words):
            found, taken = self._stage_at(words, i)
            if found and (stage is None or stage == found):
                stage = found
                for word in words[i:i + taken]:
                    out.append(word)
                    roles.append("stage")
                i += taken
                continue
            word = words[i]
            i += 1
            kind, head = _kind_and_head(word)
            if kind:
                for k in ALSO_KINDS.get(kind, (kind,)):
                    if k not in kinds:
                        kinds.append(k)
                if head:  # a compound ("kartleggingsverktøy") asks for a kind and says what about
                    if word in self.idf:  # the compound itself is known; its first part counts half
                        out += [word, head]
                        roles += ["content", "head"]
                    else:
                        out.append(head)
                        roles.append("content")
                    continue
                roles.append("kind")
            elif word in DEFINE_WORDS:
                roles.append("define")
            else:
                roles.append("content")
            out.append(word)
        has_content = "content" in roles
        if "stage" in kinds and has_content:  # "stages of change": a plural stage word is content here
            roles = ["content" if r == "kind" and _kind_of_word(w) == "stage" else r
                     for w, r in zip(out, roles, strict=True)]
            asked = [_kind_of_word(w) for w, r in zip(out, roles, strict=True) if r == "kind"]
            kinds = [k for k in kinds if any(k in ALSO_KINDS.get(a, (a,)) for a in asked if a)]
        weights = []
        for role in roles:
            if role == "content":
                weights.append(1.0)
            elif role == "define":
                weights.append(0.0)
            elif role == "head":
                weights.append(0.5)
            elif role == "stage":
                weights.append(STEER_WEIGHT if has_content or kinds else 1.0)
            else:  # a kind word: content only when nothing else is
                weights.append(STEER_WEIGHT if has_content else (0.0 if stage else 1.0))
        return Query(text, out, weights, stage, tuple(kinds), define, roles)

    def _detect(self, query: str) -> tuple[str, str | None, str | None]:
        """(content words, stage id, first kind): kept for callers that only need the stage or kind."""
        q = self.analyse(query)
        rest = " ".join(w for w, weight in zip(q.words, q.weights, strict=True) if weight >= 1.0)
        return rest, q.stage, (q.kinds[0] if q.kinds else None)

    # ------------------------------------------------------------------ matching words
    def _expansions(self, word: str) -> tuple[list[tuple[str, float]], frozenset[str]]:
        """Index words that ``word`` may stand for, with a similarity in 0..1, and the loose ones among
        them (same glossary term, or a prefix of a compound); cached."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        loose: set[str] = set()
        if word in self.idf:
            found[word] = 1.0
        for other in self.by_stem.get(stem(word), ()):
            found.setdefault(other, 0.95)
        for other in self.related.get(word, ()):
            if other not in found:
                found[other] = RELATED_SIM
                loose.add(other)
        if len(word) >= 5 and word.isalpha():
            start = bisect_left(self.vocab, word)
            for other in self.vocab[start:start + 40]:
                if not other.startswith(word):
                    break
                if other not in found:
                    found[other] = 0.7 + 0.2 * len(word) / len(other)
                    loose.add(other)
            for cut in range(len(word) - 1, 4, -1):  # a known word at the start of a longer one
                head = word[:cut]
                if head in self.idf and head not in found and cut / len(word) >= 0.6:
                    found[head] = 0.45 + 0.4 * cut / len(word)
                    loose.add(head)
                    break
        if len(word) >= 4 and word.isalpha():
            cutoff = 85 if len(word) == 4 else 80
            for other, score, _ in process.extract(word, self.fuzzy_vocab, scorer=fuzz.ratio,
                                                   score_cutoff=cutoff, limit=8):
                sim = 0.9 * score / 100
                if found.get(other, 0.0) < sim:
                    found[other] = sim
                    loose.discard(other)
        result = sorted(found.items(), key=lambda pair: (-pair[1], pair[0]))[:MAX_EXPANSIONS]
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[word] = (result, frozenset(loose))
        return self._cache[word]

    # ------------------------------------------------------------------ scoring
    def search(self, query: str | Query, lang: str = "nb", top: int = 5) -> list[SearchHit]:
        """The ``top`` best entries for ``query`` (text, or what :meth:`analyse` made of it)."""
        q = query if isinstance(query, Query) else self.analyse(query)
        if not q.words:
            return []
        if q.listing:  # "feller i overtalelsesfasen", "tiltak", "stadier"
            return self._listing(q, lang, top)
        scores = self._content_scores(q)
        # Steering adds at most `reach` points: entries whose words alone cannot reach the top are skipped.
        reach = self._max_steer(q)
        ordered = sorted(scores.items(), key=lambda item: -item[1][0])
        ranked: list[tuple[float, int]] = []
        best: list[float] = []  # a min-heap of the `top` best scores so far
        for index, (base, name_lang, in_title) in ordered:
            if len(best) >= top and base * 100 + reach < best[0]:
                break
            score = base * 100 + self._steer(q, index, name_lang, lang) + TITLE_BONUS * in_title
            ranked.append((score, index))
            if len(best) < top:
                heapq.heappush(best, score)
            elif score > best[0]:
                heapq.heapreplace(best, score)
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        return [self._hit(index, score, lang) for score, index in ranked[:top]]

    def _gather(self, postings: dict[str, list[int]], matches: list[tuple[str, float]]) -> dict[int, float]:
        """Posting → the best similarity of the words that reach it (dict operations in C, no Python loop)."""
        found: dict[int, float] = {}
        for other, sim in reversed(matches):  # ascending similarity: the best one is written last
            hits = postings.get(other)
            if hits:
                found.update(dict.fromkeys(hits, sim))
        return found

    def _matches(self, word: str) -> list[tuple[str, float]]:
        """:meth:`expand`, less the near-matches so common that they only add noise and time."""
        matches, loose = self._expansions(word)
        common = max(50, 0.02 * len(self.entries))
        return [(w, s) for w, s in matches if w not in loose or self.doc_freq[w] <= common]

    def _content_scores(self, q: Query) -> dict[int, tuple[float, str | None, float]]:
        """Entry → (score 0..1 from words alone, language of the best name, share of the query in its title).

        One pass over the postings of the query's words: per name, how much of the query it covers
        (idf-weighted) and how many of its words are matched; per entry and word, the best field.
        """
        weights: list[float] = []
        per_name: list[dict[int, float]] = []
        per_joined: list[dict[int, float]] = []
        per_body: list[dict[int, float]] = []
        for word, factor in zip(q.words, q.weights, strict=True):
            matches = self._matches(word) if factor > 0 else []
            if factor > 0 and not matches:
                weights.append(self.unknown_idf * factor)
            else:
                top_sim = matches[0][1] if matches else 0.0
                weights.append(max((self.idf[w] for w, s in matches if s == top_sim), default=0.0) * factor)
            per_name.append(self._gather(self.name_postings, matches))
            per_joined.append(self._gather(self.joined_postings, matches))
            per_body.append(self._gather(self.body_postings, matches))
        total = sum(weights)
        if total <= 0:
            return {}
        name_entry, name_weight, name_len = self.name_entry, self.name_weight, self.name_len
        covered: dict[int, float] = {}
        count: dict[int, int] = {}
        field_best: list[dict[int, float]] = []  # per word: entry → best sim × field weight
        for p, weight in enumerate(weights):
            best: dict[int, float] = {}
            field_best.append(best)
            if weight <= 0:
                continue
            names, joined = per_name[p], per_joined[p]
            if not covered:  # the first word: build the tables in one go
                covered = {n: weight * sim for n, sim in names.items()}
                count = dict.fromkeys(names, 1)
            else:
                get_covered, get_count = covered.get, count.get
                for n, sim in names.items():
                    covered[n] = get_covered(n, 0.0) + weight * sim
                    count[n] = get_count(n, 0) + 1
            get_best = best.get
            for n, sim in names.items():
                entry = name_entry[n]
                value = sim * name_weight[n]
                if value > get_best(entry, 0.0):
                    best[entry] = value
            for n, sim in joined.items():  # "ropscreen" for "ROP-Screen": the whole name at once
                extra = sim - names.get(n, 0.0)
                if extra > 0:
                    covered[n] = covered.get(n, 0.0) + weight * extra
                count[n] = count.get(n, 0) + name_len[n]
                entry = name_entry[n]
                if sim * name_weight[n] > best.get(entry, 0.0):
                    best[entry] = sim * name_weight[n]
            for entry, sim in per_body[p].items():
                if sim * BODY_WEIGHT > best.get(entry, 0.0):
                    best[entry] = sim * BODY_WEIGHT
        name_lang, is_title = self.name_lang, self.name_is_title
        scores: dict[int, tuple[float, str | None]] = {}
        in_title: dict[int, float] = {}
        for n, value in covered.items():
            share = value / total
            size = name_len[n]
            matched = count[n] if count[n] < size else size
            score = share * (0.6 + 0.4 * matched / size) * name_weight[n]
            entry = name_entry[n]
            known = scores.get(entry)
            if known is None or score > known[0]:
                scores[entry] = (score, name_lang[n])
            if is_title[n] and share > in_title.get(entry, 0.0):
                in_title[entry] = share
        # Words spread over several names and the body: the idf-weighted best field per word.
        spread: dict[int, float] = {}
        for p, best in enumerate(field_best):
            weight = weights[p] * 0.9 / total
            for entry, value in best.items():
                spread[entry] = spread.get(entry, 0.0) + weight * value
        out: dict[int, tuple[float, str | None, float]] = {}
        for entry, value in spread.items():
            known = scores.get(entry)
            if known is None:
                out[entry] = (value, None, 0.0)
            else:
                out[entry] = (known[0] if known[0] >= value else value, known[1], in_title.get(entry, 0.0))
        return out

    def _max_steer(self, q: Query) -> float:
        """The most points :meth:`_steer` and the title bonus can add for this query."""
        reach = max(KIND_PRIOR.values()) + 2.0 + TITLE_BONUS
        if q.kinds:
            reach += KIND_BONUS
        if q.define:
            reach += 8.0 * q.define
        if q.stage is not None:
            reach += 10.0
        return reach

    def _steer(self, q: Query, index: int, name_lang: str | None, lang: str) -> float:
        kind = self.kinds[index]
        bonus = KIND_PRIOR.get(kind, 0.0)
        if q.kinds:
            bonus += KIND_BONUS if kind in q.kinds else -KIND_PENALTY
        if q.define:
            bonus += (8.0 if kind == "glossary" else 2.0 if kind == "article" else 0.0) * q.define
        if q.stage is not None:
            stages = self.stages[index]
            if q.stage in stages:
                bonus += 6.0 + 4.0 / len(stages)
            elif stages:
                bonus -= 10.0
        if name_lang == lang:
            bonus += 2.0
        return bonus

    def _listing(self, q: Query, lang: str, top: int) -> list[SearchHit]:
        """Entries of the wanted kind (at the wanted stage): the specific ones first, then by priority."""
        key = (q.kinds, q.stage)
        chosen = self._lists.get(key)
        if chosen is None:
            rows = []
            for rank, kind in enumerate(q.kinds):
                for index in self.by_kind.get(kind, ()):
                    stages = self.stages[index]
                    if q.stage is not None and q.stage not in stages:
                        continue
                    primary = 0 if (q.stage is None or (stages and stages[0] == q.stage)) else 1
                    priority = getattr(self.entries[index][1], "priority", 5)
                    rows.append((primary, rank, len(stages) or 9, priority, index))
            chosen = self._lists[key] = [row[-1] for row in sorted(rows)]
        return [self._hit(index, 85.0 - 0.1 * rank, lang) for rank, index in enumerate(chosen[:top])]

    def _hit(self, index: int, score: float, lang: str) -> SearchHit:
        collection, entry = self.entries[index]
        title = entry.title if isinstance(entry.title, str) else entry.title.get(lang)
        stages = self.stages[index]
        return SearchHit(KIND_OF[collection], entry.id, collection, title, max(0.0, min(score, 100.0)),
                         stages[0] if len(stages) == 1 else None, list(field_value(entry, "tags") or []),
                         _snippet(entry, lang))

    def is_good(self, hits: list[SearchHit]) -> bool:
        return bool(hits) and hits[0].score >= NO_MATCH_SCORE
