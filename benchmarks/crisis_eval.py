"""Recall and false alarms of the crisis screen on the blind labelled corpus (``tests/data/crisis``).

    python -m benchmarks.crisis_eval               # both splits, figures only
    python -m benchmarks.crisis_eval --split tuning --show-misses
    python -m benchmarks.crisis_eval --loao        # the learned model, leave-one-author-out on tuning

Figures per split, language and signal kind. ``--show-misses`` prints the texts the screen got wrong,
and refuses to do so for the reporting split: whoever writes the rules reads only its figures (an
item studied to fix a miss moves to the tuning side and is replaced by a new blind one).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from bot.safety import screen

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "crisis"


def load_split(name: str, folder: Path = CORPUS) -> list[dict[str, Any]]:
    """Every item of the authors in split ``name``, with its author added."""
    split = yaml.safe_load((folder / "split.yaml").read_text(encoding="utf-8"))
    items = []
    for author in split[name]:
        data = yaml.safe_load((folder / f"{author}.yaml").read_text(encoding="utf-8"))
        items += [{**item, "author": author} for item in data["items"]]
    return items


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def evaluate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall (crisis, acute) on crises and false alarms (crisis, acute) on non-crises, overall and per group."""
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        level = screen(item["text"], item.get("lang")).level
        for group in ("all", f"lang:{item['lang']}", f"kind:{item['kind']}"):
            g = groups[group]
            if item["crisis"]:
                g["crises"] += 1
                g["caught"] += level != "none"
                g["acute"] += level == "acute"
            else:
                g["calm"] += 1
                g["alarms"] += level != "none"
                g["acute_alarms"] += level == "acute"
    out = {}
    for name, g in sorted(groups.items()):
        out[name] = {k: v for k, v in {
            "crises": g["crises"], "recall": _rate(g["caught"], g["crises"]),
            "acute_recall": _rate(g["acute"], g["crises"]),
            "non_crises": g["calm"], "false_alarms": _rate(g["alarms"], g["calm"]),
            "acute_false_alarms": _rate(g["acute_alarms"], g["calm"]),
        }.items() if v not in (None, 0)}
    return out


def leave_one_author_out() -> dict[str, Any]:
    """Each tuning author screened by a model trained without them (rules as they are): an honest
    view of what the learned model adds, used to choose its thresholds without the reporting split."""
    from bot.language.text import analyse
    from bot.safety import combine
    from bot.safety.crisis import token_marks
    from bot.safety.lexicon import bundled_rules
    from bot.safety.model import CrisisModel, train, training_examples

    rules = bundled_rules()
    items = load_split("tuning")
    everything = training_examples(CORPUS.parent.parent.parent)  # the tuning items first, in order
    rows: list[tuple[str, bool, float]] = []
    for author in dict.fromkeys(item["author"] for item in items):
        held = [i for i, item in enumerate(items) if item["author"] == author]
        left_out = set(held)
        model = train([example for i, example in enumerate(everything) if i not in left_out])
        for i in held:
            analysis = analyse(items[i]["text"], rules.variants, rules.clause_words, rules.abbreviations)
            rule_level = screen(items[i]["text"], model=CrisisModel({}, -30.0)).level  # the rules alone
            rows.append((rule_level, items[i]["crisis"], model.probability(analysis, token_marks(rules, analysis))[0]))
    crises_missed = [p for rule, crisis, p in rows if crisis and rule == "none"]
    out: dict[str, Any] = {"rules_alone_missed": len(crises_missed)}
    for low, high, alone in ((0.3, 0.8, 0.95), (0.3, 0.8, 1.01), (0.4, 0.8, 1.01), (0.5, 0.8, 0.95), (0.5, 0.8, 1.01)):
        levels = [(combine(rule, p, low, high, alone), crisis) for rule, crisis, p in rows]
        crises = [lv for lv, c in levels if c]
        calm = [lv for lv, c in levels if not c]
        out[f"possible>={low},acute>={high},alone>={alone}"] = {
            "recall": round(sum(lv != "none" for lv in crises) / len(crises), 3),
            "acute_recall": round(sum(lv == "acute" for lv in crises) / len(crises), 3),
            "false_alarms": round(sum(lv != "none" for lv in calm) / len(calm), 3),
            "acute_false_alarms": round(sum(lv == "acute" for lv in calm) / len(calm), 3),
        }
    return out


def misses(items: list[dict[str, Any]]) -> list[str]:
    lines = []
    for item in items:
        result = screen(item["text"], item.get("lang"))
        wrong = (result.level != "acute") if item["crisis"] else (result.level != "none")
        if wrong:
            signals = ", ".join(f"{s.signal.id}{'/' + s.set_aside if s.set_aside else ''}" for s in result.signals)
            lines.append(f"{item['id']} {item['lang']} {'CRISIS' if item['crisis'] else 'calm'}/{item['kind']} "
                         f"-> {result.level} [{signals}]\n    {item['text']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tuning", "reporting", "both"], default="both")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--loao", action="store_true", help="leave-one-author-out figures for the learned model")
    args = parser.parse_args(argv)
    if args.loao:
        print(json.dumps(leave_one_author_out(), indent=1))
        return 0
    if args.show_misses and args.split != "tuning":
        parser.error("misses are shown for the tuning split only (the reporting split stays blind)")
    splits = ["tuning", "reporting"] if args.split == "both" else [args.split]
    report = {name: evaluate(load_split(name)) for name in splits}
    print(json.dumps(report, indent=1))
    if args.show_misses:
        print("\n".join(misses(load_split("tuning"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
