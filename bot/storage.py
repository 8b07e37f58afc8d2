"""SQLite storage through sqlite-utils: users, conversation state, assessments, practice, events.

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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.engine.state import Conversation, Profile

DAY = 86400
LAST_SEEN_RESOLUTION = 3600.0
"""Seconds: ``users.last_seen`` may lag this much. It only serves the retention purge, counted in days."""
_LOAD = ("SELECT u.lang, u.privacy_seen, u.lang_chosen, u.store_free_text, u.term, u.active, u.last_seen, c.state,"
         " c.updated"
         " FROM (SELECT ? AS id) AS k LEFT JOIN users AS u ON u.id = k.id"
         " LEFT JOIN conversations AS c ON c.user_id = k.id")


_state_json = json.JSONEncoder(separators=(",", ":")).encode
"""Compact JSON for conversation state (one encoder: ``json.dumps`` with options builds one per call)."""
KEEP_SECONDS = 3600.0
"""Kept state older than this is read from the database again (retention runs in days)."""
KEEP_USERS = 5000
"""Most users whose last committed state :class:`Storage` keeps in memory (the least recent go first)."""
_UsersRow = tuple[tuple[str, int, int, int, str], int, float]
"""The users columns a step can change, ``active`` and ``last_seen``."""
_Snapshot = tuple[_UsersRow | None, str | None, float]


class _Deleted(Exception):
    """The user was deleted by another connection during the step: roll the step's writes back."""


def _user_fields(profile: Profile) -> tuple[str, int, int, int, str]:
    """The users columns a step can change, as stored."""
    return (profile.lang, int(profile.privacy_seen), int(profile.lang_chosen), int(profile.store_free_text),
            profile.term)


def now() -> float:
    return time.time()


