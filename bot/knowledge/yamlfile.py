"""YAML reading that remembers line numbers, so every problem can be reported as ``path:line``.

The loader is a subclass of ``yaml.SafeLoader``: it constructs only plain data, exactly like
``yaml.safe_load``, but its mappings are :class:`LineDict` objects that know the line of each key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A dict that records the 1-based line of the mapping and of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list):
    """A list that records the 1-based line of the sequence and of each item."""

    line: int = 0
    item_lines: list[int]


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when available (about 7x faster); the constructors stay the safe ones."""


class _LineLoader(_BaseLoader):
    """Safe loader whose mappings and sequences carry line numbers."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise DuplicateKeyError(key, key_node.start_mark.line + 1)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


# YAML 1.1 reads yes/no/on/off as booleans (the "Norway problem": locale `no` would become False).
# Knowledge files follow YAML 1.2 here: only true/false are booleans.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class DuplicateKeyError(Exception):
    """A key appears twice in one mapping (plain YAML would silently keep the last)."""

    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.line = line


@dataclass
class YamlProblem:
    """A file that could not be parsed at all."""

    path: Path
    line: int
    message: str


def read_yaml(path: Path) -> Any:
    """Parse one YAML file with line numbers; raise :class:`YamlProblem`-carrying errors."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except DuplicateKeyError as exc:
        raise YamlReadError(YamlProblem(path, exc.line, f"duplicate key {exc.key!r}")) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise YamlReadError(YamlProblem(path, line, f"YAML syntax error: {message}")) from exc
    except yaml.YAMLError as exc:
        raise YamlReadError(YamlProblem(path, 1, f"YAML error: {exc}")) from exc


class YamlReadError(Exception):
    """Carries the :class:`YamlProblem` of a file that could not be parsed."""

    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def line_of(data: Any, loc: tuple[Any, ...], default: int) -> int:
    """Best line for a location path inside parsed data (the deepest part that has a line)."""
    line = getattr(data, "line", default) or default
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        inner = getattr(node, "line", None)
        if isinstance(node, LineList | LineDict) and inner and part is not None and isinstance(node, LineDict):
            line = line or inner
    return line
