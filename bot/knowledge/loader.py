"""Read every YAML file of a knowledge folder into a validated :class:`KnowledgeBase`.

All problems are collected (not just the first) so ``iddt-bot kb check`` can list them at once.
"""

from __future__ import annotations

from pathlib import Path
from string import Formatter
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.knowledge.base import KnowledgeBase, Source
from bot.knowledge.models import COLLECTIONS, SINGLE_OBJECTS, UI_KEY, Text
from bot.knowledge.problems import KnowledgeError, Problem, did_you_mean
from bot.knowledge.validate import check_semantics
from bot.knowledge.yamlfile import LineDict, LineList, YamlReadError, line_of, read_yaml

TOP_LEVEL_KEYS = (*COLLECTIONS, *SINGLE_OBJECTS, UI_KEY)


LEXICON_FOLDER = "lexicon"
"""Word lists of the text layer and the safety screen: read by :mod:`bot.safety.lexicon`, not here."""


def knowledge_files(folder: Path) -> list[Path]:
    """Every YAML file below ``folder`` except the lexicon folder, in a stable order."""
    files = [p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
             and LEXICON_FOLDER not in p.relative_to(folder).parts[:-1]]
    return sorted(files)


def describe_errors(exc: ValidationError, model: type[BaseModel]) -> list[tuple[tuple, str]]:
    """Turn pydantic errors into (location, trainer-friendly message) pairs."""
    out = []
    errors = exc.errors()
    union_branches = [tuple(e["loc"]) for e in errors if any(_is_type_tag(p) for p in e["loc"])]
    for err in errors:
        raw_loc = tuple(err["loc"])
        kind = err["type"]
        if kind in _TYPE_MISMATCH and any(len(other) > len(raw_loc) and other[:len(raw_loc) - 1] == raw_loc[:-1]
                                          for other in union_branches):
            continue  # the value matched another branch of a union better; report that one
        loc = tuple(p for p in raw_loc if not _is_type_tag(p))
        if kind == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            message = f"unknown key '{loc[-1]}'{did_you_mean(str(loc[-1]), allowed)}"
        elif kind == "missing" and loc and loc[-1] in ("nb", "en"):
            message = f"missing translation '{loc[-1]}'"
        elif kind == "missing":
            message = MISSING_HINTS.get((model.__name__, str(loc[-1]) if loc else ""), "required field is missing")
        else:
            message = err["msg"].removeprefix("Value error, ")
        out.append((loc, message))
    return out


MISSING_HINTS = {
    ("Case", "sats_level"): "the case has no gold level: give sats_level (1-8), decided by the rules in sats.yaml",
    ("SatsTree", "yes"): "dead end: the answer 'yes' leads nowhere (give next, level or range)",
    ("SatsTree", "no"): "dead end: the answer 'no' leads nowhere (give next, level or range)",
}
"""Clearer messages for a missing field (model name, field) a trainer is likely to forget."""

_TYPE_MISMATCH = {"string_type", "list_type", "int_type", "dict_type", "model_type", "bool_type", "float_type"}
_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def _is_type_tag(part: object) -> bool:
    """Pydantic puts union branch names (``str``, ``list[OptionDef]``) into error locations."""
    return isinstance(part, str) and (part in _TAGS or "[" in part or part[:1].isupper())


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the (nested) model found at ``loc``, for "did you mean" hints."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel class inside ``list[X]`` / ``X | None`` annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _field_name(collection: str, label: str, loc: tuple) -> str:
    name = f"{collection}[{label}]"
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


