"""End to end: the real bot process against the local Bot API over HTTP, users in real time.

``iddt-bot telegram --base-url`` runs unchanged in a process of its own — python-telegram-bot's
polling, ``AIORateLimiter`` (Telegram allows about 30 messages per second overall), the service and
SQLite, as in production — against ``tests.botapi_server.FakeBotApi`` on 127.0.0.1. Simulated users
(200; 40 with ``--quick``) all send ``/start`` at the same moment, then each answers 5–15 s after the
bot's reply (1.5–3 s with ``--quick``): they press the buttons the bot sent, sometimes type the
answer or look something up, finish assessments and ask free-text questions (the mix of
``benchmarks.run``).

Figures (``e2e_figures``):

* ``e2e_burst_last_s`` — seconds from the burst of ``/start`` to the first reply of its last user;
  ``e2e_burst_out_of_order`` — users answered more than 0.1 s before someone who wrote earlier.
* ``e2e_reply_p50_ms``, ``e2e_reply_p99_ms`` — for updates handed to the bot once the burst is
  served: from the server handing the update to the bot (its getUpdates answer) to the first
  reply (a message, an edit or a document) arriving at the server.
* ``e2e_messages_per_update`` — new messages (``sendMessage``, ``sendDocument``) per update;
  ``e2e_edits_per_update`` the edits of messages already shown; ``e2e_requests_per_update`` both,
  which is what the rate limiter counts (answering a button press is not counted).

Run it as ``python -m benchmarks.e2e [--quick] [--json]``; ``iddt-bot bench`` includes it.
"""

from __future__ import annotations

import argparse
import heapq
import json
import queue
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.run import (
    BROWSE_STEPS,
    EN_SHARE,
    LOOKUP_SHARE,
    LOOKUPS_EN,
    LOOKUPS_NB,
    ROOT,
    TYPED_SHARE,
    percentile,
)
from bot.engine.replies import DONE_KEY
from tests.botapi_server import (  # the one fake Bot API of tests and benchmarks
    VISIBLE,
    BotProcess,
    Event,
    FakeBotApi,
)

NONE_KEY = "none"
"""A multi-select's "none of these" (``bot.engine.runner``)."""


class Load(NamedTuple):
    users: int
    think: tuple[float, float]
    """Seconds a user takes to act after the bot's reply (uniform)."""
    seconds: float
    """How long the users keep acting once the burst of /start is served."""


FULL = Load(200, (5.0, 15.0), 150.0)
QUICK = Load(40, (1.5, 3.0), 12.0)
FLOOD_LIMIT = 30.0
"""Messages per second Telegram allows a bot overall (and ``AIORateLimiter`` paces to)."""
GOALS = {"e2e_reply_p50_ms": 50.0, "e2e_reply_p99_ms": 250.0}
GRACE = 5.0
"""Seconds to wait for replies still owed once the users stop."""
FIRST_ID = 50_000_000
ORDER_SLACK = 0.1
"""Seconds by which a later user may be answered first without counting as out of order: requests
sent at the same moment reach the server in any order (the rate limiter lets 30 through at once)."""


def burst_goal_s(users: int) -> float:
    """The last of a burst answered within the time Telegram's flood limit needs, plus a second."""
    return users / FLOOD_LIMIT + 1.0


# ------------------------------------------------------------------------------ simulated users


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b for row in rows for b in row if b.get("callback_data")]


def _is_question(message: dict[str, Any]) -> bool:
    """Buttons of a step carry its version (a number) as token; look-up buttons a letter."""
    buttons = _buttons(message)
    return bool(buttons) and buttons[0]["callback_data"][:1].isdigit()


