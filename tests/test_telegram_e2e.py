"""End to end: the unchanged ``iddt-bot telegram`` process against the local fake Bot API.

Simulated users complete assessments concurrently with buttons and typed answers; the Bot API
fails on purpose (429 with retry_after, 500/502, a slow reply, two seconds down) and every message
must still be answered; the process is restarted mid-assessment and resumes; the token never shows
in its output. Reply latency (message in → the bot's last visible reply) is written to
``telegram_e2e_latency.json`` in pytest's temporary directory and printed.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.service import load_all
from tests.botapi_server import TOKEN, VISIBLE, BotProcess, FakeBotApi
from tests.telegram_fakes import next_move

ROOT = Path(__file__).resolve().parent.parent
SETTLE = 0.3
"""Seconds of quiet after a visible reply before a simulated user acts again."""
MAX_TURNS = 80


@pytest.fixture(scope="module")
def ui():
    """Interface strings of the knowledge the bot process loads (to recognise e.g. "moved on")."""
    return load_all(Config())[0].ui


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def start_bot(server: FakeBotApi, tmp_path: Path):
    started: list[BotProcess] = []

    def start(db: Path | None = None) -> BotProcess:
        bot = BotProcess(server, db or tmp_path / "db.sqlite", tmp_path / f"bot-{len(started) + 1}.log")
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


class User:
    """A simulated user: acts, waits for the bot's whole answer, records the latency."""

    def __init__(self, server: FakeBotApi, user_id: int, lang: str = "nb") -> None:
        self.server, self.id, self.lang = server, user_id, lang
        self.latencies: list[float] = []
        self.sent = 0
        self.events: list[Any] = []

    def act(self, move: str, value: str) -> list[Any]:
        since = self.server.mark(self.id)
        started = time.monotonic()
        if move == "press":
            self.server.press_data(self.id, value)
        else:
            self.server.send_message(self.id, value, language_code=self.lang)
        self.sent += 1
        events = self.server.wait_reply(self.id, since, timeout=40, settle=SETTLE)
        visible = [e for e in events if e.kind in VISIBLE]
        self.latencies.append(visible[-1].t - started)
        self.events = events
        return events

    def text(self) -> str:
        return "\n".join(str((e.message or {}).get("text", "")) for e in self.events if e.kind in VISIBLE)

    def start(self) -> None:
        self.act("type", "/start")
        self.act("press", self.button("nb" if self.lang == "nb" else "en"))
        self.act("type", "/vurdering" if self.lang == "nb" else "/assessment")

    def button(self, key: str) -> str:
        rows = self.server.last_keyboard_message(self.id)["reply_markup"]["inline_keyboard"]
        return next(b["callback_data"] for row in rows for b in row if b["callback_data"].endswith("|" + key))

    def answer(self, turns: int = MAX_TURNS) -> bool:
        """Answer the assessment's questions; True once the summary document arrived."""
        for turn in range(turns):
            events = self.act(*next_move(self.server.last_keyboard_message(self.id), turn))
            if any(e.kind == "document" for e in events):
                return True
        return False

    def assess(self) -> bool:
        self.start()
        return self.answer()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(users: list[User]) -> dict[str, Any]:
    values = [v for u in users for v in u.latencies]
    return {"users": len(users), "messages": len(values),
            "median_ms": round(statistics.median(values) * 1000, 1), "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}


def run_all(users: list[User], job: Any) -> list[Any]:
    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(job, users))


def assert_clean_output(output: str) -> None:
    assert TOKEN not in output and "TEST-token" not in output
    assert "Traceback" not in output, output[-3000:]


