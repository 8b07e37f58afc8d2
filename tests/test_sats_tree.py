"""The SATS decision tree: every path to each of the 8 levels, and the "not sure" ranges."""

from __future__ import annotations

import pytest

from bot.assessment.sats import walk
from bot.knowledge.validate import reachable_levels

Y, N, U = "yes", "no", "unsure"
ORDER = ["contact", "regular", "reduced", "own_goal", "abstinent", "six_months", "remission"]


def answers(*values: str) -> dict[str, str]:
    return dict(zip(ORDER, values, strict=False))


@pytest.mark.parametrize(("given", "level"), [
    (answers(N), 1),
    (answers(Y, N), 2),
    (answers(Y, Y, N), 3),
    (answers(Y, Y, Y, N), 4),
    (answers(Y, Y, Y, Y, N), 5),
    (answers(Y, Y, Y, Y, Y, N), 6),
    (answers(Y, Y, Y, Y, Y, Y, N), 7),
    (answers(Y, Y, Y, Y, Y, Y, Y), 8),
])
def test_every_level_has_a_path(kb, given, level):
    result = walk(kb.sats_tree, given)
    assert result.finished
    assert result.level == level
    assert [q for q, _ in result.decided_by] == ORDER[:len(given)]


@pytest.mark.parametrize(("given", "low", "high", "find_out"), [
    (answers(U), 1, 8, "contact"),
    (answers(Y, U), 2, 8, "regular"),
    (answers(Y, Y, U), 3, 8, "reduced"),
    (answers(Y, Y, Y, U), 4, 8, "own_goal"),
    (answers(Y, Y, Y, Y, U), 5, 8, "abstinent"),
    (answers(Y, Y, Y, Y, Y, U), 6, 8, "six_months"),
    (answers(Y, Y, Y, Y, Y, Y, U), 7, 8, "remission"),
])
def test_not_sure_gives_a_range_and_what_to_find_out(kb, given, low, high, find_out):
    result = walk(kb.sats_tree, given)
    assert result.finished and result.level is None
    assert (result.low, result.high) == (low, high)
    assert result.find_out.id == find_out


def test_walk_stops_at_the_first_unanswered_question(kb):
    result = walk(kb.sats_tree, answers(Y, Y))
    assert not result.finished
    assert result.next_question.id == "reduced"


def test_every_level_reachable_and_stages_match(kb):
    assert reachable_levels(kb.sats_tree, kb.sats_tree.root) == set(range(1, 9))
    expected = {1: "engagement", 2: "engagement", 3: "persuasion", 4: "persuasion",
                5: "active_treatment", 6: "active_treatment", 7: "relapse_prevention", 8: "relapse_prevention"}
    assert {n: kb.stage_of_level(n).id for n in range(1, 9)} == expected