class User:
    """One simulated user, who reads only what the bot showed in their chat."""

    def __init__(self, user_id: int, rng: random.Random) -> None:
        self.id, self.rng = user_id, rng
        self.lang = "en" if rng.random() < EN_SHARE else "nb"
        self.started = False
        self.browse = 0
        self.mark = 0
        """Events in the chat before the user's last update."""

    def next_action(self, api: FakeBotApi) -> tuple[str, str, int | None]:
        """("press", callback data, message id) or ("type", text, None)."""
        if not self.started:
            self.started = True
            return "type", "/start", None
        self.read(api.chat_events(self.id, self.mark))
        shown = api.chat_messages(self.id)
        question = next((m for m in reversed(shown) if _is_question(m)), None)
        menu = next((m for m in reversed(shown) if _buttons(m) and not _is_question(m)), None)
        if self.browse > 0:
            self.browse -= 1
            if menu is not None and self.rng.random() < 0.3:
                return "press", self.rng.choice(_buttons(menu))["callback_data"], menu["message_id"]
            return "type", self._lookup(commands_only=False), None
        if question is None:
            return "type", "/vurdering" if self.lang == "nb" else "/assessment", None
        roll = self.rng.random()
        if roll < LOOKUP_SHARE:
            return "type", self._lookup(commands_only=True), None
        buttons = _buttons(question)
        keys = [b["callback_data"].partition("|")[2] for b in buttons]
        options = [b for b, key in zip(buttons, keys, strict=True) if key not in (DONE_KEY, NONE_KEY)]
        if DONE_KEY in keys:  # a multi-select: tick one box, then "done"
            ticked = any(b["text"].startswith("✓ ") for b in buttons)
            chosen = buttons[keys.index(DONE_KEY)] if ticked or not options else self.rng.choice(options)
            return "press", chosen["callback_data"], question["message_id"]
        chosen = self.rng.choice(options or buttons)
        if roll < LOOKUP_SHARE + TYPED_SHARE:
            return "type", chosen["text"], None
        return "press", chosen["callback_data"], question["message_id"]

    def _lookup(self, commands_only: bool) -> str:
        pool = LOOKUPS_EN if self.lang == "en" else LOOKUPS_NB
        commands = [q for q in pool if q.startswith("/")]
        if commands_only or self.rng.random() >= 0.75:
            return self.rng.choice(commands)
        return self.rng.choice([q for q in pool if not q.startswith("/")])

    def read(self, events: list[Event]) -> None:
        """The reply to the last update: after a summary document, a few look-ups before the next assessment."""
        if any(e.kind == "document" for e in events):
            self.browse = self.rng.randint(*BROWSE_STEPS)


class Sent(NamedTuple):
    update_id: int
    user_id: int
    mark: int
    """Events in the chat before this update: its replies come after."""
    kind: str


class Simulation:
    """Users who act a think-time after each reply; one thread, woken by the server's events."""

    def __init__(self, api: FakeBotApi, load: Load, seed: int) -> None:
        self.api, self.load = api, load
        self.rng = random.Random(seed)
        self.users = {FIRST_ID + i: User(FIRST_ID + i, random.Random(seed * 1000 + i)) for i in range(load.users)}
        self.sent: list[Sent] = []
        self.waiting: set[int] = set()
        self.replies: queue.Queue[tuple[int, float]] = queue.Queue()
        self.burst_started = 0.0
        self.burst_served: float | None = None
        api.listeners.append(self._on_event)

    def _on_event(self, chat_id: int, event: Event) -> None:  # in a server thread
        if event.kind in VISIBLE:
            self.replies.put((chat_id, event.t))

    def act(self, user: User) -> None:
        move, value, message_id = user.next_action(self.api)
        mark = user.mark = self.api.mark(user.id)
        if move == "press":
            update_id = self.api.press_data(user.id, value, message_id=message_id)
            kind = "press"
        else:
            update_id = self.api.send_message(user.id, value, language_code=user.lang)
            kind = "command" if value.startswith("/") else "text"
        self.sent.append(Sent(update_id, user.id, mark, kind))
        self.waiting.add(user.id)

    def run(self) -> None:
        """The burst of /start, then users acting until ``load.seconds`` after it was served."""
        self.burst_started = time.monotonic()
        for user in self.users.values():
            self.act(user)
        unanswered = set(self.users)
        due: list[tuple[float, int]] = []
        until = float("inf")
        while True:
            now = time.monotonic()
            while due and due[0][0] <= now:
                _, user_id = heapq.heappop(due)
                if now < until:
                    self.act(self.users[user_id])
            if now >= until and (not self.waiting or now >= until + GRACE):
                return
            timeout = min(due[0][0] - now if due else 0.5, max(0.0, until + GRACE - now))
            try:
                chat_id, seen = self.replies.get(timeout=max(0.001, timeout))
            except queue.Empty:
                continue
            if chat_id not in self.waiting:
                continue  # a later message of a reply already seen
            self.waiting.discard(chat_id)
            unanswered.discard(chat_id)
            if not unanswered and self.burst_served is None:
                self.burst_served = seen
                until = seen + self.load.seconds
            heapq.heappush(due, (seen + self.rng.uniform(*self.load.think), chat_id))


# ------------------------------------------------------------------------------------ figures


class Outcome(NamedTuple):
    sent: Sent
    delivered: float | None
    first: float | None
    """Time of the first visible reply."""
    events: list[Event]
    """Everything the bot did in the chat for this update."""


