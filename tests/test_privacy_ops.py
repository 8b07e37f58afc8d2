"""Data minimisation and retention: purge, export, delete-user, /slett, the free-text setting, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path

import pytest

import bot.storage as storage_module
from bot import cli
from bot.engine.replies import Incoming
from bot.engine.runner import CONFIRM_DELETE
from bot.service import BotService
from bot.storage import DAY, Storage
from tests.conftest import press_until_summary

USER_TABLES = (("users", "id"), ("conversations", "user_id"), ("assessments", "user_id"),
               ("practice", "user_id"), ("free_texts", "user_id"))


def fnr(first_nine: str) -> str:
    """A Norwegian national identity number with both check digits valid."""
    digits = [int(c) for c in first_nine]
    k1 = (11 - sum(w * d for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), digits, strict=True)) % 11) % 11
    k2 = (11 - sum(w * d for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), [*digits, k1], strict=True)) % 11) % 11
    assert k1 < 10 and k2 < 10, "pick other digits"
    return f"{first_nine}{k1}{k2}"


FAKE_FNR = fnr("150385123")
FAKE_PHONE = "+47 912 34 567"
FAKE_TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_WORD = "Sjeldenordxyzzy"


def rows_for(db: Path, user_id: int) -> dict[str, int]:
    conn = sqlite3.connect(str(db))
    try:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column}=?", [user_id]).fetchone()[0]
                for table, column in USER_TABLES}
    finally:
        conn.close()


def complete_assessment(service: BotService, user_id: int) -> None:
    """Privacy note, language, then an assessment pressing the first option, until the summary document."""
    press_until_summary(service, user_id, service.handle(user_id, Incoming.typed("/vurdering")))


def run_cli(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


# --------------------------------------------------------------------------------- retention


def test_purge_removes_old_rows_and_keeps_new(tmp_path: Path, monkeypatch) -> None:
    storage = Storage(tmp_path / "p.sqlite")
    from bot.engine.state import Conversation, Profile

    start = 1_700_000_000.0
    clock = [start]
    monkeypatch.setattr(storage_module, "now", lambda: clock[0])
    old, new = 101, 202
    storage.save(Profile(old), Conversation(flow="assessment"), [{"kind": "command", "name": "x"}],
                 {"stage": "engagement", "sats_level": 2})
    storage.save_free_text(old, "gammel tekst")
    storage.save_practice(old, "case_1", 3, 3, 1.0, 1.0)
    clock[0] = start + 100 * DAY
    storage.save(Profile(new), Conversation(flow="assessment"), [{"kind": "command", "name": "y"}],
                 {"stage": "persuasion", "sats_level": 3})
    storage.save_free_text(new, "ny tekst")
    storage.save_practice(new, "case_2", 4, 4, 1.0, 1.0)

    removed = storage.purge(90, at=start + 100 * DAY)
    assert removed == {"assessments": 1, "practice": 1, "free_texts": 1, "events": 1, "conversations": 1,
                       "users": 1}
    storage.close()
    assert rows_for(tmp_path / "p.sqlite", old) == {"users": 0, "conversations": 0, "assessments": 0,
                                                    "practice": 0, "free_texts": 0}
    assert rows_for(tmp_path / "p.sqlite", new) == {"users": 1, "conversations": 1, "assessments": 1,
                                                    "practice": 1, "free_texts": 1}


def test_purge_expired_uses_the_configured_retention(make_service) -> None:
    service = make_service(retention_days=30)
    service.handle(5, Incoming.typed("/start"))
    assert service.purge_expired(at=storage_module.now() + 29 * DAY)["users"] == 0
    assert rows_for(service.config.db_path, 5)["users"] == 1
    removed = service.purge_expired(at=storage_module.now() + 31 * DAY)
    assert removed["users"] == 1 and removed["conversations"] == 1
    assert rows_for(service.config.db_path, 5) == dict.fromkeys(rows_for(service.config.db_path, 5), 0)


def test_cli_purge(make_service, capsys) -> None:
    service = make_service()
    service.handle(5, Incoming.typed("/start"))
    db = str(service.config.db_path)
    kept = run_cli(capsys, "data", "purge", "--db", db)
    assert kept["retention_days"] == 90 and sum(kept["removed"].values()) == 0
    assert rows_for(service.config.db_path, 5)["users"] == 1
    # Everything written "now" is older than a retention of -1 days.
    gone = run_cli(capsys, "data", "purge", "--db", db, "--days", "-1")
    assert gone["removed"]["users"] == 1
    assert rows_for(service.config.db_path, 5)["users"] == 0


# ------------------------------------------------------------------------ export and delete


def test_export_has_the_users_data_and_no_one_elses(make_service, capsys) -> None:
    service = make_service()
    alice, bob = 1001, 2002
    complete_assessment(service, alice)
    complete_assessment(service, bob)
    service.handle(bob, Incoming.typed("/lagring på"))
    service.handle(bob, Incoming.typed(f"motivasjon {SECRET_WORD}"))
    data = run_cli(capsys, "data", "export", "--user", str(alice), "--db", str(service.config.db_path))
    assert [u["id"] for u in data["user"]] == [alice]
    assert len(data["assessments"]) == 1 and data["assessments"][0]["user_id"] == alice
    assert data["assessments"][0]["record"]["stage"]
    assert data["conversation"] and data["conversation"][0]["user_id"] == alice
    text = json.dumps(data)
    assert str(bob) not in text and SECRET_WORD not in text

    bobs = run_cli(capsys, "data", "export", "--user", str(bob), "--db", str(service.config.db_path))
    assert [f["text"] for f in bobs["free_texts"]] == [f"motivasjon {SECRET_WORD}"]


def test_cli_delete_user_removes_everything(make_service, capsys) -> None:
    service = make_service()
    alice, bob = 1001, 2002
    complete_assessment(service, alice)
    complete_assessment(service, bob)
    service.handle(alice, Incoming.typed("/lagring på"))
    service.handle(alice, Incoming.typed("hva er skadereduksjon"))
    service.storage.save_practice(alice, "case_x", 2, 3, 0.5, 0.5)
    assert all(rows_for(service.config.db_path, alice).values())
    result = run_cli(capsys, "data", "delete-user", str(alice), "--db", str(service.config.db_path))
    assert result["user"] == alice and result["rows_removed"] >= 5
    assert rows_for(service.config.db_path, alice) == dict.fromkeys(rows_for(service.config.db_path, alice), 0)
    assert rows_for(service.config.db_path, bob)["assessments"] == 1


def test_slett_deletes_everything_after_confirmation(make_service) -> None:
    service = make_service()
    user = 3003
    complete_assessment(service, user)
    before = rows_for(service.config.db_path, user)
    assert before["users"] == 1 and before["assessments"] == 1

    replies = service.handle(user, Incoming.typed("/slett"))
    buttons = [(o.key, r.token) for r in replies for o in r.options]
    assert [key for key, _ in buttons] == [CONFIRM_DELETE]
    assert rows_for(service.config.db_path, user) == before, "nothing is deleted before the confirmation"

    replies = service.handle(user, Incoming.pressed(CONFIRM_DELETE, buttons[0][1]))
    assert replies[0].text == service.kb.ui("deleted", "nb")
    assert rows_for(service.config.db_path, user) == dict.fromkeys(before, 0)
    restarted = BotService(service.config)
    try:
        assert restarted.storage.assessments(user) == []
        assert not restarted.storage.conversation(user).active
    finally:
        restarted.close()


def test_slett_in_english(make_service) -> None:
    service = make_service()
    replies = service.handle(4004, Incoming.typed("/delete"), language_code="en")
    assert replies[0].options and replies[0].options[0].key == CONFIRM_DELETE


# --------------------------------------------------------------------------- free-text setting


def test_free_text_is_not_stored_by_default_and_is_after_opting_in(make_service) -> None:
    service = make_service()
    user = 5005
    service.handle(user, Incoming.typed("/start"))
    service.handle(user, Incoming.typed("nb"))
    service.handle(user, Incoming.typed("/avbryt"))
    service.handle(user, Incoming.typed(f"hva er skadereduksjon {SECRET_WORD}"))
    assert service.storage.count("free_texts") == 0
    for path in service.config.db_path.parent.glob(service.config.db_path.name + "*"):
        assert SECRET_WORD.encode() not in path.read_bytes(), path.name

    replies = service.handle(user, Incoming.typed("/lagring"))
    assert replies[0].text == service.kb.ui("storage_on", "nb")
    assert service.storage.profile(user).store_free_text
    service.handle(user, Incoming.typed("motiverende intervju"))
    service.handle(user, Incoming.typed(f"mitt nummer er {FAKE_PHONE}"))  # refused: never stored
    service.handle(user, Incoming.typed(f"fnr {FAKE_FNR}"))
    service.handle(user, Incoming.typed("/hjelp"))  # commands are not free text
    export = service.storage.export_user(user)
    assert [f["text"] for f in export["free_texts"]] == ["motiverende intervju"]

    replies = service.handle(user, Incoming.typed("/lagring av"))
    assert replies[0].text == service.kb.ui("storage_off", "nb")
    service.handle(user, Incoming.typed("housing first"))
    assert service.storage.count("free_texts") == 1


def test_storage_setting_in_english(make_service) -> None:
    service = make_service()
    replies = service.handle(6006, Incoming.typed("/storage on"), language_code="en")
    assert replies[0].text == service.kb.ui("storage_on", "en")
    replies = service.handle(6006, Incoming.typed("/storage off"), language_code="en")
    assert replies[0].text == service.kb.ui("storage_off", "en")


# ---------------------------------------------------------------------------------------- logs


SENSITIVE = (FAKE_FNR, FAKE_PHONE, "912 34 567", FAKE_TOKEN, SECRET_WORD, "ola.nordmann@example.no")
MESSAGES = (f"Pasienten har fødselsnummer {FAKE_FNR}", f"ring {FAKE_PHONE}", f"token {FAKE_TOKEN}",
            f"hva er {SECRET_WORD} skadereduksjon", "skriv til ola.nordmann@example.no",
            f"/ordliste {SECRET_WORD}", f"/{SECRET_WORD}", f"jeg vil ta livet mitt {SECRET_WORD}")


def _assert_clean(caplog, token: str | None = None) -> None:
    assert caplog.records, "expected some log records"
    output = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in (*SENSITIVE, *([token] if token else [])):
        assert secret not in output, f"{secret!r} leaked into the logs"


def test_no_message_text_in_service_logs(make_service, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    service = make_service()
    service.handle(7007, Incoming.typed("/start"))
    for text in MESSAGES:
        service.handle(7007, Incoming.typed(text))
    service.handle(7007, Incoming.typed("/lagring på"))
    for text in MESSAGES:
        service.handle(7007, Incoming.typed(text))
    _assert_clean(caplog)


def test_no_message_text_and_no_token_in_telegram_logs(make_service, caplog) -> None:
    """The whole Telegram path at the production log level (INFO; DEBUG for the bot's own loggers)."""
    telegram_module = pytest.importorskip("bot.channels.telegram")
    if not hasattr(telegram_module, "build_application"):
        pytest.skip("the Telegram front end has no build_application yet")
    from telegram import Update

    from benchmarks.run import recording_request_class

    token = "123456789:AAFsecretSECRETsecretSECRETsecret12"
    caplog.set_level(logging.INFO)
    for name in ("bot", "iddt_bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    service = make_service()
    request = recording_request_class()()
    app = telegram_module.build_application(service, token, request=request, rate_limiter=False)
    user = {"id": 8008, "is_bot": False, "first_name": "Test", "language_code": "nb"}

    async def run() -> None:
        await app.initialize()
        try:
            for number, text in enumerate(["/start", *MESSAGES], 1):
                message = {"message_id": number, "date": 0, "chat": {"id": 8008, "type": "private"},
                           "from": user, "text": text}
                await app.process_update(Update.de_json({"update_id": number, "message": message}, app.bot))
        finally:
            await app.shutdown()

    asyncio.run(run())
    assert request.calls["sendMessage"] >= len(MESSAGES)
    _assert_clean(caplog, token)
