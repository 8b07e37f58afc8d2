"""A small learned second opinion for the crisis screen: logistic regression over words and word pairs.

The signal rules (:mod:`bot.safety.crisis`) are explainable but only know the phrasings someone wrote
down; on messages from authors the rules never saw they missed about one crisis in ten. This model
learns from the same labelled messages which words and word pairs make a crisis likely, whatever
phrase they stand in. The screen combines the two (see :func:`bot.safety.screen`): the model can raise
a message the rules let pass to ``possible``, and a ``possible`` one to ``acute``; it never lowers
what the rules found. Its reasons are the words that weighed most, so a trainer still sees why.

Train it (deterministic; a few seconds) after the labelled corpus or the text layer changes::

    iddt-bot kb train-screen

It reads only the *tuning* authors of ``tests/data/crisis`` (never the reporting split), the first
round's regression cases and the knowledge's case vignettes (as calm clinical prose), and writes
``crisis_model.json`` beside this file. Inference is a dictionary look-up per feature.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.language.forms import LANGUAGES, stem
from bot.language.text import Analysis
from bot.paths import CHECKOUT_DIR

MODEL_FILE = Path(__file__).with_name("crisis_model.json")
EPOCHS = 30
LEARNING_RATE = 0.2
L2 = 1e-4
MIN_WEIGHT = 0.02
"""Weights smaller than this are dropped from the saved model (they change no decision)."""
MIN_COUNT = 2
"""A feature seen in fewer training messages than this is not learned (one author's quirk)."""


def features(analysis: Analysis, marks: list[str] | None = None) -> list[str]:
    """Folded words, their stems (nb, da, en) and adjacent word pairs within a sentence, sorted.

    ``marks`` (from :func:`bot.safety.crisis.token_marks`) prefixes a word that a negation ("n"),
    the past ("p") or a frame ("f") reaches, so "denies SI" does not weigh like "SI".
    """
    found: set[str] = set()
    norms = analysis.norms
    marks = marks or [""] * len(norms)
    for first, end in analysis.sentence_bounds:
        for i in range(first, end):
            word, mark = norms[i], marks[i]
            found.add(f"{mark}w:{word}")
            if len(word) > 4:
                found.update(f"{mark}s:{stem(word, lang)}" for lang in LANGUAGES)
            if i + 1 < end:
                found.add(f"b:{word}_{norms[i + 1]}")
    return sorted(found)


@dataclass(frozen=True)
class CrisisModel:
    """Weights per feature and a bias; :meth:`probability` is the logistic of their sum."""

    weights: dict[str, float]
    bias: float

    def probability(self, analysis: Analysis, marks: list[str] | None = None) -> tuple[float, list[str]]:
        """P(crisis) and the features that pushed it up most (for the screen's reasons)."""
        present = [(self.weights[f], f) for f in features(analysis, marks) if f in self.weights]
        z = self.bias + sum(w for w, _ in present)
        top = [f.split(":", 1)[1] for w, f in sorted(present, reverse=True)[:3] if w > 0]
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z)))), top


@cache
def bundled_model() -> CrisisModel | None:
    """The committed model, or None when the file is missing (the rules then stand alone)."""
    if not MODEL_FILE.is_file():
        return None
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    return CrisisModel(data["weights"], data["bias"])


def train(examples: list[tuple[list[str], int]]) -> CrisisModel:
    """Plain stochastic gradient descent with L2 decay; the same data gives the same model."""
    counts: dict[str, int] = {}
    for feats, _ in examples:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    examples = [([f for f in feats if counts[f] >= MIN_COUNT], label) for feats, label in examples]
    weights: dict[str, float] = {}
    bias = 0.0
    order = list(range(len(examples)))
    rng = random.Random(0)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for index in order:
            feats, label = examples[index]
            z = bias + sum(weights.get(f, 0.0) for f in feats)
            gradient = 1 / (1 + math.exp(-max(-30.0, min(30.0, z)))) - label
            bias -= LEARNING_RATE * gradient
            for f in feats:
                weights[f] = weights.get(f, 0.0) * (1 - LEARNING_RATE * L2) - LEARNING_RATE * gradient
    kept = {f: round(w, 3) for f, w in sorted(weights.items()) if abs(w) >= MIN_WEIGHT}
    return CrisisModel(kept, round(bias, 3))


def training_examples(checkout: Path) -> list[tuple[list[str], int]]:
    """The tuning split, the regression cases and the case vignettes, as (features, label)."""
    import yaml

    from bot.language.text import analyse
    from bot.safety.crisis import token_marks
    from bot.safety.lexicon import bundled_rules

    rules = bundled_rules()

    def example(text: str, label: bool) -> tuple[list[str], int]:
        analysis = analyse(text, rules.variants, rules.clause_words, rules.abbreviations)
        return features(analysis, token_marks(rules, analysis)), int(label)

    corpus = checkout / "tests" / "data" / "crisis"
    split = yaml.safe_load((corpus / "split.yaml").read_text(encoding="utf-8"))
    examples = []
    for author in split["tuning"]:
        items = yaml.safe_load((corpus / f"{author}.yaml").read_text(encoding="utf-8"))["items"]
        examples += [example(item["text"], item["crisis"]) for item in items]
    cases = yaml.safe_load((checkout / "tests" / "data" / "screen_cases.yaml").read_text(encoding="utf-8"))
    examples += [example(case["text"], case["crisis"]) for case in cases["cases"]]
    for path in sorted((checkout / "knowledge" / "cases").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            examples += [example(case["vignette"][lang], False) for lang in ("nb", "en")]
    return examples


def save(model: CrisisModel, path: Path = MODEL_FILE) -> None:
    path.write_text(json.dumps({"bias": model.bias, "weights": model.weights}, ensure_ascii=False,
                               separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")


def retrain(checkout: Path = CHECKOUT_DIR) -> str:
    """Train on ``checkout``'s tuning data and save; a line saying what was written."""
    examples = training_examples(checkout)
    model = train(examples)
    save(model)
    return f"{MODEL_FILE}: {len(model.weights)} weights from {len(examples)} examples"

