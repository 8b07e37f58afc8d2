"""How well the case-text estimator and the typed-answer matcher read text nobody here wrote.

    python -m benchmarks.case_eval                       # figures of both splits (JSON)
    python -m benchmarks.case_eval --split tuning --show-misses

The corpus is ``tests/data/cases/c*.yaml`` (blind authors, provenance in ``tests/data/README.md``);
``tests/data/cases/split.yaml`` says which authors tune and which report. Misses are shown for the
tuning split only. Figures per note: *exact* (the level a rater gives), *stage* (its IDDT stage),
*within one* level, *undecided* (a range where the rater decided), *confidently wrong* (a definite
level that is wrong), overall, per level and per language, with a confusion matrix (gold → given,
``?`` for undecided). Typed answers: the share read as the rater reads them (yes / no / unsure); an
answer the matcher cannot place (the bot asks again) counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "cases"
LABELS = {True: "yes", False: "no"}
QUESTION_IDS = {"goal": "own_goal", "one_year": "remission"}
"""The brief's question names that differ from the SATS tree's question ids."""
"""YAML 1.1 reads an unquoted yes/no as a boolean; the authors meant the word."""


def load_split(split: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(notes, typed answers) of the authors in ``split`` ("tuning" or "reporting") whose files exist."""
    authors = yaml.safe_load((CORPUS / "split.yaml").read_text(encoding="utf-8"))[split]
    notes: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for author in authors:
        path = CORPUS / f"{author}.yaml"
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        notes += [{**n, "author": author} for n in data.get("notes", [])]
        answers += [{**a, "author": author, "label": LABELS.get(a["label"], a["label"])} for a in data.get("answers", [])]
    return notes, answers


def read_note(kb: Any, note: dict[str, Any]) -> dict[str, Any]:
    """The estimator's reading of one note, next to the label."""
    from bot.assessment.estimator import estimate

    result = estimate(str(note["text"]), kb.sats_tree, note.get("lang"), levels=kb.levels)
    gold = note.get("level")
    return {"id": note["id"], "lang": note.get("lang"), "gold": gold, "gold_range": note.get("level_range"),
            "level": result.sats_level, "range": [result.low, result.high], "confidence": result.confidence,
            "stage": kb.levels[result.sats_level].stage if result.sats_level in kb.levels else None,
            "gold_stage": kb.levels[gold].stage if gold in kb.levels else None}


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 3) if total else None


def note_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    decidable = [r for r in rows if r["gold"] is not None]
    n = len(decidable)
    confident = [r for r in decidable if r["level"] is not None and r["confidence"] >= 0.8]
    return {
        "notes": n,
        "exact": _rate(sum(r["level"] == r["gold"] for r in decidable), n),
        "stage": _rate(sum(r["stage"] is not None and r["stage"] == r["gold_stage"] for r in decidable), n),
        "within_one": _rate(sum(r["level"] is not None and abs(r["level"] - r["gold"]) <= 1 for r in decidable), n),
        "undecided": _rate(sum(r["level"] is None for r in decidable), n),
        "confidently_wrong": _rate(sum(r["level"] is not None and r["level"] != r["gold"] for r in decidable), n),
        "right_when_confidence_0_8": _rate(sum(r["level"] == r["gold"] for r in confident), len(confident)),
    }


def answer_figures(kb: Any, flows: Any, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The share of typed answers read as labelled, as the engine reads them at a yes/no question: by
    polarity first, then by the options' names."""
    from bot.assessment.answers import Choice, match_one, read_polarity
    from bot.safety.lexicon import bundled_rules

    rules = bundled_rules()
    options = flows.option_sets["yes_no_unsure"]
    right = Counter()
    total = Counter()
    for item in answers:
        choices = [Choice(o.key, (o.label.get(item.get("lang") if item.get("lang") == "en" else "nb"), *o.synonyms))
                   for o in options]
        question = QUESTION_IDS.get(item["question"], item["question"])
        got = read_polarity(str(item["text"]), rules, question) or match_one(str(item["text"]), choices)
        total[item["label"]] += 1
        right[item["label"]] += got == item["label"]
    out: dict[str, Any] = {"answers": sum(total.values()), "right": _rate(sum(right.values()), sum(total.values()))}
    out.update({f"right_{label}": _rate(right[label], total[label]) for label in sorted(total)})
    return out


def figures(kb: Any, flows: Any, split: str) -> dict[str, Any]:
    notes, answers = load_split(split)
    rows = [read_note(kb, note) for note in notes]
    out: dict[str, Any] = {"all": note_figures(rows)}
    for key in ("gold", "lang"):
        groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[row[key]].append(row)
        for value in sorted(groups, key=str):
            out[f"{'level' if key == 'gold' else 'lang'}:{value}"] = note_figures(groups[value])
    confusion: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        if row["gold"] is not None:
            confusion[str(row["gold"])][str(row["level"] or "?")] += 1
    out["confusion"] = {gold: dict(sorted(given.items())) for gold, given in sorted(confusion.items())}
    out["typed_answers"] = answer_figures(kb, flows, answers)
    return out


def misses(kb: Any, notes: list[dict[str, Any]]) -> list[str]:
    lines = []
    for note in notes:
        row = read_note(kb, note)
        if row["gold"] is not None and row["level"] != row["gold"]:
            lines.append(f"{row['id']} {row['lang']} gold {row['gold']} -> {row['level'] or row['range']} "
                         f"(confidence {row['confidence']})\n    {note['text']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from bot.engine.runner import code_names
    from bot.knowledge import load_knowledge
    from bot.knowledge.flows import load_flows

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tuning", "reporting", "both"], default="both")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    kb, _ = load_knowledge(ROOT / "knowledge")
    flows, _ = load_flows(ROOT / "conversations", kb, code_names())
    splits = ["tuning", "reporting"] if args.split == "both" else [args.split]
    print(json.dumps({split: figures(kb, flows, split) for split in splits}, indent=1, ensure_ascii=False))
    if args.show_misses:
        if args.split != "tuning":
            print("misses are shown for the tuning split only (--split tuning)", file=sys.stderr)
            return 2
        for line in misses(kb, load_split("tuning")[0]):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
