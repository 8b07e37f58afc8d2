"""SATS levels and IDDT stages: walking the decision tree from answers.

The tree itself is data (``knowledge/sats.yaml``); this module only walks it. Answers are keyed by
question id (``contact``, ``regular``, ``reduced``, ``own_goal``, ``abstinent``, ``six_months``,
``remission`` in the bundled tree) with the values ``"yes"``, ``"no"`` or ``"unsure"``. The same
walk serves the guided assessment (answers typed or pressed) and the free-text estimator (answers
extracted from a case description).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.knowledge.models import SatsQuestion, SatsTree
from bot.knowledge.validate import reachable_levels

ANSWERS = ("yes", "no", "unsure")


@dataclass(frozen=True)
class TreeResult:
    """Where a walk ended.

    ``next_question`` is set while an answer is still needed. Otherwise ``low``..``high`` is the
    level range (equal when decided); ``decided_by`` lists the (question id, answer) pairs that led
    here, and ``find_out`` names the question whose answer would narrow an undecided range.
    """

    next_question: SatsQuestion | None = None
    low: int | None = None
    high: int | None = None
    decided_by: list[tuple[str, str]] = field(default_factory=list)
    find_out: SatsQuestion | None = None

    @property
    def finished(self) -> bool:
        return self.next_question is None

    @property
    def level(self) -> int | None:
        """The SATS level when decided, else None."""
        return self.low if self.finished and self.low == self.high else None


def walk(tree: SatsTree, answers: dict[str, str]) -> TreeResult:
    """Follow ``answers`` from the root; stop at the first question without an answer."""
    nodes = {q.id: q for q in tree.questions}
    node = nodes[tree.root]
    path: list[tuple[str, str]] = []
    for _ in range(len(nodes) + 1):
        answer = answers.get(node.id)
        if answer not in ANSWERS:
            return TreeResult(next_question=node, decided_by=path)
        path.append((node.id, answer))
        if answer == "unsure" and node.unsure is None:
            levels = reachable_levels(tree, node.id)
            return TreeResult(low=min(levels), high=max(levels), decided_by=path, find_out=node)
        branch = getattr(node, answer)
        if branch.level is not None:
            return TreeResult(low=branch.level, high=branch.level, decided_by=path)
        if branch.range is not None:
            return TreeResult(low=branch.range[0], high=branch.range[1], decided_by=path, find_out=node)
        node = nodes[branch.next]
    raise ValueError("the SATS tree loops")  # prevented by validation


