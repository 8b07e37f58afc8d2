"""SQLite storage through sqlite-utils: users, conversation state, assessments, practice, events.

One update is one transaction: the service loads the user's state, runs the step and saves it inside
``with storage.transaction():``, so the step's writes commit together at the end or not at all.
WAL mode with ``synchronous=NORMAL``: a committed transaction survives the process being killed at
any moment (it is in the WAL file before the commit returns). Only structured answers are stored;
free text is kept only for users who opted in (``store_free_text``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from bot.engine.state import Conversation, Profile

DAY = 86400

TABLES: dict[str, tuple[dict[str, type], str]] = {
    "users": ({"id": int, "lang": str, "privacy_seen": int, "lang_chosen": int, "store_free_text": int,
               "term": str, "active": int, "created": float, "last_seen": float, "invited": int}, "id"),
    "conversations": ({"user_id": int, "state": str, "updated": float}, "user_id"),
    "assessments": ({"id": int, "user_id": int, "created": float, "stage": str, "sats_level": int,
                     "record": str}, "id"),
    "practice": ({"id": int, "user_id": int, "created": float, "case_id": str, "gold_level": int,
                  "chosen_level": int, "intervention_score": float, "trap_score": float}, "id"),
    "events": ({"id": int, "ts": float, "kind": str, "name": str}, "id"),
    "free_texts": ({"id": int, "user_id": int, "ts": float, "text": str}, "id"),
}
"""Table → (columns, primary key)."""

INDEXES: tuple[tuple[str, ...], ...] = (
    ("assessments", "user_id"), ("practice", "user_id"), ("free_texts", "user_id"),  # /mine, /progress, export
    ("events", "ts"), ("assessments", "created"),  # the daily purge
)
"""(table, column, ...) of every index. More were measured and left out (``benchmarks/README.md``,
*Data scale*): indexes on ``last_seen`` and ``updated``, which every step changes, or on the events'
kind cost each write and the purge more than they save."""

USER_DATA: dict[str, tuple[str, str]] = {
    "user": ("users", "id"), "conversation": ("conversations", "user_id"),
    "assessments": ("assessments", "user_id"), "practice": ("practice", "user_id"),
    "free_texts": ("free_texts", "user_id"),
}
"""Everything stored about one user: export key → (table, user id column). Events are anonymous."""

DATED: dict[str, str] = {"assessments": "created", "practice": "created", "free_texts": "ts", "events": "ts",
                         "conversations": "updated"}
"""Table → the time column the retention purge reads."""

STALE_USER = ("last_seen < ? AND id NOT IN (SELECT user_id FROM assessments)"
              " AND id NOT IN (SELECT user_id FROM practice)")
"""A users row the purge removes: not seen within the limit, and nothing of theirs left to keep."""


def now() -> float:
    """The clock every stored time comes from (one function, so a test can move it)."""
    return time.time()


def _settings(profile: Profile) -> dict[str, Any]:
    """The users columns that hold the profile's settings."""
    return {"lang": profile.lang, "privacy_seen": profile.privacy_seen, "lang_chosen": profile.lang_chosen,
            "store_free_text": profile.store_free_text, "term": profile.term}


def _profile(row: dict[str, Any]) -> Profile:
    default = Profile(row["id"])
    return Profile(row["id"], row["lang"] or default.lang, bool(row["privacy_seen"]), bool(row["lang_chosen"]),
                   bool(row["store_free_text"]), row["term"] or default.term)


def _event_row(event: dict[str, Any], ts: float) -> dict[str, Any]:
    """An engine event as an anonymous events row: its kind and the one name that says what it was about."""
    name = event.get("name") or event.get("flow") or event.get("step") or event.get("stage") or ""
    return {"ts": ts, "kind": event["kind"], "name": str(name)}


