"""``iddt-bot doctor``: is this installation fit to run the Telegram bot?

One line per check (token, database, disk, knowledge, Bot API) with ok / warn / fail, and an exit
code a monitor or a container health check can read: 0 all ok, 1 a warning, 2 a failure. It reads the
same settings as ``iddt-bot telegram`` (``TELEGRAM_BOT_TOKEN``, ``IDDT_DB``, ``IDDT_KNOWLEDGE`` and
the flags), never prints the token, and changes nothing: the database is opened without creating it
and a write transaction is started and rolled back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.config import Config

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
EXIT_CODES = {OK: 0, SKIP: 0, WARN: 1, FAIL: 2}
TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
TOKEN_SECRET_LENGTH = 35
"""Characters after the colon in the tokens @BotFather hands out."""
DEFAULT_TIMEOUT = 5.0
DEFAULT_MIN_FREE_MB = 100
SQLITE_BUSY_SECONDS = 5.0

SUMMARY = "check what `iddt-bot telegram` would run with: token, database, disk, knowledge, Bot API"
EXIT_CODES_HELP = """exit codes:
  0  every check is ok (or skipped)
  1  a warning: the bot runs, but look at the line marked warn
  2  a failure: the bot cannot run as configured (a line marked fail)"""


@dataclass(frozen=True)
class Check:
    """The outcome of one check: its name, ok/warn/fail/skip, and one line saying why."""

    name: str
    status: str
    detail: str


@dataclass(frozen=True)
class Options:
    """What to check and how hard (from the command line)."""

    offline: bool = False
    quick: bool = False
    timeout: float = DEFAULT_TIMEOUT
    min_free_mb: float = DEFAULT_MIN_FREE_MB


# ----------------------------------------------------------------------------- token


def check_token(token: str | None) -> Check:
    """The token is present and shaped as the bot requires (it refuses to start otherwise)."""
    from bot.channels.telegram import TOKEN_SHAPE

    value = (token or "").strip()  # the bot strips it too
    if not value:
        return Check("token", FAIL, "TELEGRAM_BOT_TOKEN is not set")
    if value[0] in "'\"" and value[-1] == value[0]:
        return Check("token", FAIL, "the token is wrapped in quotes (an env file for docker must not quote it)")
    if not TOKEN_SHAPE.match(value):
        return Check("token", FAIL, "malformed: a token looks like <digits>:<35 letters, digits, - or _>")
    bot_id, secret = value.split(":", 1)
    if len(secret) != TOKEN_SECRET_LENGTH:
        return Check("token", WARN, f"bot id {bot_id}, but {len(secret)} characters after the colon where "
                                    f"@BotFather gives {TOKEN_SECRET_LENGTH}: truncated when copied?")
    return Check("token", OK, f"shape ok (bot id {bot_id})")


# -------------------------------------------------------------------------- database


def check_database(path: Path, quick: bool = False) -> list[Check]:
    """The file opens, its pages are consistent, it is in WAL mode and a write can start."""
    path = path.expanduser().resolve()
    if not path.exists():
        return [Check("database", WARN, f"{path} does not exist yet (the bot creates it at start)"),
                Check("wal", SKIP, "no database yet"),
                _folder_writable(path)]
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        return [Check("database", FAIL, f"{path}: {exc}"), *_skipped_after_database()]
    with closing(conn):
        integrity = _guarded("database", path, lambda: _integrity(conn, path, quick))
        if integrity.status == FAIL:
            return [integrity, *_skipped_after_database()]
        return [integrity, _guarded("wal", path, lambda: _journal_mode(conn)),
                _guarded("writable", path, lambda: _write_lock(conn))]


def _connect(path: Path) -> sqlite3.Connection:
    """Open an existing database for reading and writing; never create one."""
    return sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=SQLITE_BUSY_SECONDS,
                           isolation_level=None)


def _guarded(name: str, path: Path, probe: Callable[[], Check]) -> Check:
    """Run one database probe; an SQLite error is that check's failure, not the doctor's crash."""
    try:
        return probe()
    except sqlite3.Error as exc:
        return Check(name, FAIL, f"{path}: {exc}")


def _skipped_after_database() -> list[Check]:
    """wal and writable say nothing new about a file that failed to open or check."""
    return [Check("wal", SKIP, "the database did not open"), Check("writable", SKIP, "the database did not open")]


def _integrity(conn: sqlite3.Connection, path: Path, quick: bool) -> Check:
    pragma = "quick_check" if quick else "integrity_check"
    rows = [row[0] for row in conn.execute(f"PRAGMA {pragma}")]
    if rows == ["ok"]:
        return Check("database", OK, f"{path}: {pragma} ok")
    problems = [line for row in rows for line in row.splitlines() if not line.startswith("***")]
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return Check("database", FAIL, f"{path}: {pragma}: {problems[0]}{more}")


def _journal_mode(conn: sqlite3.Connection) -> Check:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode == "wal":
        return Check("wal", OK, "journal mode wal")
    return Check("wal", WARN, f"journal mode {mode}, not wal (the bot switches it when it opens the file)")


def _write_lock(conn: sqlite3.Connection) -> Check:
    """Take the write lock and give it back: proves the file (and its folder) can be written."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")
    return Check("writable", OK, "a write transaction starts")


