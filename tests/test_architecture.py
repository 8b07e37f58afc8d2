"""The shape of the code (ARCHITECTURE.md): lower layers never import higher ones, and no module
imports itself round a cycle. Every import statement counts, also those inside functions; imports
under ``if TYPE_CHECKING:`` do not (they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bot"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of imports inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines |= {sub.lineno for sub in ast.walk(node) if isinstance(sub, ast.Import | ast.ImportFrom)}
    return lines


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], *([base] if base else [])])
                targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (a package's ``__init__`` importing its own
    children is not a cycle of interest)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            packages = {m for m in group if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
            if len(set(group) - packages) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


GRAPH = import_graph()


def test_the_graph_sees_the_imports() -> None:
    assert "bot.engine.runner" in GRAPH["bot.service"]
    assert "bot.knowledge.flows" in GRAPH["bot.engine.context"]


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_a_cycle_would_be_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(("lower", "higher"), [
    ("bot.knowledge", "bot.engine"), ("bot.language", "bot.engine"), ("bot.language", "bot.safety"),
    ("bot.language", "bot.knowledge"), ("bot.safety", "bot.engine"), ("bot.engine", "bot.service"),
    ("bot.engine", "bot.channels"), ("bot.engine", "bot.storage"), ("bot.service", "bot.channels"),
])
def test_lower_layers_never_import_higher_ones(lower: str, higher: str) -> None:
    wrong = {m: sorted(t for t in targets if t == higher or t.startswith(higher + "."))
             for m, targets in GRAPH.items() if m == lower or m.startswith(lower + ".")}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_the_engine_never_imports_telegram() -> None:
    for path in (PACKAGE / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "telegram"], path


def test_user_facing_text_is_rendered_only_by_the_engine() -> None:
    """The service and the front ends never look up a user-facing text themselves."""
    for path in [PACKAGE / "service.py", *(PACKAGE / "channels").glob("*.py")]:
        assert ".ui(" not in path.read_text(encoding="utf-8"), path
