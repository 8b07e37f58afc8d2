"""Storage as a user meets it: a step is stored whole or not at all, deletion and retention are complete."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.engine.state import Conversation, Position, Profile
from bot.storage import DAY, USER_DATA, Storage

ASSESSMENT = {"stage": "engagement", "sats_level": 2}


def _step(storage: Storage, user: int, answer: str) -> Conversation:
    """One answered question: load, change, save."""
    profile, conv = storage.load(user)
    conv.flow = "assessment"
    conv.pos = Position("q", 0)
    conv.answers[answer] = "yes"
    conv.history.append(Position(answer, 0, None))
    storage.save(profile, conv)
    return conv


def _write_everything(storage: Storage, user: int) -> None:
    """What one update may write about a user: state, events, an assessment, practice, free text."""
    profile, conv = storage.load(user)
    conv.answers["everything"] = "yes"
    storage.save(profile, conv, [{"kind": "flow_end", "flow": "assessment"}], ASSESSMENT)
    storage.save_practice(user, "case_1", 3, 2, 0.5, 1.0)
    storage.save_free_text(user, "motiverende intervju")
    storage.record_event("search", "glossary:rop")


def _rows(storage: Storage, user: int) -> dict[str, int]:
    return {table: storage.db[table].count_where(f"{column} = ?", [user]) for table, column in USER_DATA.values()}


def _all_rows(storage: Storage) -> dict[str, int]:
    return {table: storage.count(table) for table in ("users", "conversations", "assessments", "practice",
                                                      "free_texts", "events")}


def test_a_saved_step_is_what_a_restarted_bot_reads(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    for answer in ("a", "b", "c"):
        _step(storage, 7, answer)
    profile, conv = Storage(tmp_path / "db.sqlite").load(7)
    assert conv.answers == {"a": "yes", "b": "yes", "c": "yes"}
    assert [p.step for p in conv.history] == ["a", "b", "c"]
    assert profile == Profile(7)


def test_a_step_that_fails_is_stored_not_at_all(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    _step(storage, 7, "a")
    before = _all_rows(storage)
    with pytest.raises(RuntimeError), storage.transaction():
        _write_everything(storage, 7)
        raise RuntimeError("the step failed after its writes")
    assert _all_rows(storage) == before
    assert storage.load(7)[1].answers == {"a": "yes"}


def test_a_step_is_seen_by_others_only_when_it_is_complete(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    other = Storage(tmp_path / "db.sqlite")  # `iddt-bot data export` while the bot runs
    with storage.transaction():
        _write_everything(storage, 7)
        assert _rows(other, 7) == dict.fromkeys(_rows(other, 7), 0)
    assert all(_rows(other, 7).values())


def test_a_failed_inner_block_undoes_only_its_own_writes(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    with storage.transaction():
        _step(storage, 7, "a")
        with pytest.raises(RuntimeError), storage.transaction():
            storage.save_free_text(7, "half a step")
            raise RuntimeError
        storage.record_event("search")
    assert storage.load(7)[1].answers == {"a": "yes"}
    assert storage.count("free_texts") == 0 and storage.count("events") == 1


def test_delete_user_removes_every_row_of_that_user_only(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    _write_everything(storage, 7)
    _write_everything(storage, 8)
    storage.set_invited(7)
    assert storage.delete_user(7) == sum(_rows(storage, 8).values())
    assert _rows(storage, 7) == dict.fromkeys(_rows(storage, 7), 0)
    assert all(_rows(storage, 8).values())
    assert storage.count("events") == 4  # usage events name no user: they stay
    assert not storage.is_invited(7)


def test_a_user_deleted_by_another_process_starts_from_nothing(tmp_path: Path) -> None:
    bot = Storage(tmp_path / "db.sqlite")
    _step(bot, 7, "a")
    _step(bot, 8, "a")
    operator = Storage(tmp_path / "db.sqlite")  # `iddt-bot data delete-user 7` while the bot runs
    assert operator.delete_user(7) > 0
    _step(bot, 7, "b")  # the user writes again
    _step(bot, 8, "b")
    assert operator.load(7)[1].answers == {"b": "yes"}
    assert operator.load(8)[1].answers == {"a": "yes", "b": "yes"}


def test_purge_removes_what_is_older_than_the_limit_and_keeps_the_rest(tmp_path: Path, monkeypatch) -> None:
    import bot.storage as storage_module

    storage = Storage(tmp_path / "db.sqlite")
    start = 1_700_000_000.0
    clock = [start]
    monkeypatch.setattr(storage_module, "now", lambda: clock[0])
    _write_everything(storage, 7)  # gone after the limit
    _write_everything(storage, 8)
    clock[0] = start + 50 * DAY
    _step(storage, 8, "again")  # seen again: the user and the conversation stay, old rows go
    _write_everything(storage, 9)  # stays
    removed = storage.purge(30, at=start + 60 * DAY)
    assert removed == {"assessments": 2, "practice": 2, "free_texts": 2, "events": 4, "conversations": 1,
                       "users": 1}
    assert sum(_rows(storage, 7).values()) == 0
    assert _rows(storage, 8) == {"users": 1, "conversations": 1, "assessments": 0, "practice": 0,
                                 "free_texts": 0}
    assert all(_rows(storage, 9).values())
    assert storage.load(8)[1].answers["again"] == "yes"


def test_a_purge_on_another_thread_does_not_disturb_the_steps(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    failures: list[BaseException] = []
    done = threading.Event()

    def purge_until_done() -> None:
        while not done.is_set():
            try:
                storage.purge(30)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
                return

    purger = threading.Thread(target=purge_until_done)
    purger.start()
    try:
        for number in range(100):
            with storage.transaction():
                _step(storage, 7, f"a{number}")
    finally:
        done.set()
        purger.join()
    assert failures == []
    assert len(storage.load(7)[1].answers) == 100


def test_settings_are_stored_and_a_returning_user_is_active_again(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    _step(storage, 7, "a")
    profile, conv = storage.load(7)
    profile.lang = "en"
    profile.store_free_text = True
    storage.save(profile, conv)
    assert Storage(tmp_path / "db.sqlite").load(7)[0] == profile
    storage.mark_inactive(7)
    storage.mark_inactive(99)  # blocked the bot before writing anything: nothing to mark
    assert storage.db["users"].get(7)["active"] == 0 and storage.count("users") == 1
    _step(storage, 7, "b")
    assert storage.db["users"].get(7)["active"] == 1


def test_old_histories_still_load(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    storage.save(Profile(7), Conversation())
    storage.db.execute("UPDATE conversations SET state=? WHERE user_id=7",
                       ['{"flow":"assessment","pos":{"step":"q","item":0,"node":null},'
                        '"history":[{"step":"a","item":0,"node":null}],"seq":3}'])
    conv = Storage(tmp_path / "db.sqlite").load(7)[1]
    assert conv.history == [Position("a", 0, None)] and conv.seq == 3


def test_a_database_from_before_invite_codes_opens(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, lang TEXT, privacy_seen INTEGER, lang_chosen INTEGER,"
                 " store_free_text INTEGER, term TEXT, active INTEGER, created FLOAT, last_seen FLOAT)")
    conn.execute("INSERT INTO users VALUES (7, 'en', 1, 1, 0, NULL, 1, 0, 0)")
    conn.commit()
    conn.close()
    storage = Storage(tmp_path / "db.sqlite")
    assert storage.load(7)[0] == Profile(7, "en", True, True, False)
    storage.set_invited(7)
    assert storage.is_invited(7)