class Storage:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self._read: dict[int, _Snapshot] = {}
        """What :meth:`load` found (users row, state JSON, its ``updated``), until the next :meth:`save`."""
        self._kept: dict[int, tuple[Profile, Conversation, _Snapshot, float]] = {}
        """What :meth:`save` just committed (and when), handed back by the next :meth:`load` (see there)."""
        self._from_kept: set[int] = set()
        self._data_version: int | None = None
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._create()

    def _create(self) -> None:
        db = self.db
        db["users"].create({"id": int, "lang": str, "privacy_seen": int, "lang_chosen": int,
                            "store_free_text": int, "term": str, "active": int, "created": float,
                            "last_seen": float, "invited": int}, pk="id", if_not_exists=True)
        if "invited" not in db["users"].columns_dict:  # a database from before invite codes
            db.execute("ALTER TABLE users ADD COLUMN invited INTEGER")
        db["conversations"].create({"user_id": int, "state": str, "updated": float}, pk="user_id",
                                   if_not_exists=True)
        db["assessments"].create({"id": int, "user_id": int, "created": float, "stage": str, "sats_level": int,
                                  "record": str}, pk="id", if_not_exists=True)
        db["practice"].create({"id": int, "user_id": int, "created": float, "case_id": str, "gold_level": int,
                               "chosen_level": int, "intervention_score": float, "trap_score": float},
                              pk="id", if_not_exists=True)
        db["events"].create({"id": int, "ts": float, "kind": str, "name": str}, pk="id", if_not_exists=True)
        db["free_texts"].create({"id": int, "user_id": int, "ts": float, "text": str}, pk="id", if_not_exists=True)
        for table, column in (("assessments", "user_id"), ("practice", "user_id"), ("free_texts", "user_id"),
                              ("events", "ts"), ("assessments", "created")):
            db[table].create_index([column], if_not_exists=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: everything inside commits together or not at all.

        ``BEGIN IMMEDIATE`` takes the write lock at once, so a transaction that reads first cannot
        fail when another connection wrote meanwhile.
        """
        conn = self.db.conn  # sqlite-utils' ``execute`` adds nothing to transaction control but its checks
        with self.lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------- users
    def profile(self, user_id: int, default_lang: str = "nb") -> Profile:
        return self.load(user_id, default_lang)[0]

    def conversation(self, user_id: int) -> Conversation:
        return self.load(user_id)[1]

    def load(self, user_id: int, default_lang: str = "nb") -> tuple[Profile, Conversation]:
        """The user's settings and conversation; remembers the users row for :meth:`save`.

        The objects the last :meth:`save` committed (within :data:`KEEP_SECONDS`) are handed back
        without a query or JSON parsing — taken out, so a step that fails before its save leaves
        nothing behind and the next load reads the database. :meth:`save` notices commits by other
        connections (``iddt-bot data delete-user``) and then drops everything kept.
        """
        with self.lock:
            kept = self._kept.pop(user_id, None)
        if kept is not None and now() - kept[3] < KEEP_SECONDS:
            self._read[user_id] = kept[2]
            self._from_kept.add(user_id)
            return kept[0], kept[1]
        self._from_kept.discard(user_id)
        row = self.db.conn.execute(_LOAD, [user_id]).fetchone()
        users_row: _UsersRow | None = None
        if row[0] is None:
            profile = Profile(user_id=user_id, lang=default_lang)
        else:
            profile = Profile(user_id, row[0], bool(row[1]), bool(row[2]), bool(row[3]), row[4] or "personen")
            users_row = (_user_fields(profile), row[5], row[6] or 0.0)
        self._read[user_id] = (users_row, row[7], row[8] or 0.0)
        conv = Conversation.from_dict(json.loads(row[7])) if row[7] else Conversation()
        return profile, conv

    def save(self, profile: Profile, conv: Conversation, events: list[dict[str, Any]] | None = None,
             assessment: dict[str, Any] | None = None) -> int | None:
        """Persist a step atomically: the profile, the conversation, events and a finished assessment.

        Only what changed is written: the users row when a setting changed, the user was inactive or
        ``last_seen`` is older than :data:`LAST_SEEN_RESOLUTION`; the conversation when its state
        changed (or its ``updated`` is that old). Every page a commit touches goes to the WAL, and a
        look-up changes neither. A step that changed nothing and has no events commits nothing.
        """
        ts = now()
        user_id = profile.user_id
        snapshot = self._read.pop(user_id, None)
        from_kept = user_id in self._from_kept
        self._from_kept.discard(user_id)
        fields = _user_fields(profile)
        state = _state_json(conv.to_dict())
        row = snapshot[0] if snapshot else None
        write_user = not (row is not None and row[0] == fields and row[1] == 1 and ts - row[2] < LAST_SEEN_RESOLUTION)
        write_state = not (snapshot is not None and snapshot[1] == state and ts - snapshot[2] < LAST_SEEN_RESOLUTION)
        assessment_id = None
        if write_user or write_state or events or assessment is not None:
            try:
                with self.transaction():  # the check below reads, then the step writes
                    if self._others_wrote() and from_kept and not self._user_exists(user_id):
                        raise _Deleted  # by another process while this step ran on kept state: stay deleted
                    assessment_id = self._write_step(user_id, state if write_state else None,
                                                     fields if write_user else None, ts, events, assessment)
            except _Deleted:
                return None
        kept_row = (fields, 1, ts) if write_user else row
        kept = (kept_row, state, ts if write_state else snapshot[2])  # type: ignore[index]
        self._remember(user_id, (profile, conv, kept, ts))
        return assessment_id

    def _remember(self, user_id: int, entry: tuple[Profile, Conversation, _Snapshot, float]) -> None:
        """Keep a user's state for their next step; beyond :data:`KEEP_USERS` the oldest go first."""
        with self.lock:
            self._kept.pop(user_id, None)  # re-inserted last
            self._kept[user_id] = entry
            if len(self._kept) > KEEP_USERS:
                del self._kept[next(iter(self._kept))]

    def keep(self, profile: Profile, conv: Conversation) -> None:
        """Hold a step's state for the user's next step without writing it (see ``Outcome.durable``).

        What the database holds stays the reference, so the next :meth:`save` writes everything
        that changed since the last commit. Without a snapshot from :meth:`load` there is nothing
        to compare with, and the step is saved instead.
        """
        user_id = profile.user_id
        snapshot = self._read.pop(user_id, None)
        if snapshot is None:
            self.save(profile, conv)
            return
        self._from_kept.discard(user_id)
        self._remember(user_id, (profile, conv, snapshot, now()))

    def _write_step(self, user_id: int, state: str | None, fields: tuple[str, int, int, int, str] | None,
                    ts: float, events: list[dict[str, Any]] | None, assessment: dict[str, Any] | None) -> int | None:
        """The writes of :meth:`save` (None: unchanged), inside its transaction; returns a new assessment's id."""
        execute = self.db.conn.execute  # inside the transaction: sqlite-utils' auto-commit check is moot
        if state is not None:
            execute(
                "INSERT INTO conversations (user_id, state, updated) VALUES (?, ?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET state=excluded.state, updated=excluded.updated",
                [user_id, state, ts])
        if fields is not None:
            execute(
                "INSERT INTO users (id, lang, privacy_seen, lang_chosen, store_free_text, term, active, created,"
                " last_seen) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT(id) DO UPDATE SET lang=excluded.lang,"
                " privacy_seen=excluded.privacy_seen, lang_chosen=excluded.lang_chosen,"
                " store_free_text=excluded.store_free_text, term=excluded.term, active=1,"
                " last_seen=excluded.last_seen",
                [user_id, *fields, ts, ts])
        for event in events or []:
            name = event.get("name") or event.get("flow") or event.get("step") or event.get("stage") or ""
            execute("INSERT INTO events (ts, kind, name) VALUES (?, ?, ?)", [ts, event["kind"], str(name)])
        if assessment is None:
            return None
        cursor = execute(
            "INSERT INTO assessments (user_id, created, stage, sats_level, record) VALUES (?, ?, ?, ?, ?)",
            [user_id, ts, assessment.get("stage"), assessment.get("sats_level"),
             json.dumps(assessment, ensure_ascii=False)])
        return cursor.lastrowid

    def _others_wrote(self) -> bool:
        """Inside a write transaction: whether another connection committed since the last check.

        If so, nothing kept is trusted any more. ``PRAGMA data_version`` is cheap here because the
        transaction is already open.
        """
        version = self.db.conn.execute("PRAGMA data_version").fetchone()[0]
        changed = self._data_version is not None and version != self._data_version
        self._data_version = version
        if changed:
            with self.lock:
                self._kept.clear()
        return changed

    def _user_exists(self, user_id: int) -> bool:
        return self.db.conn.execute("SELECT 1 FROM users WHERE id=?", [user_id]).fetchone() is not None

    def _forget(self, user_id: int | None = None) -> None:
        """Drop kept state after this connection changed rows behind :meth:`save` (one user, or all)."""
        with self.lock:
            if user_id is None:
                self._kept.clear()
                self._read.clear()
                self._from_kept.clear()
            else:
                self._kept.pop(user_id, None)
                self._read.pop(user_id, None)
                self._from_kept.discard(user_id)

    def is_invited(self, user_id: int) -> bool:
        """Whether the user has entered the invite code (kept until the user is deleted or purged)."""
        row = self.db.execute("SELECT invited FROM users WHERE id=?", [user_id]).fetchone()
        return bool(row and row[0])

    def set_invited(self, user_id: int, default_lang: str = "nb") -> None:
        ts = now()
        with self.transaction():
            self.db.execute(
                "INSERT INTO users (id, lang, privacy_seen, lang_chosen, store_free_text, active, created, last_seen,"
                " invited) VALUES (?, ?, 0, 0, 0, 1, ?, ?, 1) ON CONFLICT(id) DO UPDATE SET invited=1",
                [user_id, default_lang, ts, ts])

    def mark_inactive(self, user_id: int) -> None:
        self._forget(user_id)
        with self.transaction():
            self.db.execute("UPDATE users SET active=0 WHERE id=?", [user_id])

    def record_event(self, kind: str, name: str = "") -> None:
        with self.transaction():
            self.db.execute("INSERT INTO events (ts, kind, name) VALUES (?, ?, ?)", [now(), kind, name])

    # -------------------------------------------------------- assessments
    def assessments(self, user_id: int, limit: int = 10) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, created, record FROM assessments WHERE user_id=? ORDER BY id DESC LIMIT ?",
                               [user_id, limit]).fetchall()
        return [{"id": r[0], "created": r[1], **json.loads(r[2])} for r in rows]

    def save_practice(self, user_id: int, case_id: str, gold: int, chosen: int | None,
                      intervention_score: float | None, trap_score: float | None) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO practice (user_id, created, case_id, gold_level, chosen_level, "
                            "intervention_score, trap_score) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [user_id, now(), case_id, gold, chosen, intervention_score, trap_score])

    def practice_results(self, user_id: int | None = None) -> list[dict[str, Any]]:
        table = self.db["practice"]
        rows = table.rows_where("user_id = ?", [user_id]) if user_id is not None else table.rows
        return list(rows)

    def save_free_text(self, user_id: int, text: str) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO free_texts (user_id, ts, text) VALUES (?, ?, ?)", [user_id, now(), text])

    # ------------------------------------------------------------ privacy
    def delete_user(self, user_id: int) -> int:
        """Delete everything stored about one user; returns the number of rows removed."""
        removed = 0
        self._forget(user_id)
        with self.transaction():
            for table, column in (("assessments", "user_id"), ("practice", "user_id"), ("free_texts", "user_id"),
                                  ("conversations", "user_id"), ("users", "id")):
                removed += self.db.execute(f"DELETE FROM {table} WHERE {column}=?", [user_id]).rowcount
        return removed

    def export_user(self, user_id: int) -> dict[str, Any]:
        def rows(table: str, column: str) -> list[dict[str, Any]]:
            return list(self.db[table].rows_where(f"{column} = ?", [user_id]))
        data = {"user": rows("users", "id"), "conversation": rows("conversations", "user_id"),
                "assessments": rows("assessments", "user_id"), "practice": rows("practice", "user_id"),
                "free_texts": rows("free_texts", "user_id")}
        for item in data["assessments"]:
            item["record"] = json.loads(item["record"])
        for item in data["conversation"]:
            item["state"] = json.loads(item["state"])
        return data

    def purge(self, retention_days: int, at: float | None = None) -> dict[str, int]:
        """Remove what is older than the retention limit; returns rows removed per table."""
        cutoff = (at if at is not None else now()) - retention_days * DAY
        counts = {}
        self._forget()
        with self.transaction():
            for table, column in (("assessments", "created"), ("practice", "created"), ("free_texts", "ts"),
                                  ("events", "ts"), ("conversations", "updated")):
                counts[table] = self.db.execute(f"DELETE FROM {table} WHERE {column} < ?", [cutoff]).rowcount
            stale = self.db.execute(
                "DELETE FROM users WHERE last_seen < ? AND id NOT IN (SELECT user_id FROM assessments)"
                " AND id NOT IN (SELECT user_id FROM practice)", [cutoff]).rowcount
            counts["users"] = stale
        return counts

    def count(self, table: str) -> int:
        return self.db[table].count

    def close(self) -> None:
        self.db.conn.close()