class Storage:
    """The bot's database. Safe to share between threads: one at a time uses the connection."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no transaction opens implicitly, only in transaction() and reading()
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        """Held for a whole transaction: the daily purge runs on another thread than the updates."""
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable at each commit against a crash of the process
        self._create()

    def _create(self) -> None:
        for name, (columns, pk) in TABLES.items():
            self.db[name].create(columns, pk=pk, if_not_exists=True)
        if "invited" not in self.db["users"].columns_dict:  # a database from before invite codes
            self.db["users"].add_column("invited", int)
        for table, *columns in INDEXES:
            self.db[table].create_index(columns, if_not_exists=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together at the end of the outermost block, or not at all.

        The outermost block takes the write lock at once (``BEGIN IMMEDIATE``), so a step that reads
        before it writes cannot fail because another process (``iddt-bot data``) wrote meanwhile. An
        inner block is a savepoint: its exception undoes only its own writes.
        """
        with self.lock:
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.db.execute("COMMIT")
            except BaseException:
                self.db.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads that belong together see one state of the database (in a transaction, its own)."""
        with self.lock, self.db.atomic():
            yield

    def _get(self, table: str, pk: int) -> dict[str, Any] | None:
        with suppress(NotFoundError):
            return self.db[table].get(pk)
        return None

    # ------------------------------------------------------------- users
    def load(self, user_id: int, default_lang: str = "nb") -> tuple[Profile, Conversation]:
        """The user's settings and conversation; defaults for a user with nothing stored."""
        with self.reading():
            user = self._get("users", user_id)
            stored = self._get("conversations", user_id)
        profile = _profile(user) if user else Profile(user_id, lang=default_lang)
        conv = Conversation.from_dict(json.loads(stored["state"])) if stored else Conversation()
        return profile, conv

    def profile(self, user_id: int, default_lang: str = "nb") -> Profile:
        return self.load(user_id, default_lang)[0]

    def conversation(self, user_id: int) -> Conversation:
        return self.load(user_id)[1]

    def save(self, profile: Profile, conv: Conversation, events: list[dict[str, Any]] | None = None,
             assessment: dict[str, Any] | None = None) -> int | None:
        """Persist a step: settings, conversation, usage events and a finished assessment, all or nothing.

        Returns the new assessment's id.
        """
        ts = now()
        user_id = profile.user_id
        with self.transaction():
            self._add_user(profile, ts)
            self.db["users"].update(user_id, {**_settings(profile), "active": 1, "last_seen": ts})
            self.db["conversations"].upsert({"user_id": user_id, "state": conv.to_dict(), "updated": ts},
                                            pk="user_id")
            if events:
                self.db["events"].insert_all(_event_row(event, ts) for event in events)
            if assessment is None:
                return None
            return self.db["assessments"].insert(
                {"user_id": user_id, "created": ts, "stage": assessment.get("stage"),
                 "sats_level": assessment.get("sats_level"), "record": assessment}).last_pk

    def _add_user(self, profile: Profile, ts: float) -> None:
        """The users row of someone seen for the first time; a known user's row stays as it is."""
        self.db["users"].insert({"id": profile.user_id, **_settings(profile), "active": 1, "created": ts,
                                 "last_seen": ts}, ignore=True)

    def is_invited(self, user_id: int) -> bool:
        """Whether the user has entered the invite code (kept until the user is deleted or purged)."""
        with self.reading():
            user = self._get("users", user_id)
        return bool(user and user["invited"])

    def set_invited(self, user_id: int, default_lang: str = "nb") -> None:
        with self.transaction():
            self._add_user(Profile(user_id, lang=default_lang), now())
            self.db["users"].update(user_id, {"invited": 1})

    def mark_inactive(self, user_id: int) -> None:
        """The user blocked the bot; a user with nothing stored has no row to mark."""
        with self.transaction(), suppress(NotFoundError):
            self.db["users"].update(user_id, {"active": 0})

    def record_event(self, kind: str, name: str = "") -> None:
        with self.transaction():
            self.db["events"].insert({"ts": now(), "kind": kind, "name": name})

    # -------------------------------------------------------- assessments
    def assessments(self, user_id: int, limit: int = 10) -> list[dict[str, Any]]:
        """The user's finished assessments, newest first."""
        with self.reading():
            rows = self.db["assessments"].rows_where("user_id = ?", [user_id], order_by="id desc", limit=limit,
                                                     select="id, created, record")
            return [{"id": row["id"], "created": row["created"], **json.loads(row["record"])} for row in rows]

    def save_practice(self, user_id: int, case_id: str, gold: int, chosen: int | None,
                      intervention_score: float | None, trap_score: float | None) -> None:
        with self.transaction():
            self.db["practice"].insert({"user_id": user_id, "created": now(), "case_id": case_id, "gold_level": gold,
                                        "chosen_level": chosen, "intervention_score": intervention_score,
                                        "trap_score": trap_score})

    def practice_results(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """One user's practice attempts (everyone's without ``user_id``), oldest first."""
        with self.reading():
            table = self.db["practice"]
            return list(table.rows_where("user_id = ?", [user_id]) if user_id is not None else table.rows)

    def save_free_text(self, user_id: int, text: str) -> None:
        with self.transaction():
            self.db["free_texts"].insert({"user_id": user_id, "ts": now(), "text": text})

    # ------------------------------------------------------------ privacy
    def delete_user(self, user_id: int) -> int:
        """Delete everything stored about one user; returns the number of rows removed."""
        with self.transaction():
            return sum(self._delete_where(table, f"{column} = ?", [user_id]) for table, column in USER_DATA.values())

    def export_user(self, user_id: int) -> dict[str, Any]:
        """Everything stored about one user, as plain data (``iddt-bot data export``)."""
        with self.reading():
            data = {key: list(self.db[table].rows_where(f"{column} = ?", [user_id]))
                    for key, (table, column) in USER_DATA.items()}
        for item in data["assessments"]:
            item["record"] = json.loads(item["record"])
        for item in data["conversation"]:
            item["state"] = json.loads(item["state"])
        return data

    def purge(self, retention_days: int, at: float | None = None) -> dict[str, int]:
        """Remove what is older than the retention limit; returns rows removed per table."""
        cutoff = (now() if at is None else at) - retention_days * DAY
        with self.transaction():
            removed = {table: self._delete_where(table, f"{column} < ?", [cutoff]) for table, column in DATED.items()}
            removed["users"] = self._delete_where("users", STALE_USER, [cutoff])
        return removed

    def _delete_where(self, table: str, where: str, args: list[Any]) -> int:
        """``delete_where``, and how many rows it removed (sqlite-utils does not say)."""
        before = self.db.conn.total_changes
        self.db[table].delete_where(where, args)
        return self.db.conn.total_changes - before

    def count(self, table: str) -> int:
        with self.reading():
            return self.db[table].count

    def close(self) -> None:
        with self.lock:
            self.db.close()
