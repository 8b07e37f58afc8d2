"""Data scale (issue 13): the bot on a database that has grown for months.

    python -m benchmarks.scale [--quick] [--json]

Builds, in a temporary folder, a database with 100 000 users (each with a stored conversation),
20 000 assessments, 1 000 000 usage events, 50 000 practice attempts and 10 000 opted-in free texts
(``--quick``: a tenth of each), spread evenly over a time span of which 30 % lies before the
retention limit; the users' states and assessment records are real ones, taken from a short run of
the bot first. One user has many rows of everything (``iddt-bot data export`` for a heavy user).
Then it measures, in this order:

* ``scale_update_p99_ms`` — p99 of ``BotService.handle`` over a few hundred updates of simulated
  users (stored and new) who start, press the buttons of the replies, type answers and look things up;
  the process is settled first as the Telegram bot settles itself (``bot.serving``);
* ``scale_stats_s`` — ``usage_stats`` (what ``iddt-bot stats`` computes) on a freshly opened database;
* ``scale_export_ms`` — ``Storage.export_user`` of the heavy user;
* ``scale_purge_s`` — ``Storage.purge`` at the retention limit (it removes the oldest 30 %).

``scale_build_s`` says how long the database took to build (information, no goal).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from benchmarks.run import LOOKUP_SHARE, LOOKUPS_NB, TYPED_SHARE, percentile
from bot.config import Config
from bot.engine.replies import Incoming, Reply
from bot.knowledge import KnowledgeBase
from bot.service import BotService
from bot.storage import DAY, Storage

T = TypeVar("T")


@dataclass(frozen=True)
class Scale:
    """How many rows of each kind the built database holds, and how many updates are timed."""

    users: int
    assessments: int
    events: int
    practice: int
    free_texts: int
    updates: int


FULL = Scale(users=100_000, assessments=20_000, events=1_000_000, practice=50_000, free_texts=10_000, updates=400)
QUICK = Scale(users=10_000, assessments=2_000, events=100_000, practice=5_000, free_texts=1_000, updates=200)
HEAVY_ROWS = 500
"""Assessments, practice attempts and free texts of the one heavy user (each)."""
RETENTION_DAYS = 90
OLD_SHARE = 0.3
"""Share of the rows older than the retention limit."""
SPAN = RETENTION_DAYS * DAY / (1 - OLD_SHARE)
"""Seconds of history in the database: the newest 70 % lie within the limit."""
FIRST_USER = 1_000_000
BATCH = 5_000
"""Rows per ``insert_all`` statement batch."""
CHATS = 40
"""Simulated users whose updates are timed (half of them stored in the database, half new)."""
WARM_UP = 30
"""Updates before the timed ones (a first look-up builds caches every later one shares)."""
HARVEST = (12, 40)
"""(users, updates each) of the short run whose conversation states and records fill the database."""
EVENT_KINDS = {"command": 40, "search": 20, "search_miss": 8, "flow_start": 10, "flow_end": 8, "reask": 5,
               "practice_done": 4, "assessment_done": 2, "stale_button": 2, "crisis": 1}
"""Usage event kinds and their weights, as the engine writes them."""
GOALS = {"scale_update_p99_ms": 10.0, "scale_stats_s": 1.0, "scale_purge_s": 5.0, "scale_export_ms": 100.0}
"""Figure → the most it may be (issue 13)."""


# ----------------------------------------------------------------------------- simulated users


class Chat:
    """A simulated user: answers from the keyboard of the bot's last reply, sometimes types the
    answer or looks something up, and starts an assessment when nothing is asked."""

    def __init__(self, user_id: int, rng: random.Random) -> None:
        self.user_id = user_id
        self.rng = rng
        self.last: list[Reply] | None = None
        self.ticked: str | None = None

    def next_incoming(self) -> Incoming:
        if self.last is None:
            return Incoming.typed("/start")
        asking = [reply for reply in self.last if reply.options]
        roll = self.rng.random()
        if not asking or roll < LOOKUP_SHARE:
            return Incoming.typed(self.rng.choice(LOOKUPS_NB) if asking or roll < 0.5 else "/vurdering")
        reply = asking[-1]
        if roll < LOOKUP_SHARE + TYPED_SHARE:
            return Incoming.typed(self.rng.choice(reply.options).label.removeprefix("✓ "))
        return Incoming.pressed(self._key(reply), reply.token)

    def _key(self, reply: Reply) -> str:
        """In a multi-select one box, then done; elsewhere "assess a case" when offered, else any option."""
        keys = [option.key for option in reply.options]
        if reply.multi and "done" in keys:
            step = (reply.token or "").partition(".")[0]  # a tick changes the rest of the token
            if self.ticked == step:
                return "done"
            self.ticked = step
            return self.rng.choice([key for key in keys if key not in ("done", "none")] or keys)
        return "assess" if "assess" in keys else self.rng.choice(keys)


def drive(service: BotService, chats: list[Chat], updates: int) -> list[float]:
    """``updates`` updates, the chats taking turns; the seconds each ``handle`` took."""
    seconds = []
    for number in range(updates):
        chat = chats[number % len(chats)]
        incoming = chat.next_incoming()
        started = time.perf_counter()
        chat.last = service.handle(chat.user_id, incoming)
        seconds.append(time.perf_counter() - started)
    return seconds


# --------------------------------------------------------------------------------- the database


@dataclass(frozen=True)
class Samples:
    """Real conversation states (JSON) and assessment records from a short run of the bot."""

    states: list[str]
    records: list[dict[str, Any]]


def harvest(service: BotService, rng: random.Random) -> Samples:
    """Run a few simulated users through the bot and keep every state and assessment they stored."""
    users, updates = HARVEST
    chats = [Chat(user_id, rng) for user_id in range(1, users + 1)]
    states = []
    for _ in range(updates):
        drive(service, chats, len(chats))
        states += [row["state"] for row in service.storage.db["conversations"].rows]
    records = [json.loads(row["record"]) for row in service.storage.db["assessments"].rows]
    return Samples(states, records)


class Builder:
    """Fills a database with rows of every table, spread over :data:`SPAN` seconds before ``at``."""

    def __init__(self, scale: Scale, samples: Samples, kb: KnowledgeBase, at: float, rng: random.Random) -> None:
        self.scale = scale
        self.samples = samples
        self.kb = kb
        self.at = at
        self.rng = rng

    def build(self, path: Path) -> int:
        """Write the database; returns the heavy user's id."""
        Storage(path).close()  # the bot's own tables and indexes
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA synchronous=OFF")  # a throwaway database: no need to wait for the disk
        heavy = FIRST_USER
        try:
            self._insert(db, "users", self.users())
            self._insert(db, "conversations", self.conversations(db))
            self._insert(db, "assessments", self.assessments(self.scale.assessments, self.user))
            self._insert(db, "assessments", self.assessments(HEAVY_ROWS, lambda: heavy))
            self._insert(db, "practice", self.practice(self.scale.practice, self.student))
            self._insert(db, "practice", self.practice(HEAVY_ROWS, lambda: heavy))
            self._insert(db, "free_texts", self.free_texts(self.scale.free_texts, self.user))
            self._insert(db, "free_texts", self.free_texts(HEAVY_ROWS, lambda: heavy))
            self._insert(db, "events", self.events())
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        return heavy

    @staticmethod
    def _insert(db: sqlite_utils.Database, table: str, rows: Iterable[dict[str, Any]]) -> None:
        db[table].insert_all(rows, batch_size=BATCH)

    def times(self, count: int) -> Iterator[float]:
        """``count`` moments evenly over the span, oldest first (row ids grow with time, as in use)."""
        return (self.at - SPAN + SPAN * (number + 0.5) / count for number in range(count))

    def user(self) -> int:
        return FIRST_USER + self.rng.randrange(self.scale.users)

    def student(self) -> int:
        """One of the users who practise: a fifth of them."""
        return FIRST_USER + self.rng.randrange(self.scale.users // 5)

    def users(self) -> Iterator[dict[str, Any]]:
        for number in range(self.scale.users):
            seen = self.at - self.rng.random() * SPAN
            yield {"id": FIRST_USER + number, "lang": self.rng.choice(("nb", "nb", "nb", "en", "da")),
                   "privacy_seen": 1, "lang_chosen": 1, "store_free_text": int(self.rng.random() < 0.05),
                   "term": "personen", "active": 1, "created": seen - self.rng.random() * SPAN, "last_seen": seen}

    def conversations(self, db: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
        """Each user's conversation, stored when they were last seen."""
        for user_id, seen in db.execute("SELECT id, last_seen FROM users").fetchall():
            yield {"user_id": user_id, "state": self.rng.choice(self.samples.states), "updated": seen}

    def assessments(self, count: int, user: Callable[[], int]) -> Iterator[dict[str, Any]]:
        for created in self.times(count):
            record = self.rng.choice(self.samples.records)
            yield {"user_id": user(), "created": created, "stage": record.get("stage"),
                   "sats_level": record.get("sats_level"), "record": json.dumps(record, ensure_ascii=False)}

    def practice(self, count: int, user: Callable[[], int]) -> Iterator[dict[str, Any]]:
        cases = self.kb.all("cases")
        for created in self.times(count):
            case = self.rng.choice(cases)
            chosen = min(8, max(1, case.sats_level + self.rng.choice((-1, 0, 0, 0, 1))))
            yield {"user_id": user(), "created": created, "case_id": case.id, "gold_level": case.sats_level,
                   "chosen_level": chosen, "intervention_score": self.rng.choice((0.0, 0.5, 1.0)),
                   "trap_score": self.rng.choice((0.0, 0.5, 1.0))}

    def free_texts(self, count: int, user: Callable[[], int]) -> Iterator[dict[str, Any]]:
        for ts in self.times(count):
            yield {"user_id": user(), "ts": ts, "text": self.rng.choice(LOOKUPS_NB)}

    def events(self) -> Iterator[dict[str, Any]]:
        kinds, weights = list(EVENT_KINDS), list(EVENT_KINDS.values())
        nearest = [f"glossary:{item}" for item in self.kb.ids("glossary")] + [""]
        for ts in self.times(self.scale.events):
            kind = self.rng.choices(kinds, weights)[0]
            yield {"ts": ts, "kind": kind, "name": self.rng.choice(nearest) if kind == "search_miss" else ""}


# --------------------------------------------------------------------------------- the figures


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """What ``action`` returned, and the seconds it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def update_seconds(config: Config, scale: Scale, rng: random.Random) -> list[float]:
    """The seconds of each timed update, half of the simulated users stored in the database, half new."""
    from bot.serving import settle_for_serving

    service = BotService(config)
    try:
        settle_for_serving()
        drive(service, [Chat(FIRST_USER + scale.users + CHATS, rng)], WARM_UP)
        stored = rng.sample(range(FIRST_USER + 1, FIRST_USER + scale.users), CHATS // 2)
        new = range(FIRST_USER + scale.users, FIRST_USER + scale.users + CHATS // 2)
        return drive(service, [Chat(user_id, rng) for user_id in [*stored, *new]], scale.updates)
    finally:
        service.close()


def scale_figures(quick: bool = False, seed: int = 13) -> dict[str, float]:
    """Build the database of :data:`FULL` (``quick``: :data:`QUICK`) and measure it; see the module docstring."""
    from bot.stats import usage_stats

    scale = QUICK if quick else FULL
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="iddt-scale-") as tmp:
        folder = Path(tmp)
        config = Config(db_path=folder / "scale.sqlite", retention_days=RETENTION_DAYS)
        first_run = BotService(Config(db_path=folder / "harvest.sqlite"))
        try:
            samples, kb = harvest(first_run, rng), first_run.kb
        finally:
            first_run.close()
        heavy, build_s = timed(lambda: Builder(scale, samples, kb, time.time(), rng).build(config.db_path))
        updates = update_seconds(config, scale, rng)
        storage = Storage(config.db_path)
        try:
            _, stats_s = timed(lambda: usage_stats(storage, kb))
            _, export_s = timed(lambda: storage.export_user(heavy))
            _, purge_s = timed(lambda: storage.purge(RETENTION_DAYS))
        finally:
            storage.close()
    return {"scale_update_p99_ms": round(percentile(updates, 99) * 1000, 2),
            "scale_stats_s": round(stats_s, 3),
            "scale_purge_s": round(purge_s, 3),
            "scale_export_ms": round(export_s * 1000, 1),
            "scale_build_s": round(build_s, 1)}


def table(figures: dict[str, float]) -> str:
    """The figures, each with its goal marked pass or FAIL."""
    lines = []
    for key, value in figures.items():
        goal = GOALS.get(key)
        mark = "" if goal is None else f"  (goal <= {goal:g}: {'pass' if value <= goal else 'FAIL'})"
        lines.append(f"{key:<22} {value:>10}{mark}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a database a tenth the size (CI)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = scale_figures(quick=args.quick)
    print(json.dumps(figures) if args.json else table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
