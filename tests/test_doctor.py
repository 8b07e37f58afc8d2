"""`iddt-bot doctor`: real databases, the bundled knowledge (and a broken copy), the local fake Bot API.

Every check is run for real: the databases are SQLite files made by the bot's own ``Storage`` (and
then damaged), the Bot API is ``tests/botapi_server.py`` on a local port, and one test runs the
command in its own process as a monitor would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import Storage
from tests.botapi_server import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAH" + "x" * 32
"""Shaped like a real token: digits, a colon, 35 characters."""


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    """Only what a test sets: no database or knowledge from the developer's environment."""
    for name in ("IDDT_DB", "IDDT_KNOWLEDGE", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database as the bot leaves it: created by ``Storage``, with some rows."""
    path = tmp_path / "data" / "iddt-bot.sqlite"
    storage = Storage(path)
    storage.db["events"].insert_all({"ts": i + 0.25, "kind": "step", "name": "n" * 80} for i in range(3000))
    storage.close()
    return path


def doctor(capsys, *args: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Run ``iddt-bot doctor``: the exit code, check name → (status, detail), the whole output."""
    code = main(["doctor", *args])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines():
        status, rest = line.split(maxsplit=1)
        name, _, detail = rest.partition("  ")
        lines[name.strip()] = (status, detail.strip())
    return code, lines, out


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_healthy_setup_exits_0(db, capsys):
    code, lines, out = doctor(capsys, "--db", str(db), "--offline")
    assert code == 0, out
    assert {name: status for name, (status, _) in lines.items()} == {
        "token": "ok", "database": "ok", "wal": "ok", "writable": "ok", "disk": "ok", "knowledge": "ok",
        "bot api": "skip"}
    assert "integrity_check ok" in lines["database"][1]
    assert "bot id 123456789" in lines["token"][1]
    assert TOKEN not in out and TOKEN.split(":")[1] not in out


def test_json_output_for_monitors(db, capsys):
    code = main(["doctor", "--db", str(db), "--offline", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == report["exit_code"] == 0
    assert report["status"] == "ok"
    assert [c["name"] for c in report["checks"]] == ["token", "database", "wal", "writable", "disk", "knowledge",
                                                     "bot api"]


def test_quick_mode_uses_quick_check_and_skips_the_knowledge(db, capsys):
    code, lines, _ = doctor(capsys, "--db", str(db), "--offline", "--quick")
    assert code == 0
    assert "quick_check ok" in lines["database"][1]
    assert lines["knowledge"][0] == "skip"


@pytest.mark.parametrize(("token", "code", "status", "fragment"), [
    ("", 2, "fail", "TELEGRAM_BOT_TOKEN is not set"),
    ("not-a-token", 2, "fail", "malformed"),
    ("123456789 AAHxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 2, "fail", "malformed"),
    (f"'{TOKEN}'", 2, "fail", "wrapped in quotes"),
    ("123456789:AAHshort-token", 1, "warn", "14 characters after the colon"),
])
def test_the_token_shape(db, capsys, monkeypatch, token, code, status, fragment):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    got, lines, out = doctor(capsys, "--db", str(db), "--offline", "--quick")
    assert (got, lines["token"][0]) == (code, status), out
    assert fragment in lines["token"][1]
    if token:
        assert token.strip("'") not in out


def test_a_file_that_is_not_a_database_fails(tmp_path, capsys):
    path = tmp_path / "iddt-bot.sqlite"
    path.write_bytes(bytes(range(256)) * 64)
    code, lines, _ = doctor(capsys, "--db", str(path), "--offline")
    assert code == 2
    assert lines["database"] == ("fail", f"{path}: file is not a database")
    assert lines["wal"][0] == lines["writable"][0] == "skip"


def test_a_row_out_of_step_with_its_index_fails_the_full_check(db, capsys):
    """A changed time in one events row (the index still has the old one): ``integrity_check`` sees it,
    the cheap ``quick_check`` of ``--quick`` does not."""
    data = bytearray(db.read_bytes())
    at = data.index(b"step" + b"n" * 80) - 8  # the row's ts, a float stored just before its kind
    assert struct.unpack(">d", data[at:at + 8])[0] % 1 == 0.25
    data[at:at + 8] = struct.pack(">d", 1e9 + 0.25)
    db.write_bytes(bytes(data))
    code, lines, _ = doctor(capsys, "--db", str(db), "--offline")
    assert code == 2
    assert lines["database"][0] == "fail"
    assert lines["database"][1].startswith(f"{db}: integrity_check: row ") and "missing from index" in lines["database"][1]
    code, lines, _ = doctor(capsys, "--db", str(db), "--offline", "--quick")
    assert (code, lines["database"][0]) == (0, "ok")


def test_a_database_not_yet_created_is_a_warning(tmp_path, capsys):
    path = tmp_path / "new" / "iddt-bot.sqlite"
    code, lines, _ = doctor(capsys, "--db", str(path), "--offline")
    assert code == 1
    assert lines["database"][0] == "warn" and "does not exist yet" in lines["database"][1]
    assert lines["writable"] == ("ok", f"{tmp_path} is writable")
    assert not path.parent.exists(), "the doctor must not create anything"


def test_a_database_not_in_wal_mode_is_a_warning(tmp_path, capsys):
    path = tmp_path / "plain.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (x)")
    code, lines, _ = doctor(capsys, "--db", str(path), "--offline", "--quick")
    assert code == 1
    assert lines["wal"] == ("warn", "journal mode delete, not wal (the bot switches it when it opens the file)")


def test_little_free_disk_warns_and_less_fails(db, capsys):
    free_mb = shutil.disk_usage(db.parent).free / 1e6
    code, lines, _ = doctor(capsys, "--db", str(db), "--offline", "--quick", "--min-free-mb", str(free_mb * 2))
    assert (code, lines["disk"][0]) == (1, "warn")
    code, lines, _ = doctor(capsys, "--db", str(db), "--offline", "--quick", "--min-free-mb", str(free_mb * 20))
    assert (code, lines["disk"][0]) == (2, "fail")


def test_broken_knowledge_fails_with_its_location(db, folder, capsys):
    path = folder / "zz_broken.yaml"
    path.write_text("interventions:\n  - id: broken\n    title: {nb: Brutt}\n", encoding="utf-8")
    code, lines, _ = doctor(capsys, "--db", str(db), "--offline", "--knowledge", str(folder))
    assert code == 2
    status, detail = lines["knowledge"]
    assert status == "fail"
    assert f"{path}:" in detail and "problem(s)" in detail


def test_the_bot_api_check_passes_against_a_local_bot_api(db, capsys):
    with FakeBotApi(token=TOKEN) as api:
        code, lines, out = doctor(capsys, "--db", str(db), "--base-url", api.base_url, "--quick")
        assert [r["method"] for r in api.requests] == ["getme"]
    assert code == 0, out
    assert lines["bot api"][0] == "ok" and "@iddt_test_bot" in lines["bot api"][1]


def test_a_rejected_token_fails_without_showing_it(db, capsys):
    with FakeBotApi(token="987654321:" + "y" * 35) as api:
        code, lines, out = doctor(capsys, "--db", str(db), "--base-url", api.base_url, "--quick")
    assert code == 2
    assert lines["bot api"] == ("fail", f"{api.base_url}: the token was rejected (401/404)")
    assert TOKEN.split(":")[1] not in out


def test_a_bot_api_slower_than_the_timeout_fails_in_time(db, capsys):
    with FakeBotApi(token=TOKEN) as api:
        api.inject("slow", 4.0, {"getme"})
        started = time.monotonic()
        code, lines, _ = doctor(capsys, "--db", str(db), "--base-url", api.base_url, "--quick", "--timeout", "1")
        took = time.monotonic() - started
    assert code == 2
    assert lines["bot api"][0] == "fail" and "unreachable within 1 s (TimedOut" in lines["bot api"][1]
    assert took < 3.5


def test_a_closed_port_fails(db, capsys):
    url = f"http://127.0.0.1:{closed_port()}/bot"
    code, lines, out = doctor(capsys, "--db", str(db), "--base-url", url, "--quick", "--timeout", "2")
    assert code == 2
    status, detail = lines["bot api"]
    assert status == "fail" and detail.startswith(f"{url}: unreachable within 2 s (")
    assert TOKEN.split(":")[1] not in out


def test_the_command_in_its_own_process(db, tmp_path):
    """As a monitor runs it: settings from the environment, the exit code and the JSON on stdout."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "IDDT_DB": str(db), "PYTHONPATH": str(ROOT)}
    env.pop("IDDT_KNOWLEDGE", None)
    with FakeBotApi(token=TOKEN) as api:
        done = subprocess.run([sys.executable, "-m", "bot", "doctor", "--json", "--base-url", api.base_url],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert {c["name"]: c["status"] for c in report["checks"]}["bot api"] == "ok"
    assert str(db) in {c["name"]: c["detail"] for c in report["checks"]}["database"]
    assert TOKEN.split(":")[1] not in done.stdout + done.stderr
