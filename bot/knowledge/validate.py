"""Checks across files: references resolve, the SATS levels and tree are complete and sound."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.knowledge.models import COLLECTIONS, STAGE_IDS, SatsTree
from bot.knowledge.problems import Problem, did_you_mean
from bot.knowledge.yamlfile import LineDict, LineList
from bot.language.text import fold_phrase

if TYPE_CHECKING:
    from bot.knowledge.base import KnowledgeBase

EXPECTED_STAGE_OF_LEVEL = {1: "engagement", 2: "engagement", 3: "persuasion", 4: "persuasion",
                           5: "active_treatment", 6: "active_treatment",
                           7: "relapse_prevention", 8: "relapse_prevention"}


def check_semantics(kb: KnowledgeBase) -> list[Problem]:
    """Every cross-file problem; an empty list means the knowledge is sound."""
    problems = check_references(kb)
    problems += check_stages(kb)
    problems += check_tree(kb)
    problems += check_cases(kb)
    return problems


def _value_line(raw: Any, field: str, index: int | None, default: int) -> int:
    if isinstance(raw, LineDict) and field in raw:
        value = raw[field]
        if index is not None and isinstance(value, LineList) and index < len(value.item_lines):
            return value.item_lines[index]
        return raw.key_lines.get(field, default)
    return default


def check_references(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    all_ids = {cid: name for name in COLLECTIONS for cid in kb.ids(name)}
    for name, model in COLLECTIONS.items():
        for item in kb.all(name):
            source = kb.sources[(name, item.id)]
            for field, target in model.refs.items():
                value = getattr(item, field)
                values = value if isinstance(value, list) else [value]
                for index, ref in enumerate(values):
                    if ref is None:
                        continue
                    known = all_ids if target == "*" else kb.items.get(target, {})
                    if ref in known:
                        continue
                    pos = index if isinstance(value, list) else None
                    line = _value_line(source.raw, field, pos, source.line)
                    label = f"{name}[{item.id}].{field}" + (f"[{index}]" if pos is not None else "")
                    what = "entry" if target == "*" else target.rstrip("s")
                    problems.append(Problem(source.path, line, label,
                                            f"unknown {what} '{ref}'{did_you_mean(ref, known)}"))
    return problems


def check_stages(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    folder = kb.folder
    missing_stages = [s for s in STAGE_IDS if s not in kb.items["stages"]]
    if missing_stages:
        problems.append(Problem(folder, 0, "stages", f"missing stage(s): {', '.join(missing_stages)}"))
    levels = kb.levels
    missing_levels = [n for n in range(1, 9) if n not in levels]
    if missing_levels:
        problems.append(Problem(folder, 0, "sats_levels", f"missing SATS level(s): {missing_levels}"))
    for number, level in levels.items():
        if level.stage != EXPECTED_STAGE_OF_LEVEL[number]:
            src = kb.sources[("sats_levels", level.id)]
            problems.append(Problem(src.path, _value_line(src.raw, "stage", None, src.line),
                                    f"sats_levels[{level.id}].stage",
                                    f"SATS {number} belongs to '{EXPECTED_STAGE_OF_LEVEL[number]}'"))
    return problems


def reachable_levels(tree: SatsTree, node_id: str, seen: frozenset[str] = frozenset()) -> set[int]:
    """Every SATS level some answers can reach from ``node_id`` (ranges count as their ends)."""
    nodes = {q.id: q for q in tree.questions}
    node = nodes.get(node_id)
    if node is None or node_id in seen:
        return set()
    out: set[int] = set()
    for branch in (node.yes, node.no):
        if branch.level is not None:
            out.add(branch.level)
        elif branch.range is not None:
            out.update(range(branch.range[0], branch.range[1] + 1))
        elif branch.next is not None:
            out |= reachable_levels(tree, branch.next, seen | {node_id})
    return out


def check_tree(kb: KnowledgeBase) -> list[Problem]:
    tree: SatsTree | None = kb.singles.get("sats_tree")
    if tree is None:
        return [Problem(kb.folder, 0, "sats_tree", "the SATS decision tree is missing")]
    src = kb.sources[("sats_tree", "")]
    raw_questions = src.raw.get("questions") if isinstance(src.raw, LineDict) else None

    def line_for(index: int, key: str | None = None) -> int:
        if isinstance(raw_questions, LineList) and index < len(raw_questions):
            item = raw_questions[index]
            if key and isinstance(item, LineDict):
                return item.key_lines.get(key, raw_questions.item_lines[index])
            return raw_questions.item_lines[index]
        return src.line

    problems: list[Problem] = []
    ids = [q.id for q in tree.questions]
    if tree.root not in ids:
        problems.append(Problem(src.path, src.line, "sats_tree.root", f"unknown question '{tree.root}'{did_you_mean(tree.root, ids)}"))
        return problems
    for index, question in enumerate(tree.questions):
        if ids.count(question.id) > 1 and ids.index(question.id) != index:
            problems.append(Problem(src.path, line_for(index), f"sats_tree.questions[{question.id}].id", f"duplicate id '{question.id}'"))
        for answer in ("yes", "no", "unsure"):
            branch = getattr(question, answer)
            if branch is not None and branch.next is not None and branch.next not in ids:
                problems.append(Problem(src.path, line_for(index, answer), f"sats_tree.questions[{question.id}].{answer}.next",
                                        f"unknown question '{branch.next}'{did_you_mean(branch.next, ids)}"))
    if problems:
        return problems
    # Reachability and cycles: walk from the root.
    reached: set[str] = set()

    def walk(node_id: str, path: tuple[str, ...]) -> None:
        if node_id in path:
            index = ids.index(node_id)
            problems.append(Problem(src.path, line_for(index), f"sats_tree.questions[{node_id}]",
                                    f"the tree loops back to '{node_id}', so this path never ends in a level"))
            return
        reached.add(node_id)
        node = tree.questions[ids.index(node_id)]
        for branch in (node.yes, node.no, node.unsure):
            if branch is not None and branch.next is not None:
                walk(branch.next, (*path, node_id))

    walk(tree.root, ())
    for index, question in enumerate(tree.questions):
        if question.id not in reached:
            problems.append(Problem(src.path, line_for(index), f"sats_tree.questions[{question.id}]",
                                    "unreachable question: no answer leads here from the root"))
    if problems:
        return problems
    for index, question in enumerate(tree.questions):
        if question.unsure is not None and question.unsure.range is not None:
            possible = reachable_levels(tree, question.id)
            low, high = question.unsure.range
            if not possible or low < min(possible) or high > max(possible):
                problems.append(Problem(src.path, line_for(index, "unsure"), f"sats_tree.questions[{question.id}].unsure.range",
                                        f"range {low}-{high} goes beyond the levels reachable from here ({sorted(possible)})"))
    missing = set(range(1, 9)) - reachable_levels(tree, tree.root)
    if missing:
        problems.append(Problem(src.path, src.line, "sats_tree", f"no path reaches SATS level(s) {sorted(missing)}"))
    return problems


def _stage_words(kb: KnowledgeBase) -> list[str]:
    """Names that give a case's level away: the stage and SATS level titles, and "SATS"."""
    words = {"sats"}
    for entry in (*kb.all("stages"), *kb.all("sats_levels")):
        words.update((fold_phrase(entry.title.nb), fold_phrase(entry.title.en)))
    return sorted(w for w in words if w)


