"""The benchmark runs (``--quick``) and reports every figure. No timing assertions: goals live in the benchmark."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.run import GOALS, QUICK, main

ROOT = Path(__file__).resolve().parents[1]

FIGURES = ("updates_per_s", "echo_updates_per_s", "update_p50_ms", "update_p99_ms", "search_p50_ms",
           "search_p99_ms", "search_p99_ms_50x", "startup_s", "rss_mb", "screen_p50_ms", "screen_p99_ms",
           "crisis_recall", "crisis_acute_recall", "e2e_reply_p50_ms", "e2e_reply_p99_ms", "e2e_burst_last_s",
           "e2e_messages_per_update")
"""Figures that must be there and positive."""
ACCURACY = ("hit_at_1", "hit_at_3", "stage_accuracy", "sats_accuracy")
SCALE = ("scale_update_p99_ms", "scale_stats_s", "scale_purge_s", "scale_export_ms")


def test_quick_benchmark_reports_every_figure(capsys) -> None:
    assert main(quick=True, as_json=True) == 0
    figures = json.loads(capsys.readouterr().out)
    for key in FIGURES:
        value = figures[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert value > 0, key
    for key in ACCURACY:
        assert isinstance(figures[key], int | float) and 0 <= figures[key] <= 1, key
    if importlib.util.find_spec("benchmarks.scale") is not None:
        assert all(isinstance(figures[key], int | float) for key in SCALE)
    assert figures["e2e_burst_out_of_order"] >= 0
    assert set(figures["goals"]) == set(GOALS)
    for verdict in figures["goals"].values():
        assert isinstance(verdict["pass"], bool) and isinstance(verdict["value"], int | float)
    details = figures["details"]
    assert details["users"] == QUICK[0] and details["updates"] == QUICK[0] * QUICK[1]
    assert details["update_mix"]["button"] > 0 and details["update_mix"]["lookup_command"] > 0
    assert details["assessments_completed"] > 0
    assert details["kb_entries_50x"] >= 50 * details["kb_entries"] * 0.99
    e2e = details["e2e"]  # the real bot process over HTTP: every update answered, a clean stop
    assert e2e["e2e_updates"] > 0 and e2e["e2e_unanswered"] == 0
    assert e2e["e2e_exit_code"] == 0 and e2e["e2e_bot_errors"] == 0


def test_compare_runs_another_checkouts_bot_side_by_side() -> None:
    """``--compare`` replaces the echo with a real bot (here: this checkout's), fed the same updates."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--compare", str(ROOT), "--users", "20",
                           "--rounds", "6"], capture_output=True, text=True, cwd=str(ROOT), timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["updates_per_s"] > 0 and figures["other_updates_per_s"] > 0 and figures["this_vs_other"] > 0
    other, this = figures["other_bot_api_calls"], figures["bot_api_calls"]
    assert other.get("sendMessage") != 20 * 6, "the partner answered like the echo (one message per update)"
    for method in ("sendMessage", "answerCallbackQuery", "editMessageText"):
        assert other.get(method) == this.get(method), method  # the same bot, fed the same updates
