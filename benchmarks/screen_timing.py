"""How long the text readers take on long messages: the safety screen (``screen_p50_ms``,
``screen_p99_ms``) and the case-text estimator (``estimate_p99_ms``).

A long message here is 10 000 characters of case prose (the knowledge's case vignettes in nb and en,
cut at a random place), half of them with a crisis sentence put in at a random place: what a
clinician pasting a long note would send. The process is settled as the Telegram bot settles it
(``bot.serving``): without that, a full garbage collection over the loaded knowledge now and then
adds about 20 ms to one message. ``screen_p99_ms_dense`` is the worst case for information: 10 000 characters
of the labelled crisis corpus, where nearly every sentence holds a risk word.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.safety import screen
from bot.serving import settle_for_serving

ROOT = Path(__file__).resolve().parent.parent
LENGTH = 10_000
CRISIS_SENTENCES = ("Forresten sa han nettopp at han har samlet opp pillene og skal ta dem i kveld.",
                    "She has just told me she swallowed the whole packet half an hour ago.",
                    "Hun siger, hun vil gå ud foran toget, når vagten slutter.")


def _vignettes() -> str:
    texts = []
    for path in sorted((ROOT / "knowledge" / "cases").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            texts += [case["vignette"]["nb"], case["vignette"]["en"]]
    return " ".join(texts)


def _corpus() -> str:
    texts = []
    for path in sorted((ROOT / "tests" / "data" / "crisis").glob("a*.yaml")):
        texts += [item["text"] for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]]
    return " ".join(texts)


def messages(source: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        start = rng.randrange(0, max(1, len(source) - LENGTH))
        body = (source[start:] + " " + source)[: LENGTH - 100]
        cut = rng.randrange(0, len(body))
        crisis = rng.choice(CRISIS_SENTENCES) if len(out) % 2 else ""
        out.append((body[:cut] + " " + crisis + " " + body[cut:])[:LENGTH])
    return out


def _times(texts: list[str]) -> list[float]:
    screen(texts[0])  # the lexicon and model load once per process, not per message
    settle_for_serving()  # as the Telegram bot runs: the long-lived heap frozen, out of the collector's way
    times = []
    for text in texts:
        started = time.perf_counter()
        screen(text)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def time_screen(count: int = 200, seed: int = 5) -> dict[str, float]:
    notes = _times(messages(_vignettes(), count, seed))
    dense = _times(messages(_corpus(), max(20, count // 5), seed))
    return {"screen_p50_ms": _pick(notes, 0.5), "screen_p99_ms": _pick(notes, 0.99),
            "screen_p99_ms_dense": _pick(dense, 0.99)}


ADVERSARIAL_UNITS = ("a ", "ikke ", "1 ", ". ", " ", "\t", "sober for ", "fra daglig til ", "kept to ", "drops in ",
                     "har ikke redusert de siste tre ukene, men ", "to uker ", "siden påske ", "æøå ", "x",
                     "kontakt med ", "rusfri i over ett år og avsluttet behandlingen ")
"""Fragments that, repeated to 10 000 characters, would make a backtracking pattern blow up."""


def time_estimate(count: int = 100, seed: int = 5) -> dict[str, float]:
    """``estimate_p50_ms``/``estimate_p99_ms``: the case-text estimator (per substance, as /beskriv runs
    it) on 10 000-character case notes; ``estimate_max_ms_adversarial``: the slowest of the repeated
    fragments above (a guard against regular-expression backtracking, which would take seconds)."""
    from bot.assessment.estimator import estimate_per_substance
    from bot.knowledge import load_knowledge

    kb, _ = load_knowledge(ROOT / "knowledge")
    tree = kb.sats_tree
    notes = messages(_vignettes(), count, seed)
    estimate_per_substance(notes[0], tree)
    times = []
    for text in notes:
        started = time.perf_counter()
        estimate_per_substance(text, tree)
        times.append((time.perf_counter() - started) * 1000)
    worst = 0.0
    for unit in ADVERSARIAL_UNITS:
        text = (unit * (LENGTH // len(unit) + 1))[:LENGTH]
        started = time.perf_counter()
        estimate_per_substance(text, tree)
        worst = max(worst, (time.perf_counter() - started) * 1000)
    times.sort()
    return {"estimate_p50_ms": _pick(times, 0.5), "estimate_p99_ms": _pick(times, 0.99),
            "estimate_max_ms_adversarial": round(worst, 2)}


def _pick(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def time_screen_in_child(count: int = 200, seed: int = 5) -> dict[str, float]:
    """:func:`time_screen` in a fresh process: settling freezes the heap, which a caller (a test
    session) should not inherit."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.screen_timing", str(count), str(seed)],
                          capture_output=True, text=True, cwd=str(ROOT), check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    count, seed = (int(a) for a in (sys.argv[1:3] + ["200", "5"][len(sys.argv[1:3]):]))
    print(json.dumps({**time_estimate(max(20, count // 2), seed), **time_screen(count, seed)}))
