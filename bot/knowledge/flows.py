"""The flow language: typed models of ``conversations/*.yaml`` and their validation.

A flow is a list of steps of a few kinds. Steps refer to knowledge by id and to named pieces of
code (content blocks, option providers, preselections, conditions) by name; the engine says which
names exist and which step ids its code reads (:class:`CodeNames`), and validation checks every one,
so a trainer's typo or a renamed step is caught by ``kb check`` rather than by a user. This module
is knowledge: it never imports the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from bot.callback_data import BUTTON_DATA_BYTES, selection_token
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loader import describe_errors, knowledge_files
from bot.knowledge.models import ID_PATTERN, Strict, Text
from bot.knowledge.problems import Problem, did_you_mean
from bot.knowledge.yamlfile import LineDict, LineList, YamlReadError, line_of, read_yaml

StepKind = Literal["message", "choice", "multi_choice", "decision_tree", "summary", "grade"]
"""A ``decision_tree`` step walks the SATS tree (``knowledge/sats_tree.yaml``) once per item."""


class OptionDef(Strict):
    key: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    label: Text
    synonyms: list[str] = []
    set_lang: Literal["nb", "en"] | None = None
    command: str | None = None
    """Run this command (e.g. ``/vurdering``) when the option is chosen; the current flow ends."""


class Condition(Strict):
    """True when the answer to ``step`` is (or, for multi-select, contains) one of ``in``."""

    step: str
    in_: list[str] = Field(alias="in", min_length=1)


class Step(Strict):
    id: str = Field(pattern=ID_PATTERN)
    kind: StepKind
    text: Text | None = None
    help: Text | None = None
    options: str | list[OptionDef] | None = None
    """Inline options, or the name of an option set in ``options.yaml``."""
    options_from: str | None = None
    """A knowledge collection (``life_areas``) or a named provider (``element_partners``)."""
    none_option: bool = False
    preselect: str | None = None
    exclude: str | None = None
    """Leave out the options already chosen at this (earlier) step."""
    for_each: str | None = None
    """Repeat the step once per option chosen at that earlier multi-select step."""
    when: list[Condition] = []
    show: str | None = None
    """A named content block shown by a message step (or after a choice)."""
    once: str | None = None
    """Skip the step when this user flag is already set (e.g. ``privacy_seen``)."""
    skip_if: str | None = None
    """Skip the step when this named condition (registered in code, e.g. ``case_given``) holds."""
    next: str | None = None


class Flow(Strict):
    flow: str = Field(pattern=ID_PATTERN)
    title: Text
    start: str
    required_steps: list[str] = []
    """Step ids that code reads by name (the summary reads ``stage``): renaming one is an error."""
    steps: list[Step] = Field(min_length=1)

    def step(self, step_id: str) -> Step:
        return self._by_id[step_id]

    @property
    def _by_id(self) -> dict[str, Step]:
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = {s.id: s for s in self.steps}
            self.__dict__["_cache"] = cache
        return cache


class CommandDef(Strict):
    id: str = Field(pattern=ID_PATTERN)
    names: list[str] = Field(min_length=1)
    """The bokmål name first, the English one second, then other spellings that also work."""
    description: Text
    menu: bool = True
    admin: bool = False

    def shown_name(self, lang: str) -> str:
        """The name shown to a reader of ``lang`` (help text, Telegram's menu): English for English."""
        return self.names[1] if lang == "en" and len(self.names) > 1 else self.names[0]


class Flows:
    """All flows, option sets and commands of one load of ``conversations/``."""

    def __init__(self, flows: dict[str, Flow], option_sets: dict[str, list[OptionDef]],
                 commands: list[CommandDef]) -> None:
        self.flows = flows
        self.option_sets = option_sets
        self.commands = commands
        self.command_by_name = {name: c for c in commands for name in c.names}

    def flow(self, name: str) -> Flow:
        return self.flows[name]


@dataclass(frozen=True)
class CodeNames:
    """What the engine's code offers flows and expects of them (``bot.engine.catalogue.code_names``)."""

    content_blocks: frozenset[str] = frozenset()
    option_providers: frozenset[str] = frozenset()
    preselections: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()
    commands: frozenset[str] = frozenset()
    """Command ids the engine can run; every command in ``conversations/`` must be one of them."""
    required_steps: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per flow, the step ids its code reads by name."""


def load_flows(folder: Path, kb: KnowledgeBase, code: CodeNames) -> tuple[Flows | None, list[Problem]]:
    """Read and validate every flow file against the knowledge and the engine's ``code``; return the
    flows (None when invalid) and the problems."""

    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    option_sets: dict[str, list[OptionDef]] = {}
    commands: list[CommandDef] = []
    command_sources: list[tuple[Path, int]] = []
    raw_flows: dict[str, tuple[Path, LineDict]] = {}
    for path in knowledge_files(Path(folder)):
        try:
            data = read_yaml(path)
        except YamlReadError as exc:
            problems.append(Problem(exc.problem.path, exc.problem.line, "(file)", exc.problem.message))
            continue
        if not isinstance(data, LineDict):
            problems.append(Problem(path, 1, "(file)", "a flow file must be a mapping"))
            continue
        if "flow" in data:
            try:
                flow = Flow.model_validate(dict(data))
            except ValidationError as exc:
                for loc, message in describe_errors(exc, Flow):
                    problems.append(Problem(path, line_of(data, loc, 1), ".".join(map(str, loc)), message))
                continue
            flows[flow.flow] = flow
            raw_flows[flow.flow] = (path, data)
            continue
        for key, value in data.items():
            line = data.key_lines.get(key, 1)
            if key == "option_sets" and isinstance(value, LineDict):
                for name, items in value.items():
                    set_line = value.key_lines.get(name, line)
                    if not isinstance(items, LineList):
                        problems.append(Problem(path, set_line, f"option_sets.{name}", "must be a list of options"))
                        continue
                    parsed = []
                    for index, item in enumerate(items):
                        try:
                            parsed.append(OptionDef.model_validate(item))
                        except ValidationError as exc:
                            for loc, message in describe_errors(exc, OptionDef):
                                problems.append(Problem(path, line_of(item, loc, items.item_lines[index]),
                                                        f"option_sets.{name}[{index}]." + ".".join(map(str, loc)), message))
                    option_sets[name] = parsed
            elif key == "commands" and isinstance(value, LineList):
                for index, item in enumerate(value):
                    try:
                        commands.append(CommandDef.model_validate(item))
                        command_sources.append((path, value.item_lines[index]))
                    except ValidationError as exc:
                        for loc, message in describe_errors(exc, CommandDef):
                            problems.append(Problem(path, line_of(item, loc, value.item_lines[index]),
                                                    f"commands[{index}]." + ".".join(map(str, loc)), message))
            else:
                problems.append(Problem(path, line, str(key), "unknown section" + did_you_mean(str(key), ["flow", "option_sets", "commands"])))
    problems += _check_commands(commands, command_sources, code)
    for name, flow in flows.items():
        path, raw = raw_flows[name]
        problems += _check_flow(flow, path, raw, kb, option_sets, code)
    for name in code.required_steps:
        if name not in flows:
            where = Path(folder) / f"{name}.yaml"
            problems.append(Problem(where, 1, name, f"the flow '{name}' is missing: the engine's code runs it"))
    if problems:
        return None, problems
    return Flows(flows, option_sets, commands), []


def _check_commands(commands: list[CommandDef], sources: list[tuple[Path, int]], code: CodeNames) -> list[Problem]:
    """Command ids must be ones the engine runs, and ids and names (in any language) unique: a clash
    would silently hide a command."""
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, (command, (path, line)) in enumerate(zip(commands, sources, strict=True)):
        if command.id in ids:
            problems.append(Problem(path, line, f"commands[{index}].id", f"duplicate command id '{command.id}'"))
        if code.commands and command.id not in code.commands:
            problems.append(Problem(path, line, f"commands[{index}].id", f"no command '{command.id}' in the engine"
                                    f"{did_you_mean(command.id, code.commands)}"))
        ids.setdefault(command.id, index)
        for name in command.names:
            other = names.get(name.lower())
            if other is not None and other != command.id:
                problems.append(Problem(path, line, f"commands[{index}].names",
                                        f"the name '{name}' is already used by command '{other}'"))
            names.setdefault(name.lower(), command.id)
    return problems


STEP_VERSION_DIGITS = 8
"""Room kept for the step version in a token (it counts a user's steps)."""


def button_key_room(kind: str, keys: list[str]) -> int:
    """The longest option key that fits a button of a step offering ``keys``: the token is the step
    version, and for a multi-select also its ticks (``selection_token``, all ticked: the longest)."""
    token = "9" * STEP_VERSION_DIGITS
    if kind == "multi_choice":
        token = selection_token(token, keys, set(keys))
    return BUTTON_DATA_BYTES - 1 - len(f"{token}|")


def _check_flow(flow: Flow, path: Path, raw: LineDict, kb: KnowledgeBase,
                option_sets: dict[str, list[OptionDef]], code: CodeNames) -> list[Problem]:
    problems: list[Problem] = []
    ids = [s.id for s in flow.steps]
    raw_steps = raw.get("steps")

    def at(index: int, key: str | None = None) -> int:
        if isinstance(raw_steps, LineList):
            item = raw_steps[index]
            if key and isinstance(item, LineDict) and key in item:
                return item.key_lines[key]
            return raw_steps.item_lines[index]
        return 1

    def bad(index: int, key: str, message: str) -> None:
        problems.append(Problem(path, at(index, key), f"{flow.flow}.steps[{flow.steps[index].id}].{key}", message))

    seen: set[str] = set()
    for index, step in enumerate(flow.steps):
        if step.id in seen:
            bad(index, "id", f"duplicate step id '{step.id}'")
        seen.add(step.id)
    declared = set(flow.required_steps)
    for step_id in sorted((declared | code.required_steps.get(flow.flow, frozenset())) - set(ids)):
        problems.append(Problem(path, raw.key_lines.get("required_steps", 1), f"{flow.flow}.required_steps",
                                f"the step '{step_id}' is read by the engine's code but the flow has no such step"
                                f"{did_you_mean(step_id, ids)}"))
    for step_id in sorted(code.required_steps.get(flow.flow, frozenset()) - declared):
        problems.append(Problem(path, raw.key_lines.get("required_steps", 1), f"{flow.flow}.required_steps",
                                f"declare '{step_id}' here: the engine's code reads it"))
    if flow.start not in ids:
        problems.append(Problem(path, raw.key_lines.get("start", 1), f"{flow.flow}.start", f"unknown step '{flow.start}'{did_you_mean(flow.start, ids)}"))
    earlier: set[str] = set()
    for index, step in enumerate(flow.steps):
        if step.next is not None and step.next not in ids:
            bad(index, "next", f"unknown step '{step.next}'{did_you_mean(step.next, ids)}")
        for ref_name in ("for_each", "exclude"):
            ref = getattr(step, ref_name)
            if ref is not None and ref not in earlier:
                bad(index, ref_name, f"'{ref}' must be an earlier step{did_you_mean(ref, earlier)}")
        for cond in step.when:
            if cond.step not in earlier:
                bad(index, "when", f"'{cond.step}' must be an earlier step{did_you_mean(cond.step, earlier)}")
        if isinstance(step.options, str) and step.options not in option_sets:
            bad(index, "options", f"unknown option set '{step.options}'{did_you_mean(step.options, option_sets)}")
        if step.options_from is not None and step.options_from not in kb.items and step.options_from not in code.option_providers:
            bad(index, "options_from", f"unknown collection or provider '{step.options_from}'"
                f"{did_you_mean(step.options_from, [*kb.items, *code.option_providers])}")
        if step.show is not None and step.show not in code.content_blocks:
            bad(index, "show", f"unknown content block '{step.show}'{did_you_mean(step.show, code.content_blocks)}")
        if step.preselect is not None and step.preselect not in code.preselections:
            bad(index, "preselect", f"unknown preselection '{step.preselect}'"
                f"{did_you_mean(step.preselect, code.preselections)}")
        needs_options = step.kind in ("choice", "multi_choice")
        if needs_options and step.options is None and step.options_from is None:
            bad(index, "options", "a choice step needs options or options_from")
        if needs_options and step.options_from in kb.items:
            keys = list(kb.items[step.options_from])
            room = button_key_room(step.kind, keys)
            for key in (k for k in keys if len(k.encode()) > room):
                bad(index, "options_from", f"the id '{key}' in '{step.options_from}' is too long for a button "
                    f"here ({len(key.encode())} characters, at most {room} fit): shorten it")
        if step.skip_if is not None and step.skip_if not in code.conditions:
            bad(index, "skip_if", f"unknown condition '{step.skip_if}'{did_you_mean(step.skip_if, code.conditions)}")
        if step.kind == "grade" and step.show is None:
            bad(index, "show", "a grade step names the content block that grades (show: ...)")
        if step.kind in ("choice", "multi_choice") and step.text is None:
            bad(index, "text", "this step asks something: give it a text")
        earlier.add(step.id)
    # Reachability: follow `next` from the start (a `when` may skip a step, never strand one).
    reached: set[str] = set()
    current = flow.start if flow.start in ids else None
    while current is not None and current not in reached:
        reached.add(current)
        current = flow.step(current).next if current in ids else None
    for index, step in enumerate(flow.steps):
        if step.id not in reached:
            bad(index, "id", "unreachable step: no 'next' leads here from the start")
    return problems


