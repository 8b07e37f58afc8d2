"""Read and compile the screen's word lists (``knowledge/lexicon/*.yaml``) into :class:`ScreenRules`.

Every problem a trainer can make (an unknown concept, a misspelt key, a bad level) is reported as
``path:line: field: message``, like the rest of the knowledge, and a bad file never replaces rules
that work: the caller keeps the last good :class:`ScreenRules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bot.knowledge.problems import Problem
from bot.knowledge.yamlfile import LineDict, YamlReadError, read_yaml
from bot.language.forms import LANGUAGES, forms_table
from bot.language.patterns import PatternError, PatternSet, Vocabulary, lemmas_in
from bot.language.scopes import ScopeRule, Scopes
from bot.language.text import fold
from bot.paths import knowledge_dir

WEIGHTS = {"acute": 1.0, "possible": 0.5, "cue": 0.5, "hint": 0.25, "reassurance": -0.5}
"""What one current signal of each level adds to a message's score. A ``hint`` (a risk named in
passing, "overdose") needs another sign to reach ``possible``; a ``reassurance`` ("han har det fint
nå") takes a weak sign back, never an acute one."""
ACUTE_SCORE = 1.0
POSSIBLE_SCORE = 0.5
KINDS = ("intent_plan", "death_wish", "farewell", "means", "act", "overdose_signs", "threat",
         "command_hallucinations", "self_harm", "immediacy", "context", "mention", "reassurance")
TOPICS = ("suicide", "self_harm", "overdose", "violence")
FRAME_REACH = ("sentence", "forward")
NEGATION_LIMIT = 8
BACKWARD_LIMIT = 6
PAST_LIMIT = 60


@dataclass(frozen=True)
class Signal:
    """One entry of ``crisis.signals``: what a match means."""

    id: str
    kind: str
    topic: str
    level: str

    @property
    def weight(self) -> float:
        return WEIGHTS[self.level]


LANGUAGE_KEYS = ("variants", "abbreviations", "clause_words", "concepts", "negation", "time", "answers")
ANSWER_WORDS = ("yes", "no", "negation", "unsure", "problem", "irregular")
"""The kinds of words in a typed answer to a yes/no question (see ``bot.assessment.answers``)."""


@dataclass
class ScreenRules:
    """Everything the screen needs, compiled: the text layer's rules and the crisis signals."""

    variants: dict[str, str] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    clause_words: frozenset[str] = frozenset()
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    """One word index for every pattern below: each word of a message is looked up once."""
    scopes: Scopes | None = None
    """Negation, time and frames: every trigger that can set a signal aside."""
    signals: PatternSet = field(default_factory=PatternSet)
    unless: PatternSet = field(default_factory=PatternSet)
    answers: PatternSet = field(default_factory=PatternSet)
    """The words of a typed yes/no answer (``language.answers``), each match's payload its kind."""

    def __post_init__(self) -> None:
        self.signals.vocabulary = self.unless.vocabulary = self.answers.vocabulary = self.vocabulary
    sources: list[tuple[str, str]] = field(default_factory=list)
    """(lang, pattern) of everything compiled: what the word-form table must cover."""
    concepts: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def lemmas(self) -> dict[str, set[str]]:
        """Lemmas whose inflections the generated form table should hold."""
        return lemmas_in(self.sources, self.concepts)


def lexicon_schema() -> dict[str, Any]:
    """The JSON Schema of a lexicon file (``iddt-bot kb schema`` writes it as ``lexicon.schema.json``)."""
    patterns = {"type": "array", "items": {"type": "string", "minLength": 1}}
    langs = {"nb": patterns, "da": patterns, "en": patterns}
    by_lang = {"type": "object", "properties": langs, "additionalProperties": False}
    concepts = {"type": "object", "additionalProperties": {
        "type": "object", "properties": {**langs, "all": patterns}, "additionalProperties": False}}
    signal = {"type": "object", "required": ["id", "kind", "topic", "level"], "additionalProperties": False,
              "properties": {"id": {"type": "string", "pattern": "^[a-z0-9_]+$"}, "kind": {"enum": list(KINDS)},
                             "topic": {"enum": list(TOPICS)}, "level": {"enum": list(WEIGHTS)},
                             "unless": by_lang, **langs}}
    frame = {"type": "object", "additionalProperties": False,
             "properties": {"reach": {"enum": list(FRAME_REACH)}, **langs}}
    word_map = {"type": "object", "additionalProperties": {"type": "string"}}
    language = {"type": "object", "additionalProperties": False, "properties": {
        "variants": {"type": "object", "properties": {lang: word_map for lang in langs}, "additionalProperties": False},
        "abbreviations": word_map,
        "clause_words": {"type": "array", "items": {"type": "string"}},
        "concepts": concepts,
        "negation": {"type": "object", "additionalProperties": False,
                     "properties": {"forward": by_lang, "backward": by_lang, "answer": by_lang, "pseudo": by_lang}},
        "time": {"type": "object", "additionalProperties": False, "properties": {"past": by_lang, "now": by_lang}},
        "answers": {"type": "object", "additionalProperties": False,
                    "properties": {kind: by_lang for kind in ANSWER_WORDS}},
    }}
    crisis = {"type": "object", "additionalProperties": False, "properties": {
        "concepts": concepts, "frames": {"type": "object", "additionalProperties": frame},
        "signals": {"type": "array", "items": signal}}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "iddt-bot lexicon file",
            "description": "A file in knowledge/lexicon/: the text layer's word lists (language) or the crisis "
                           "screen's signals (crisis). Patterns: see bot/language/patterns.py.",
            "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
            "properties": {"language": language, "crisis": crisis}}


def read_lexicon_files(folder: Path) -> Iterator[tuple[Path, Any]]:
    """(path, data) of every YAML file in ``folder``; read errors surface in :func:`load_screen_rules`."""
    for path in sorted(folder.glob("*.y*ml")):
        yield path, read_yaml(path)


class _Compiler:
    def __init__(self) -> None:
        self.rules = ScreenRules()
        self.problems: list[Problem] = []
        self.triggers: list[tuple[str, str, ScopeRule]] = []
        self.pseudo: list[tuple[str, str]] = []

    def problem(self, path: Path, data: Any, key: Any, field_name: str, message: str) -> None:
        line = data.key_lines.get(key, data.line) if isinstance(data, LineDict) else getattr(data, "line", 1)
        self.problems.append(Problem(path, line or 1, field_name, message))

    def per_language(self, path: Path, owner: Any, where: str) -> Iterator[tuple[str, str]]:
        """(lang, pattern) pairs of the nb/da/en lists in ``owner``; other keys are reported."""
        for lang in LANGUAGES:
            values = owner.get(lang, []) if isinstance(owner, dict) else []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.problem(path, owner, lang, f"{where}.{lang}", "must be a list of patterns (text)")
                continue
            for value in values:
                yield lang, value

    def compile(self, target: PatternSet, path: Path, owner: Any, where: str, payload: Any) -> None:
        for lang, pattern in self.per_language(path, owner, where):
            try:
                target.add(pattern, lang, payload, self.rules.concepts)
                self.rules.sources.append((lang, pattern))
            except PatternError as exc:
                self.problem(path, owner, lang, f"{where}.{lang}", f"'{pattern}': {exc}")

    def add_concepts(self, path: Path, concepts: Any, where: str) -> None:
        if not isinstance(concepts, dict):
            self.problem(path, concepts, None, where, "must map concept names to {nb, da, en} word lists")
            return
        for name, by_lang in concepts.items():
            if name in self.rules.concepts:
                self.problem(path, concepts, name, f"{where}.{name}", f"concept '{name}' is defined twice")
                continue
            if not isinstance(by_lang, dict) or set(by_lang) - {*LANGUAGES, "all"}:
                self.problem(path, concepts, name, f"{where}.{name}", "must map nb, da, en (or all) to word lists")
                continue
            for lang, words in by_lang.items():
                bad = [w for w in words if not isinstance(w, str) or " " in w.strip()] if isinstance(words, list) else [words]
                if bad:
                    self.problem(path, by_lang, lang, f"{where}.{name}.{lang}",
                                 f"concept words are single words (write phrases as patterns): {bad[0]!r}")
            self.rules.concepts[name] = {lang: list(words) for lang, words in by_lang.items() if isinstance(words, list)}

    # ------------------------------------------------------------------------- language.yaml
    def read_language(self, path: Path, data: Any) -> None:
        for key in data:
            if key not in LANGUAGE_KEYS:
                self.problem(path, data, key, f"language.{key}", f"unknown key ({', '.join(LANGUAGE_KEYS)})")
        variants = data.get("variants", {}) or {}
        for lang, table in variants.items():
            if not isinstance(table, dict):
                self.problem(path, variants, lang, f"language.variants.{lang}", "must map a spelling to its standard word")
                continue
            for spelling, standard in table.items():
                self.rules.variants[fold(str(spelling))] = fold(str(standard))
        abbreviations = data.get("abbreviations", {}) or {}
        if not isinstance(abbreviations, dict):
            self.problem(path, data, "abbreviations", "language.abbreviations", "must map a word, written exactly so, to a word")
        else:
            self.rules.abbreviations = {str(k): fold(str(v)) for k, v in abbreviations.items()}
        self.rules.clause_words = frozenset(fold(w) for w in data.get("clause_words", []) or [])
        self.add_concepts(path, data.get("concepts", {}) or {}, "language.concepts")
        negation = data.get("negation", {}) or {}
        for key, reach, limit in (("forward", "forward", NEGATION_LIMIT), ("backward", "backward", BACKWARD_LIMIT),
                                  ("answer", "previous", PAST_LIMIT)):
            rule = ScopeRule("negation", reach, limit)
            for lang, pattern in self.per_language(path, negation.get(key, {}), f"language.negation.{key}"):
                self.triggers.append((pattern, lang, rule))
        for lang, pattern in self.per_language(path, negation.get("pseudo", {}), "language.negation.pseudo"):
            self.pseudo.append((pattern, lang))
        answers = data.get("answers", {}) or {}
        for kind in answers:
            if kind not in ANSWER_WORDS:
                self.problem(path, answers, kind, f"language.answers.{kind}", f"unknown key ({', '.join(ANSWER_WORDS)})")
            else:
                self.compile(self.rules.answers, path, answers[kind], f"language.answers.{kind}", kind)
        time = data.get("time", {}) or {}
        for name, reach in (("past", "clause"), ("now", "clause")):
            rule = ScopeRule(name, reach, PAST_LIMIT)
            for lang, pattern in self.per_language(path, time.get(name, {}), f"language.time.{name}"):
                self.triggers.append((pattern, lang, rule))
                self.triggers.append((pattern, lang, ScopeRule(f"{name}_sentence", "sentence", PAST_LIMIT)))

    # --------------------------------------------------------------------------- crisis.yaml
    def read_crisis(self, path: Path, data: Any) -> None:
        for key in data:
            if key not in ("concepts", "frames", "signals"):
                self.problem(path, data, key, f"crisis.{key}", "unknown key (concepts, frames, signals)")
        self.add_concepts(path, data.get("concepts", {}) or {}, "crisis.concepts")
        frames = data.get("frames", {}) or {}
        for name, frame in frames.items():
            reach = frame.get("reach", "sentence") if isinstance(frame, dict) else None
            if reach not in FRAME_REACH:
                self.problem(path, frames, name, f"crisis.frames.{name}.reach", f"reach must be one of {', '.join(FRAME_REACH)}")
                continue
            rule = ScopeRule("frame", reach, PAST_LIMIT, within="sentence")
            for lang, pattern in self.per_language(path, frame, f"crisis.frames.{name}"):
                self.triggers.append((pattern, lang, rule))
        seen: set[str] = set()
        for index, raw in enumerate(data.get("signals", []) or []):
            where = f"crisis.signals[{raw.get('id', index) if isinstance(raw, dict) else index}]"
            if not isinstance(raw, dict):
                self.problem(path, data.get("signals"), None, where, "each signal must be a mapping")
                continue
            unknown = set(raw) - {"id", "kind", "topic", "level", "unless", *LANGUAGES}
            for key in sorted(unknown):
                self.problem(path, raw, key, f"{where}.{key}", "unknown key (id, kind, topic, level, unless, nb, da, en)")
            checks = (("kind", KINDS), ("topic", TOPICS), ("level", tuple(WEIGHTS)))
            bad = [(k, allowed) for k, allowed in checks if raw.get(k) not in allowed]
            for key, allowed in bad:
                self.problem(path, raw, key, f"{where}.{key}", f"must be one of {', '.join(allowed)}")
            sid = str(raw.get("id", ""))
            if not sid or sid in seen:
                self.problem(path, raw, "id", f"{where}.id", "missing or duplicate id")
            seen.add(sid)
            if bad:  # still check its patterns, so every problem is listed at once
                self.compile(PatternSet(Vocabulary()), path, raw, where, None)
                continue
            signal = Signal(sid, raw["kind"], raw["topic"], raw["level"])
            self.compile(self.rules.signals, path, raw, where, signal)
            if "unless" in raw:
                self.compile(self.rules.unless, path, raw["unless"], f"{where}.unless", sid)

    def finish(self) -> None:
        try:
            self.rules.scopes = Scopes(self.triggers, self.pseudo, self.rules.concepts, self.rules.vocabulary)
            self.rules.sources.extend((lang, pattern) for pattern, lang, _ in self.triggers)
            self.rules.sources.extend((lang, pattern) for pattern, lang in self.pseudo)
        except PatternError as exc:
            self.problems.append(Problem(Path("language.yaml"), 1, "language", str(exc)))


def load_screen_rules(folder: Path) -> tuple[ScreenRules | None, list[Problem]]:
    """Compile the lexicon folder; (None, problems) when anything is wrong."""
    compiler = _Compiler()
    files: dict[str, tuple[Path, Any]] = {}
    try:
        for path, data in read_lexicon_files(folder):
            if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in ("language", "crisis"):
                compiler.problems.append(Problem(path, 1, "(file)", "a lexicon file holds one key: language or crisis"))
                continue
            key = next(iter(data))
            if key in files:
                compiler.problems.append(Problem(path, 1, key, f"'{key}' is defined twice (also in {files[key][0]})"))
                continue
            files[key] = (path, data[key])
    except YamlReadError as exc:
        compiler.problems.append(exc.problem)
    for key in ("language", "crisis"):
        if key not in files:
            compiler.problems.append(Problem(folder, 0, key, f"no lexicon file defines '{key}'"))
    if compiler.problems:
        return None, compiler.problems
    compiler.read_language(*files["language"])  # first: its concepts and variants serve the crisis file
    compiler.read_crisis(*files["crisis"])
    compiler.finish()
    return (None, compiler.problems) if compiler.problems else (compiler.rules, [])


def lexicon_problems(folder: Path) -> list[Problem]:
    """Everything ``kb check`` reports about the lexicon folder: invalid entries, and plain words whose
    inflections are missing from the generated form table (run ``iddt-bot kb forms``)."""
    rules, problems = load_screen_rules(folder)
    if rules is None:
        return problems
    table = forms_table()
    missing = sorted(f"{lang}:{word}" for lang, words in rules.lemmas().items() for word in words
                     if word not in table.get(lang, {}))
    if missing:
        shown = ", ".join(missing[:8]) + (f" … (+{len(missing) - 8})" if len(missing) > 8 else "")
        problems.append(Problem(folder, 0, "word forms",
                                f"{len(missing)} word(s) not in the form table, run `iddt-bot kb forms`: {shown}"))
    return problems


@cache
def bundled_rules() -> ScreenRules:
    """The rules of the bundled knowledge, compiled once per process (about 0.1 s)."""
    rules, problems = load_screen_rules(knowledge_dir() / "lexicon")
    if rules is None:
        raise ValueError("the bundled lexicon is invalid:\n" + "\n".join(str(p) for p in problems))
    return rules
