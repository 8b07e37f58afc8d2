"""Storage between steps: kept state, the users row written only on change, other writers."""

from __future__ import annotations

from pathlib import Path

from bot.engine.state import Conversation, Position, Profile
from bot.storage import Storage


def _step(storage: Storage, user: int, answer: str) -> Conversation:
    profile, conv = storage.load(user)
    conv.flow = "assessment"
    conv.pos = Position("q", 0)
    conv.answers[answer] = "yes"
    conv.history.append(Position(answer, 0, None))
    storage.save(profile, conv)
    return conv


def test_kept_state_is_what_the_database_holds(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    for answer in ("a", "b", "c"):
        _step(storage, 7, answer)
    kept_profile, kept_conv = storage.load(7)  # from memory
    fresh = Storage(tmp_path / "db.sqlite")
    profile, conv = fresh.load(7)  # from the file
    assert conv == kept_conv and profile == kept_profile
    assert conv.answers == {"a": "yes", "b": "yes", "c": "yes"}
    assert [p.step for p in conv.history] == ["a", "b", "c"]


def test_a_step_that_fails_before_saving_leaves_no_trace(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    _step(storage, 7, "a")
    profile, conv = storage.load(7)
    conv.answers["half-done"] = "x"  # the engine changed the state, then the step failed: no save
    profile, conv = storage.load(7)
    assert "half-done" not in conv.answers


def test_a_user_deleted_by_another_process_stays_deleted(tmp_path: Path) -> None:
    bot = Storage(tmp_path / "db.sqlite")
    _step(bot, 7, "a")
    _step(bot, 8, "a")
    operator = Storage(tmp_path / "db.sqlite")  # `iddt-bot data delete-user 7` while the bot runs
    assert operator.delete_user(7) > 0
    _step(bot, 7, "b")  # the next message ran on the kept state; its save must not bring the user back
    assert operator.db.execute("SELECT COUNT(*) FROM users WHERE id=7").fetchone()[0] == 0
    assert operator.db.execute("SELECT COUNT(*) FROM conversations WHERE user_id=7").fetchone()[0] == 0
    _step(bot, 8, "b")  # other users go on, now read from the file
    assert operator.load(8)[1].answers == {"a": "yes", "b": "yes"}
    _step(bot, 7, "c")  # the deleted user writing again starts from nothing
    assert operator.load(7)[1].answers == {"c": "yes"}


def test_a_deleted_user_changing_a_setting_stays_deleted(tmp_path: Path) -> None:
    bot = Storage(tmp_path / "db.sqlite")
    _step(bot, 7, "a")
    operator = Storage(tmp_path / "db.sqlite")
    assert operator.delete_user(7) > 0
    profile, conv = bot.load(7)  # kept state: the user switches language in the next message
    profile.lang = "en"
    bot.save(profile, conv)
    assert operator.db.execute("SELECT COUNT(*) FROM users WHERE id=7").fetchone()[0] == 0
    assert operator.db.execute("SELECT COUNT(*) FROM conversations WHERE user_id=7").fetchone()[0] == 0


def test_users_row_is_written_when_a_setting_changes(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    _step(storage, 7, "a")
    profile, conv = storage.load(7)
    profile.lang = "en"
    storage.save(profile, conv)
    assert Storage(tmp_path / "db.sqlite").load(7)[0].lang == "en"
    storage.mark_inactive(7)
    _step(storage, 7, "b")  # back again: active
    assert storage.db.execute("SELECT active FROM users WHERE id=7").fetchone()[0] == 1


def test_old_histories_still_load(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    storage.save(Profile(7), Conversation())
    storage.db.execute("UPDATE conversations SET state=? WHERE user_id=7",
                       ['{"flow":"assessment","pos":{"step":"q","item":0,"node":null},'
                        '"history":[{"step":"a","item":0,"node":null}],"seq":3}'])
    conv = Storage(tmp_path / "db.sqlite").load(7)[1]
    assert conv.history == [Position("a", 0, None)] and conv.seq == 3


def test_a_step_that_changes_nothing_writes_nothing_but_its_events(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    _step(storage, 7, "a")
    changes = storage.db.conn.total_changes
    profile, conv = storage.load(7)
    storage.save(profile, conv)  # a look-up: same settings, same state
    assert storage.db.conn.total_changes == changes
    profile, conv = storage.load(7)
    storage.save(profile, conv, [{"kind": "search"}])
    assert storage.db.conn.total_changes == changes + 1  # the event only
    assert Storage(tmp_path / "db.sqlite").load(7)[1].answers == {"a": "yes"}