def test_concurrent_users_complete_assessments_through_faults(server, start_bot, tmp_path_factory, capsys):
    bot = start_bot()
    startup = bot.wait_ready()
    menus = {key[1]: [c["command"] for c in commands] for key, commands in server.commands.items()}
    assert {"", "nb", "no", "en"} <= set(menus) and "vurdering" in menus["nb"]

    # Phase 1: six users at once, no faults (the latency figures).
    calm = [User(server, 100 + n, "nb" if n % 3 else "en") for n in range(6)]
    assert all(run_all(calm, User.assess))

    # Inline mode while we are at it.
    query_id = server.inline_query(100, "motivasjon")
    server.wait_answered(query_id)
    assert server.inline_answers[query_id]

    # Phase 2: five users again while the Bot API misbehaves.
    stormy = [User(server, 200 + n) for n in range(5)]

    def faults() -> None:
        time.sleep(0.5)
        server.inject("429", 1)
        time.sleep(0.5)
        for kind in ("500", "502", "500"):
            server.inject(kind)
        time.sleep(0.5)
        server.inject("slow", 2)
        time.sleep(1.0)
        server.go_down(2)

    storm = threading.Thread(target=faults)
    storm.start()
    assert all(run_all(stormy, User.assess))
    storm.join()
    assert bot.proc.poll() is None, "the bot died"
    assert not server.faults, "some scripted faults were never hit"
    statuses = {r["status"] for r in server.requests}
    assert {429, 500, 502} <= statuses

    everyone = calm + stormy
    for user in everyone:
        visible = [e for e in server.events[user.id] if e.kind in VISIBLE]
        assert len(visible) >= user.sent, f"user {user.id}: {user.sent} messages, {len(visible)} replies"
    assert all(q["answered"] for q in server.queries.values()), "a button press was never answered"

    assert bot.stop() == 0
    output = bot.output
    assert_clean_output(output)
    assert "polling error=" in output, "the outage should have cut a long poll"
    assert output.count("update type=") >= sum(u.sent for u in everyone) + 1

    handled = [float(m) for m in re.findall(r"update type=\w+ step=\S+ ms=([\d.]+)", output)]
    result = {"startup_s": round(startup, 2), "calm": figures(calm), "with_faults": figures(stormy),
              "in_bot_ms": {"updates": len(handled), "median": round(statistics.median(handled), 1),
                            "p95": round(percentile(handled, 0.95), 1)}}
    path = tmp_path_factory.getbasetemp() / "telegram_e2e_latency.json"
    path.write_text(json.dumps(result, indent=1))
    with capsys.disabled():
        print(f"\ntelegram e2e reply latency ({path}): {json.dumps(result)}")


def test_restart_mid_assessment_resumes_and_start_survives_an_unreachable_api(server, start_bot, ui):
    bot = start_bot()
    startup = bot.wait_ready()
    user = User(server, 300)
    user.start()
    assert not user.answer(turns=6)
    marker = "hemmelig-markør-4711"
    user.act("type", marker)  # free text: must never reach the logs
    pending = server.last_keyboard_message(user.id)
    assert bot.stop() == 0

    server.go_down(max(startup + 1.5, 3.0))  # the new process starts while the Bot API is unreachable
    bot = start_bot()
    bot.wait_ready()
    assert "bot api unreachable" in bot.output

    buttons = [b for row in pending["reply_markup"]["inline_keyboard"] for b in row]
    user.act("press", buttons[0]["callback_data"])  # a button from before the restart still counts
    assert ui("moved_on", "nb") not in user.text()
    assert user.answer(), "the assessment did not resume to its summary"
    assert bot.stop() == 0
    assert marker not in bot.output
    assert_clean_output(bot.output)


def test_bad_token_exits_with_2_without_printing_it(tmp_path, server):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "not a token", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bot", "telegram", "--base-url", server.base_url, "--db",
                           str(tmp_path / "db.sqlite")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "token" in done.stderr and "not a token" not in done.stderr + done.stdout
    env["TELEGRAM_BOT_TOKEN"] = "999999:WRONG-token-but-well-formed"
    done = subprocess.run([sys.executable, "-m", "bot", "telegram", "--base-url", server.base_url, "--db",
                           str(tmp_path / "db.sqlite")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "WRONG-token" not in done.stderr + done.stdout


def test_a_crisis_is_answered_first_and_alone_through_the_bot_api(server, start_bot, ui):
    bot = start_bot()
    bot.wait_ready()
    user = User(server, 400)
    user.start()
    events = user.act("type", "jeg orker ikke mer, har tatt alle pillene")
    visible = [e.message for e in events if e.kind in VISIBLE]
    assert "113" in visible[0]["text"] and "reply_markup" not in visible[0]  # first, and alone
    shown = user.text()
    assert ui("crisis_continue", "nb") in shown
    assert ui("not_understood", "nb") not in shown and "fant ikke noe godt svar" not in shown.lower()
    assert visible[-1].get("reply_markup")  # the open question again, with its buttons

    dane = User(server, 401, lang="da")  # a Danish client who reads English replies
    dane.start()
    first = [e.message for e in dane.act("type", "hun har taget alle sine piller og reagerer ikke")
             if e.kind in VISIBLE][0]
    assert first["text"].index("Denmark") < first["text"].index("Norway")
    assert bot.stop() == 0
    assert "piller" not in bot.output and "pillene" not in bot.output  # message text never logged
    assert_clean_output(bot.output)