class _Reader:
    """Accumulates items and problems over all files of one folder."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.items: dict[str, dict[str, Any]] = {name: {} for name in COLLECTIONS}
        self.singles: dict[str, Any] = {}
        self.ui: dict[str, Text] = {}
        self.sources: dict[tuple[str, str], Source] = {}
        self.failed: set[str] = set()
        """Single objects that were present but invalid (already reported; not "missing")."""

    def add(self, path: Path, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(path, line, field, message))

    def read_file(self, path: Path) -> None:
        try:
            data = read_yaml(path)
        except YamlReadError as exc:
            p = exc.problem
            self.add(p.path, p.line, "(file)", p.message)
            return
        if data is None:
            return
        if not isinstance(data, LineDict):
            self.add(path, getattr(data, "line", 1), "(file)", "a knowledge file must be a mapping of collections")
            return
        for key, value in data.items():
            line = data.key_lines.get(key, 1)
            if key in COLLECTIONS:
                self.read_collection(path, key, value, line)
            elif key in SINGLE_OBJECTS:
                self.read_single(path, key, value, line)
            elif key == UI_KEY:
                self.read_ui(path, value, line)
            else:
                hint = did_you_mean(str(key), TOP_LEVEL_KEYS)
                self.add(path, line, str(key), f"unknown collection{hint}")

    def read_collection(self, path: Path, name: str, value: Any, line: int) -> None:
        if not isinstance(value, LineList):
            self.add(path, line, name, "must be a list of entries")
            return
        model = COLLECTIONS[name]
        for index, raw in enumerate(value):
            item_line = value.item_lines[index]
            label = str(raw.get("id", index)) if isinstance(raw, dict) else str(index)
            if not isinstance(raw, dict):
                self.add(path, item_line, f"{name}[{index}]", "each entry must be a mapping")
                continue
            try:
                item = model.model_validate(dict(raw))
            except ValidationError as exc:
                for loc, message in describe_errors(exc, model):
                    self.add(path, line_of(raw, loc, item_line), _field_name(name, label, loc), message)
                continue
            key = item.id
            if key in self.items[name]:
                first = self.sources[(name, key)]
                self.add(path, item_line, f"{name}[{key}].id", f"duplicate id '{key}' (first at {first.path}:{first.line})")
                continue
            self.items[name][key] = item
            self.sources[(name, key)] = Source(path, item_line, raw)

    def read_single(self, path: Path, name: str, value: Any, line: int) -> None:
        if name in self.singles:
            self.add(path, line, name, f"'{name}' is defined twice")
            return
        model = SINGLE_OBJECTS[name]
        try:
            self.singles[name] = model.model_validate(value)
        except ValidationError as exc:
            for loc, message in describe_errors(exc, model):
                self.add(path, line_of(value, loc, line), _field_name(name, "", loc).replace("[]", ""), message)
            self.failed.add(name)
            return
        self.sources[(name, "")] = Source(path, line, value)

    def read_ui(self, path: Path, value: Any, line: int) -> None:
        if not isinstance(value, LineDict):
            self.add(path, line, UI_KEY, "must map string keys to {nb, en} texts")
            return
        for key, text in value.items():
            key_line = value.key_lines.get(key, line)
            if key in self.ui:
                self.add(path, key_line, f"ui.{key}", f"duplicate ui key '{key}'")
                continue
            try:
                self.ui[key] = Text.model_validate(text)
            except ValidationError as exc:
                for loc, message in describe_errors(exc, Text):
                    self.add(path, line_of(text, loc, key_line), f"ui.{key}" + "".join(f".{p}" for p in loc), message)
                continue
            self.check_placeholders(path, key, text, key_line)

    def check_placeholders(self, path: Path, key: str, text: Any, key_line: int) -> None:
        """Both languages of a ui string must use the same {placeholders} (the code fills them in)."""
        found: dict[str, set[str]] = {}
        for lang in ("nb", "en"):
            try:
                found[lang] = {name for _, name, _, _ in Formatter().parse(self.ui[key].get(lang)) if name is not None}
            except ValueError as exc:
                self.add(path, line_of(text, (lang,), key_line), f"ui.{key}.{lang}",
                         f"broken placeholder: {exc} (write {{{{ and }}}} for literal braces)")
                return
        if found["nb"] != found["en"]:
            only_en = sorted(found["en"] - found["nb"])
            only_nb = sorted(found["nb"] - found["en"])
            detail = "; ".join(part for part in (
                f"only en has {', '.join('{' + n + '}' for n in only_en)}" if only_en else "",
                f"only nb has {', '.join('{' + n + '}' for n in only_nb)}" if only_nb else "") if part)
            self.add(path, line_of(text, ("en",), key_line), f"ui.{key}.en", f"placeholders differ from nb: {detail}")


def load_knowledge(folder: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load and validate; return the knowledge (None when invalid) and every problem found."""
    folder = Path(folder)
    reader = _Reader()
    if not folder.is_dir():
        return None, [Problem(folder, 0, "(folder)", "knowledge folder not found")]
    files = knowledge_files(folder)
    if not files:
        return None, [Problem(folder, 0, "(folder)", "no YAML files found")]
    for path in files:
        reader.read_file(path)
    kb = KnowledgeBase(reader.items, reader.singles, reader.ui, reader.sources, folder)
    reader.problems.extend(p for p in check_semantics(kb)
                           if not (p.field in reader.failed and p.message.endswith("is missing")))
    if reader.problems:
        return None, reader.problems
    return kb, []


def load_or_raise(folder: Path) -> KnowledgeBase:
    """Load valid knowledge or raise :class:`KnowledgeError` listing every problem."""
    kb, problems = load_knowledge(folder)
    if kb is None:
        raise KnowledgeError(problems)
    return kb
