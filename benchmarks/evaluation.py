"""Accuracy of the search and of the free-text stage estimator over labelled sets in ``tests/data``.

``search_accuracy`` reads a queries file (``{queries: [{query, lang, expect: ["kind:id", ...]}]}``)
and reports hit@1 and hit@3; ``estimate_accuracy`` reads case descriptions
(``{cases: [{text, lang, sats_level, ...}]}``) and reports how often the estimator's stage and exact
SATS level agree with the label. ``iddt-bot bench`` prints both; the tests hold the goals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.search import KIND_OF

COLLECTION_OF_KIND = {kind: collection for collection, kind in KIND_OF.items()}


def _load(path: str | Path, key: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    items = data.get(key, []) if isinstance(data, dict) else data
    return [item for item in items or [] if isinstance(item, dict)]


def load_queries(path: str | Path) -> list[dict[str, Any]]:
    return _load(path, "queries")


def normalise_answer(answer: str) -> str:
    """``kind:id`` with the kind in its singular form (``traps:x`` and ``trap:x`` are the same)."""
    kind, _, item_id = answer.partition(":")
    kind = KIND_OF.get(kind, kind)
    return f"{kind}:{item_id}"


def unknown_answers(kb: KnowledgeBase, queries: list[dict[str, Any]]) -> list[str]:
    """Expected answers that name no entry of the knowledge base (a stale label)."""
    missing = []
    for query in queries:
        for answer in query.get("expect", []):
            kind, _, item_id = normalise_answer(answer).partition(":")
            collection = COLLECTION_OF_KIND.get(kind)
            if collection is None or kb.get(collection, item_id) is None:
                missing.append(f"{query['query']!r}: {answer}")
    return missing


def search_results(kb: KnowledgeBase, queries: list[dict[str, Any]], top: int = 3) -> list[dict[str, Any]]:
    """Each query with the ``kind:id`` of its first ``top`` results and the rank of the first hit."""
    rows = []
    for query in queries:
        hits = kb.index.search(str(query["query"]), query.get("lang", "nb"), top)
        got = [f"{h.kind}:{h.id}" for h in hits]
        expect = {normalise_answer(a) for a in query.get("expect", [])}
        rank = next((i + 1 for i, answer in enumerate(got) if answer in expect), None)
        rows.append({"query": query["query"], "lang": query.get("lang", "nb"), "got": got, "rank": rank,
                     "expect": sorted(expect)})
    return rows


def search_accuracy(kb: KnowledgeBase, path: str | Path) -> dict[str, Any]:
    """hit@1 and hit@3 of ``kb.index.search`` over the labelled queries in ``path``."""
    rows = search_results(kb, load_queries(path), top=3)
    n = len(rows)
    hit1 = sum(1 for r in rows if r["rank"] == 1)
    hit3 = sum(1 for r in rows if r["rank"] is not None)
    return {"hit_at_1": round(hit1 / n, 3) if n else 0.0, "hit_at_3": round(hit3 / n, 3) if n else 0.0, "n": n}


def search_misses(kb: KnowledgeBase, path: str | Path) -> list[dict[str, Any]]:
    """The queries whose first result is not an expected answer (for reading, not for tuning held-out sets)."""
    return [r for r in search_results(kb, load_queries(path), top=3) if r["rank"] != 1]


# ---------------------------------------------------------------------------------------- estimates
def _gold_level(case: dict[str, Any]) -> int | None:
    level = case.get("sats_level")
    if level is None and isinstance(case.get("per_substance"), dict) and case["per_substance"]:
        level = min(case["per_substance"].values())
    return int(level) if level is not None else None


def estimate_results(kb: KnowledgeBase, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from bot.assessment.estimator import estimate

    rows = []
    for case in cases:
        gold = _gold_level(case)
        if gold is None or not case.get("text"):
            continue
        result = estimate(str(case["text"]), kb.sats_tree, case.get("lang", "nb")).to_json()
        level = result.get("sats_level")
        stage = result.get("stage")
        if stage is None and level is not None and level in kb.levels:
            stage = kb.levels[level].stage
        rows.append({"id": case.get("id"), "gold_level": gold, "gold_stage": kb.levels[gold].stage,
                     "level": level, "stage": stage})
    return rows


def estimate_accuracy(kb: KnowledgeBase, path: str | Path) -> dict[str, Any]:
    """Stage accuracy and exact SATS accuracy of the free-text estimator over the cases in ``path``.

    An undecided estimate (``sats_level`` null) counts as wrong for the exact level; for the stage it
    counts as right only when the estimator still names the right stage.
    """
    rows = estimate_results(kb, _load(path, "cases"))
    n = len(rows)
    stage_right = sum(1 for r in rows if r["stage"] == r["gold_stage"])
    level_right = sum(1 for r in rows if r["level"] == r["gold_level"])
    return {"stage_accuracy": round(stage_right / n, 3) if n else 0.0,
            "sats_accuracy": round(level_right / n, 3) if n else 0.0, "n": n}