def outcomes(api: FakeBotApi, sent: list[Sent]) -> list[Outcome]:
    """Each update with its replies: the chat's events from its mark to the user's next update."""
    next_mark: dict[int, int] = {}
    result = []
    for item in reversed(sent):
        events = api.chat_events(item.user_id, item.mark, next_mark.get(item.user_id))
        next_mark[item.user_id] = item.mark
        first = next((e.t for e in events if e.kind in VISIBLE), None)
        result.append(Outcome(item, api.delivered.get(item.update_id), first, events))
    return result[::-1]


def burst_figures(burst: list[Outcome], started: float) -> dict[str, float]:
    answered = [o.first for o in sorted(burst, key=lambda o: o.sent.update_id)]
    if any(t is None for t in answered):
        return {"e2e_burst_last_s": float("inf"), "e2e_burst_out_of_order": float(len(answered))}
    latest, out_of_order = 0.0, 0
    for t in answered:
        out_of_order += t < latest - ORDER_SLACK  # type: ignore[operator]
        latest = max(latest, t)  # type: ignore[type-var]
    return {"e2e_burst_last_s": round(latest - started, 2), "e2e_burst_out_of_order": float(out_of_order)}


def steady_figures(steady: list[Outcome], seconds: float) -> dict[str, float]:
    latencies = [(o.first - o.delivered) * 1000 for o in steady if o.first is not None and o.delivered is not None]
    counts: Counter[str] = Counter(e.kind for o in steady for e in o.events)
    updates = max(1, len(steady))
    return {
        "e2e_reply_p50_ms": round(percentile(latencies, 50), 1),
        "e2e_reply_p99_ms": round(percentile(latencies, 99), 1),
        "e2e_reply_max_ms": round(max(latencies), 1),
        "e2e_messages_per_update": round((counts["message"] + counts["document"]) / updates, 3),
        "e2e_edits_per_update": round(counts["edit"] / updates, 3),
        "e2e_requests_per_update": round((counts["message"] + counts["document"] + counts["edit"]) / updates, 3),
        "e2e_updates": float(len(steady)),
        "e2e_unanswered": float(len(steady) - len(latencies)),
        "e2e_updates_per_s": round(len(steady) / seconds, 1),
    }


def in_bot_figures(output: str, skip: int) -> dict[str, float]:
    """The bot's own log line per update (its handling time, sending and rate limiting included),
    after the first ``skip`` lines (the burst), and whether anything went wrong."""
    handled = [float(m) for m in re.findall(r"update type=\w+ step=\S+ ms=([\d.]+)", output)][skip:]
    return {"e2e_in_bot_p50_ms": round(statistics.median(handled), 1) if handled else 0.0,
            "e2e_in_bot_p99_ms": round(percentile(handled, 99), 1) if handled else 0.0,
            "e2e_bot_errors": float(output.count(" ERROR ") + output.count("Traceback"))}


def e2e_figures(quick: bool = False, *, checkout: Path = ROOT, seed: int = 1) -> dict[str, float]:
    """Run the bot end to end and return its figures (see the module docstring)."""
    load = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="iddt-e2e-") as tmp, FakeBotApi() as api:
        bot = BotProcess(api, Path(tmp) / "bot.sqlite", Path(tmp) / "bot.log", checkout)
        try:
            startup = bot.wait_ready(60)
            simulation = Simulation(api, load, seed)
            simulation.run()
        finally:
            code = bot.stop()
        output = bot.output
    results = outcomes(api, simulation.sent)
    burst = results[:load.users]
    served = simulation.burst_served or float("inf")
    steady = [o for o in results[load.users:] if o.delivered is not None and o.delivered >= served]
    return {
        **burst_figures(burst, simulation.burst_started),
        **steady_figures(steady, load.seconds),
        "e2e_burst_goal_s": round(burst_goal_s(load.users), 2),
        "e2e_users": float(load.users),
        "e2e_startup_s": round(startup, 2),
        "e2e_exit_code": float(code),
        **in_bot_figures(output, load.users),
    }


def _cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.e2e", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.users} users, a short run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkout", type=Path, default=ROOT,
                        help="run the bot of another checkout (the server and users stay this one's)")
    args = parser.parse_args(argv)
    figures = e2e_figures(args.quick, checkout=args.checkout.resolve(), seed=args.seed)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            goal = GOALS.get(key) or (figures["e2e_burst_goal_s"] if key == "e2e_burst_last_s" else None)
            mark = "" if goal is None else f"  (goal <= {goal:g}: {'pass' if value <= goal else 'FAIL'})"
            print(f"{key:<26} {value:>10}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
