"""Crash safety: a writer under load is killed with SIGKILL at random moments; nothing confirmed is lost.

``tests/crash_writer.py`` completes assessments for many users and prints ``CONFIRMED <user> <count>``
after each one the user was told about. The test kills it ``KILLS`` times at random moments (each new
writer resumes every user from the saved state), then checks that the database is intact, that every
confirmed assessment is stored, and that an interrupted conversation continues where it stopped.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.config import Config
from bot.engine.replies import Incoming
from bot.service import BotService
from bot.storage import Storage
from tests.conftest import press_until_summary

ROOT = Path(__file__).resolve().parents[1]
WRITER = Path(__file__).resolve().parent / "crash_writer.py"
KILLS = 5
READY_TIMEOUT = 30.0

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IDDT_ALLOWED_IDS", "IDDT_INVITE_CODE", "IDDT_DB")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _run_and_kill(db: Path, seed: int, delay: float) -> tuple[list[str], int]:
    """Start a writer, let it write for ``delay`` seconds after it is ready, SIGKILL it; its output lines."""
    proc = subprocess.Popen([sys.executable, str(WRITER), str(db), "--seed", str(seed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(ROOT))
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("READY"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(READY_TIMEOUT), f"writer did not start: {proc.stderr.read() if proc.poll() else ''}"
        time.sleep(delay)
        assert proc.poll() is None, f"writer died on its own: {proc.stderr.read()}"
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        returncode = proc.wait(10)
        reader.join(10)
        proc.stderr.close()
    return lines, returncode


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_sigkill_at_random_moments_loses_nothing_confirmed(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite"
    rng = random.Random()
    confirmed: dict[int, int] = {}
    kills = 0
    for round_number in range(KILLS):
        lines, returncode = _run_and_kill(db, seed=round_number, delay=rng.uniform(0.2, 1.2))
        assert returncode == -signal.SIGKILL
        kills += 1
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "CONFIRMED" and line.endswith("\n"):
                user, count = int(parts[1]), int(parts[2])
                confirmed[user] = max(confirmed.get(user, 0), count)
        assert _integrity(db) == "ok", f"after kill {kills}"

    assert kills == KILLS
    assert sum(confirmed.values()) > 0, "the writer confirmed no assessment before being killed"
    storage = Storage(db)
    try:
        for user, count in confirmed.items():
            stored = len(storage.assessments(user, limit=1_000_000))
            assert stored >= count, f"user {user}: {count} confirmed, {stored} stored"
        interrupted = [u for u in sorted(confirmed) if storage.conversation(u).active]
    finally:
        storage.close()
    print(f"\ncrash safety: {kills} SIGKILLs, {sum(confirmed.values())} confirmed assessments (max per user) "
          f"for {len(confirmed)} users, all stored; integrity ok")

    # An interrupted assessment resumes where it stopped and can be completed.
    assert interrupted, "expected some users to be in the middle of an assessment"
    user = interrupted[0]
    service = BotService(Config(db_path=db))
    try:
        before = service.storage.conversation(user)
        stored_before = len(service.storage.assessments(user, limit=1_000_000))
        replies = service.handle(user, Incoming.typed("/start"))
        after = service.storage.conversation(user)
        assert after.flow == before.flow and after.pos == before.pos and after.answers == before.answers
        welcome_back = service.kb.ui("welcome_back", service.storage.profile(user).lang)
        assert any(welcome_back in r.text for r in replies)
        replies = press_until_summary(service, user, replies)
        assert any(r.document is not None for r in replies)
        assert len(service.storage.assessments(user, limit=1_000_000)) == stored_before + 1
    finally:
        service.close()
