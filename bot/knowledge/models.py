"""Typed models of the knowledge base.

Every YAML file under ``knowledge/`` is a mapping whose top-level keys name collections (for
example ``interventions:``); a collection may be split over several files. Each model lists, in
``refs``, which of its fields point at which collection, so the validator can check every
cross-reference without knowing the models one by one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LANGS = ("nb", "en")
STAGE_IDS = ("engagement", "persuasion", "active_treatment", "relapse_prevention")
ID_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
MAX_ID = 56
"""An entry's id can become a button that opens it (``o|o:rf:<id>``), and Telegram's button data holds
64 bytes."""


def field_value(entry: BaseModel, name: str, default: Any = None) -> Any:
    """A field the entry's type may not have: read from the instance dict, skipping pydantic's
    missing-attribute path (an exception per miss, and look-ups try a dozen optional fields)."""
    return entry.__dict__.get(name, default)


class Strict(BaseModel):
    """Base: unknown keys are errors (a trainer's typo must not vanish silently)."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class Text(Strict):
    """A text in bokmål and English (both required), and in Danish where someone has written it."""

    nb: str = Field(min_length=1)
    en: str = Field(min_length=1)
    da: str | None = Field(default=None, min_length=1)
    """Optional: Danish users read bokmål where no Danish text exists (the languages are close)."""

    def get(self, lang: str) -> str:
        """The text in ``lang``; Danish falls back to bokmål, anything else to English."""
        if lang == "nb":
            return self.nb
        if lang == "da":
            return self.da or self.nb
        return self.en


class Entry(Strict):
    """Fields shared by every look-up entry: an id, a title and words for search."""

    refs: ClassVar[dict[str, str]] = {}
    id: str = Field(pattern=ID_PATTERN, max_length=MAX_ID)
    title: Text
    synonyms: list[str] = []
    tags: list[str] = []


class Stage(Entry):
    refs: ClassVar[dict[str, str]] = {"change_stages": "change_stages"}
    id: Literal["engagement", "persuasion", "active_treatment", "relapse_prevention"]
    order: int = Field(ge=1, le=4)
    sats_levels: list[int]
    definition: Text
    goal: Text
    picture: list[Text] = Field(min_length=1)
    find_out: list[Text] = Field(min_length=1)
    change_stages: list[str] = Field(min_length=1)


class SatsLevel(Entry):
    refs: ClassVar[dict[str, str]] = {"stage": "stages", "change_stage": "change_stages"}
    level: int = Field(ge=1, le=8)
    stage: str
    definition: Text
    deciding: Text
    change_stage: str
    find_out: list[Text] = []


class ChangeStage(Entry):
    description: Text


class Branch(Strict):
    """Where an answer in the SATS tree leads: another question, a level, or a range of levels."""

    next: str | None = None
    level: int | None = Field(default=None, ge=1, le=8)
    range: list[int] | None = Field(default=None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _exactly_one(self) -> Branch:
        given = [name for name in ("next", "level", "range") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of next, level or range")
        if self.range is not None and not (1 <= self.range[0] < self.range[1] <= 8):
            raise ValueError("range must be two levels [low, high] with 1 <= low < high <= 8")
        return self


class SatsQuestion(Strict):
    """One question of the SATS decision tree."""

    id: str = Field(pattern=ID_PATTERN)
    question: Text
    help: Text | None = None
    find_out: Text
    yes: Branch
    no: Branch
    unsure: Branch | None = None
    """When absent, "not sure" gives the range of every level reachable from this question."""


class SatsTree(Strict):
    root: str
    questions: list[SatsQuestion] = Field(min_length=1)


class Intervention(Entry):
    refs: ClassVar[dict[str, str]] = {
        "stages": "stages",
        "elements": "elements",
        "resources": "resources",
        "research_topics": "research_topics",
        "life_areas": "life_areas",
    }
    stages: list[str] = Field(min_length=1)
    category: Literal["organisation", "psychotherapeutic", "social"]
    summary: Text
    why: Text
    elements: list[str] = Field(min_length=1)
    resources: list[str] = []
    research_topics: list[str] = []
    life_areas: list[str] = []
    priority: int = Field(default=5, ge=1, le=9)


class Trap(Entry):
    refs: ClassVar[dict[str, str]] = {"stages": "stages", "elements": "elements"}
    stages: list[str] = Field(min_length=1)
    looks_like: Text
    why_harmful: Text
    instead: Text
    elements: list[str] = []


class Element(Entry):
    refs: ClassVar[dict[str, str]] = {
        "stages": "stages",
        "partners": "services",
        "resources": "resources",
        "research_topics": "research_topics",
        "chapters": "chapters",
        "life_areas": "life_areas",
    }
    description: Text
    stages: list[str] = Field(min_length=1)
    partners: list[str] = Field(min_length=1)
    resources: list[str] = []
    research_topics: list[str] = []
    chapters: list[str] = []
    life_areas: list[str] = []
    """Life areas that, when affected, suggest focusing on this element."""
    core: bool = False
    """Suggested for focus at every stage (for example the relationship)."""


class Service(Entry):
    contributes: Text
    url: str | None = None


class Resource(Entry):
    refs: ClassVar[dict[str, str]] = {"elements": "elements"}
    description: Text
    url: str | None
    provider: str | None = None
    elements: list[str] = []


class ResearchTopic(Entry):
    pass


class ResearchItem(Strict):
    refs: ClassVar[dict[str, str]] = {"topic": "research_topics"}
    id: str = Field(pattern=ID_PATTERN, max_length=MAX_ID)
    title: str = Field(min_length=3)
    """The exact original title (not translated)."""
    year: int = Field(ge=1900, le=2100)
    topic: str
    kind: Literal["article", "review", "thesis", "guideline", "book", "report"] = "article"
    authors: str | None = None
    link: str = Field(pattern=r"^https?://")
    tags: list[str] = []


class Webinar(Entry):
    number: int = Field(ge=1, le=6)
    part: int = Field(ge=1, le=2)
    topic: Text
    covers: Text
    reflection: list[Text] = []
    url: str | None = None


class Chapter(Entry):
    refs: ClassVar[dict[str, str]] = {"elements": "elements"}
    number: int = Field(ge=1, le=21)
    covers: Text
    elements: list[str] = []


class GlossaryTerm(Entry):
    term: str = Field(min_length=1)
    definition: Text


class CoreQuestion(Entry):
    number: int = Field(ge=1, le=7)
    question: Text
    help: Text


class LifeArea(Entry):
    pass


class Risk(Entry):
    pass


class Substance(Entry):
    pass


class ScreeningTool(Entry):
    description: Text
    who: Text | None = None
    url: str | None = None


class CrisisNumber(Strict):
    number: str
    name: Text
    when: Text


class CrisisLocale(Entry):
    """Emergency guidance for one country; ``id`` is the locale (``no``, ``dk``)."""

    steps: list[Text] = Field(min_length=1)
    numbers: list[CrisisNumber] = Field(min_length=1)


class Article(Entry):
    """Free-form knowledge (implementation, training, supervision, integrated care, ...)."""

    refs: ClassVar[dict[str, str]] = {"related": "*"}
    topic: str = Field(pattern=ID_PATTERN)
    body: Text
    points: list[Text] = []
    related: list[str] = []
    url: str | None = None


class FidelityItem(Entry):
    scale: Literal["iddt", "goi"]
    code: str
    description: Text


class Case(Entry):
    refs: ClassVar[dict[str, str]] = {
        "interventions": "interventions",
        "traps": "traps",
        "substances": "substances",
    }
    number: int = Field(ge=1)
    sats_level: int = Field(ge=1, le=8)
    vignette: Text
    deciding_facts: list[Text] = Field(min_length=1)
    interventions: list[str] = Field(min_length=1)
    traps: list[str] = []
    substances: list[str] = []
    questions: list[Text] = []


COLLECTIONS: dict[str, type[BaseModel]] = {
    "stages": Stage,
    "sats_levels": SatsLevel,
    "change_stages": ChangeStage,
    "interventions": Intervention,
    "traps": Trap,
    "elements": Element,
    "services": Service,
    "resources": Resource,
    "research_topics": ResearchTopic,
    "research": ResearchItem,
    "webinars": Webinar,
    "chapters": Chapter,
    "glossary": GlossaryTerm,
    "core_questions": CoreQuestion,
    "life_areas": LifeArea,
    "risks": Risk,
    "substances": Substance,
    "screening_tools": ScreeningTool,
    "crisis": CrisisLocale,
    "articles": Article,
    "fidelity_items": FidelityItem,
    "cases": Case,
}
"""List-valued collections: each item is one model instance with a unique ``id``."""

SINGLE_OBJECTS: dict[str, type[BaseModel]] = {"sats_tree": SatsTree}
"""Collections that are one object rather than a list."""

UI_KEY = "ui"
"""``ui:`` maps string keys to :class:`Text` (all user-facing interface strings)."""


def item_id(item: Any) -> str:
    """The id of any collection item (used for ``kb export`` and references)."""
    return str(item.id)