def check_cases(kb: KnowledgeBase) -> list[Problem]:
    """Practice cases: unique numbers, fitting interventions of the case's stage, no stage named."""
    problems: list[Problem] = []
    levels = kb.levels
    words = _stage_words(kb)
    patterns = [(w, re.compile(rf"(?<!\w){re.escape(w)}(?!\w)")) for w in words]
    numbers: dict[int, str] = {}
    for case in sorted(kb.all("cases"), key=lambda c: (kb.sources[("cases", c.id)].path, kb.sources[("cases", c.id)].line)):
        source = kb.sources[("cases", case.id)]
        raw = source.raw
        if case.number in numbers:
            problems.append(Problem(source.path, _value_line(raw, "number", None, source.line), f"cases[{case.id}].number",
                                    f"number {case.number} is already used by case '{numbers[case.number]}'"))
        numbers.setdefault(case.number, case.id)
        level = levels.get(case.sats_level)
        if level is not None:
            for index, item_id in enumerate(case.interventions):
                item = kb.get("interventions", item_id)
                if item is not None and level.stage not in item.stages:
                    problems.append(Problem(
                        source.path, _value_line(raw, "interventions", index, source.line),
                        f"cases[{case.id}].interventions[{index}]",
                        f"'{item_id}' is not an intervention for {level.stage} (SATS {case.sats_level}); "
                        f"it is listed for {', '.join(item.stages)}"))
        for field in ("title", "vignette"):
            text = getattr(case, field)
            for lang in ("nb", "en"):
                folded = fold_phrase(text.get(lang))
                named = [w for w, pattern in patterns if pattern.search(folded)]
                if named:
                    line = _value_line(raw.get(field) if isinstance(raw, LineDict) else None, lang, None,
                                       _value_line(raw, field, None, source.line))
                    problems.append(Problem(source.path, line, f"cases[{case.id}].{field}.{lang}",
                                            f"names a stage or level ('{named[0]}'): a case must not give its level away"))
    return problems