def _existing_folder(path: Path) -> Path:
    """The database's folder, or its nearest ancestor that exists (the bot creates the rest)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _folder_writable(path: Path) -> Check:
    folder = _existing_folder(path)
    if os.access(folder, os.W_OK | os.X_OK):
        return Check("writable", OK, f"{folder} is writable")
    return Check("writable", FAIL, f"{folder} is not writable by this user")


def check_disk(path: Path, min_free_mb: float = DEFAULT_MIN_FREE_MB) -> Check:
    """Free space where the database lives: a warning below the threshold, a failure below a tenth of it."""
    folder = _existing_folder(path.expanduser().resolve())
    free_mb = shutil.disk_usage(folder).free / 1e6
    detail = f"{free_mb:,.0f} MB free in {folder}"
    if free_mb < min_free_mb / 10:
        return Check("disk", FAIL, f"{detail} (needs at least {min_free_mb / 10:,.0f} MB)")
    if free_mb < min_free_mb:
        return Check("disk", WARN, f"{detail} (below {min_free_mb:,.0f} MB)")
    return Check("disk", OK, detail)


# ------------------------------------------------------------------------- knowledge


def check_knowledge(config: Config) -> Check:
    """The knowledge, flows and lexicons load as the bot loads them at start; word forms as ``kb check``."""
    from bot.service import knowledge_problems

    kb, problems = knowledge_problems(config.knowledge_dir, config.conversations_dir)
    broken = [p for p in problems if p.field != "word forms"]
    if kb is None or broken:
        return Check("knowledge", FAIL, f"{len(broken)} problem(s), first: {broken[0]}")
    entries = f"{config.knowledge_dir}: {sum(kb.counts().values())} entries"
    if problems:
        return Check("knowledge", WARN, f"{entries}; {problems[0].message}")
    return Check("knowledge", OK, f"{entries}, flows and lexicons valid")


# --------------------------------------------------------------------------- Bot API


def check_bot_api(token: str, base_url: str | None, timeout: float = DEFAULT_TIMEOUT) -> Check:
    """``getMe`` answers within ``timeout`` seconds and accepts the token."""
    from telegram.error import InvalidToken, NetworkError, TelegramError

    url = base_url or TELEGRAM_BASE_URL
    token = token.strip()
    started = time.monotonic()
    try:
        username = asyncio.run(_get_me(token, url, timeout))
    except InvalidToken:  # its message quotes the token: never shown
        return Check("bot api", FAIL, f"{url}: the token was rejected (401/404)")
    except NetworkError as exc:  # TimedOut included
        return Check("bot api", FAIL, f"{url}: unreachable within {timeout:g} s ({_redacted(exc, token)})")
    except TelegramError as exc:
        return Check("bot api", FAIL, f"{url}: getMe failed ({_redacted(exc, token)})")
    return Check("bot api", OK, f"{url}: getMe answered @{username} in {(time.monotonic() - started) * 1000:.0f} ms")


def _redacted(error: Exception, token: str) -> str:
    """The error's type and message with the token (and anything shaped like one) taken out."""
    from bot.channels.telegram import RedactTokens

    return RedactTokens(token).redact(f"{type(error).__name__}: {error}")


async def _get_me(token: str, base_url: str, timeout: float) -> str:
    """The bot's username; initialising a PTB ``Bot`` calls ``getMe``."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
                           pool_timeout=timeout)
    async with Bot(token, base_url=base_url, request=request) as bot:
        return bot.username


# ---------------------------------------------------------------------------- running


def run_checks(config: Config, options: Options) -> list[Check]:
    """Every check, in the order an operator fixes them."""
    token = check_token(config.token)
    checks = [token, *check_database(config.db_path, options.quick), check_disk(config.db_path, options.min_free_mb)]
    checks.append(Check("knowledge", SKIP, "--quick") if options.quick else check_knowledge(config))
    if options.offline:
        checks.append(Check("bot api", SKIP, "--offline"))
    elif token.status == FAIL:
        checks.append(Check("bot api", SKIP, "no usable token"))
    else:
        checks.append(check_bot_api(config.token or "", config.base_url, options.timeout))
    return checks


def exit_code(checks: list[Check]) -> int:
    """0 all ok, 1 the worst is a warning, 2 something failed."""
    return max((EXIT_CODES[check.status] for check in checks), default=0)


def as_text(checks: list[Check]) -> str:
    """One aligned line per check, the status first so ``grep ^fail`` finds the problems."""
    width = max(len(check.name) for check in checks)
    return "\n".join(f"{check.status:<4}  {check.name:<{width}}  {check.detail}" for check in checks)


def as_json(checks: list[Check]) -> str:
    """The overall status and exit code with every check, for monitors."""
    code = exit_code(checks)
    status = {0: OK, 1: WARN, 2: FAIL}[code]
    return json.dumps({"status": status, "exit_code": code, "checks": [asdict(c) for c in checks]},
                      ensure_ascii=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The doctor's own flags (``--db`` and ``--knowledge`` come from the common ones)."""
    parser.add_argument("--base-url", help=f"Bot API base URL for getMe (default {TELEGRAM_BASE_URL})")
    parser.add_argument("--offline", action="store_true", help="skip the Bot API check")
    parser.add_argument("--quick", action="store_true",
                        help="cheap mode for health checks: PRAGMA quick_check, knowledge not loaded")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds to wait for the Bot API (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--min-free-mb", type=float, default=DEFAULT_MIN_FREE_MB,
                        help=f"warn below this much free disk for the database, fail below a tenth "
                             f"(default {DEFAULT_MIN_FREE_MB})")


def main(config: Config, args: argparse.Namespace) -> int:
    """Run the checks chosen by ``args``, print them, return the exit code."""
    options = Options(offline=args.offline, quick=args.quick, timeout=args.timeout, min_free_mb=args.min_free_mb)
    checks = run_checks(config, options)
    print(as_json(checks) if args.json else as_text(checks))
    return exit_code(checks)
