"""Access: admin commands for IDDT_ADMIN_IDS only; an optional allowlist or invite code for the whole bot."""

from __future__ import annotations

import sqlite3

from bot.config import Config
from bot.engine.replies import Incoming
from bot.engine.runner import CONFIRM_DELETE
from bot.service import MAX_INVITE_ATTEMPTS, BotService

ADMIN, STAFF, STRANGER = 1, 10, 99
CODE = "Rop-2025"


def user_rows(service: BotService, user_id: int) -> int:
    conn = sqlite3.connect(str(service.config.db_path))
    try:
        return sum(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column}=?", [user_id]).fetchone()[0]
                   for table, column in (("users", "id"), ("conversations", "user_id"),
                                         ("assessments", "user_id"), ("free_texts", "user_id")))
    finally:
        conn.close()


def assert_refused(service: BotService, replies, lang: str = "nb") -> None:
    key = "access_invite" if service.config.invite_code else "access_refused"
    assert len(replies) == 1
    reply = replies[0]
    assert reply.text == service.kb.ui(key, lang)
    assert not reply.options and not reply.title and reply.document is None
    for word in ("IDDT", "ROP", "SATS", "stadi", "stage"):
        assert word not in reply.text, "the refusal must not reveal what the bot is about"


def welcomed(replies) -> bool:
    return any({"nb", "en"} <= {o.key for o in r.options} for r in replies)


# ------------------------------------------------------------------------------------ admins


def test_admin_commands_only_for_admins(make_service) -> None:
    service = make_service(admin_ids=frozenset({ADMIN}))
    for command in ("/stats", "/statistikk", "/reload"):
        replies = service.handle(STAFF, Incoming.typed(command))
        assert [r.text for r in replies] == [service.kb.ui("admin_only", "nb")], command
    replies = service.handle(ADMIN, Incoming.typed("/stats"))
    assert replies[0].title == service.kb.ui("stats_title", "nb") and replies[0].text != service.kb.ui("admin_only", "nb")
    replies = service.handle(ADMIN, Incoming.typed("/reload"))
    assert replies[0].text != service.kb.ui("admin_only", "nb")
    assert service.is_admin(ADMIN) and not service.is_admin(STAFF)


def test_admin_commands_are_not_in_the_menu_or_help(make_service) -> None:
    service = make_service(admin_ids=frozenset({ADMIN}))
    names = {name for lang in ("nb", "en") for name, _ in service.command_menu(lang)}
    assert not names & {"stats", "statistikk", "reload", "lastinn"}
    help_text = "\n".join(r.text for r in service.handle(STAFF, Incoming.typed("/hjelp")))
    assert "/stats" not in help_text and "/reload" not in help_text


def test_ids_come_from_the_environment() -> None:
    config = Config.from_env({"IDDT_ADMIN_IDS": "1, 2", "IDDT_ALLOWED_IDS": "10 11,12", "IDDT_INVITE_CODE": CODE})
    assert config.admin_ids == {1, 2} and config.allowed_ids == {10, 11, 12} and config.invite_code == CODE
    open_config = Config.from_env({})
    assert not open_config.allowed_ids and open_config.invite_code is None


# --------------------------------------------------------------------------------- allowlist


def test_open_bot_without_allowlist_or_code(make_service) -> None:
    service = make_service()
    assert service.may_use(STRANGER)
    assert welcomed(service.handle(STRANGER, Incoming.typed("/start")))


def test_allowlist_lets_listed_users_and_admins_in(make_service) -> None:
    service = make_service(allowed_ids=frozenset({STAFF}), admin_ids=frozenset({ADMIN}))
    assert welcomed(service.handle(STAFF, Incoming.typed("/start")))
    assert welcomed(service.handle(ADMIN, Incoming.typed("/start")))
    assert service.may_use(STAFF) and service.may_use(ADMIN) and not service.may_use(STRANGER)


def test_allowlist_refuses_others_politely_and_stores_nothing(make_service) -> None:
    service = make_service(allowed_ids=frozenset({STAFF}))
    for incoming in (Incoming.typed("/start"), Incoming.typed("/vurdering"), Incoming.typed("hva er motivasjon"),
                     Incoming.typed("/slett"), Incoming.pressed(CONFIRM_DELETE, "X"),
                     Incoming.pressed("yes", "3"), Incoming.media(), Incoming.failure(), Incoming.typed("")):
        assert_refused(service, service.handle(STRANGER, incoming))
    assert_refused(service, service.handle(STRANGER, Incoming.typed("/start"), language_code="en"), "en")
    assert user_rows(service, STRANGER) == 0


def test_a_refused_user_in_crisis_still_gets_the_emergency_answer(make_service) -> None:
    service = make_service(allowed_ids=frozenset({STAFF}))
    replies = service.handle(STRANGER, Incoming.typed("jeg vil ta livet mitt i kveld"))
    assert replies[0].urgent and "113" in replies[0].text
    assert replies[-1].text == service.kb.ui("access_refused", "nb")
    assert user_rows(service, STRANGER) == 0


# ------------------------------------------------------------------------------- invite code


def test_wrong_code_is_refused(make_service) -> None:
    service = make_service(invite_code=CODE)
    for text in ("hei", "/start", "/start feil-kode", "Rop-2024", f"{CODE} takk", f"/start {CODE}x"):
        assert_refused(service, service.handle(STRANGER, Incoming.typed(text)))
    assert not service.may_use(STRANGER)
    assert user_rows(service, STRANGER) == 0


def test_right_code_is_accepted_once_and_remembered(make_service) -> None:
    service = make_service(invite_code=CODE)
    replies = service.handle(STRANGER, Incoming.typed(f"/start {CODE}"))
    assert replies[0].text == service.kb.ui("access_granted", "nb")
    assert welcomed(replies[1:])
    assert service.may_use(STRANGER)
    # Once in, the code is an ordinary message, not a second welcome.
    again = service.handle(STRANGER, Incoming.typed("/hjelp"))
    assert all(r.text != service.kb.ui("access_granted", "nb") for r in again)

    restarted = make_service(invite_code=CODE)  # a new service on the same database
    assert restarted.may_use(STRANGER)
    replies = restarted.handle(STRANGER, Incoming.typed("/hjelp"))
    assert replies[0].text != restarted.kb.ui("access_invite", "nb")
    assert not restarted.may_use(STRANGER + 1)


def test_code_as_a_plain_message_in_any_case(make_service) -> None:
    service = make_service(invite_code=CODE)
    replies = service.handle(STRANGER, Incoming.typed(f"  {CODE.lower()} "), language_code="en")
    assert replies[0].text == service.kb.ui("access_granted", "en")
    assert service.storage.is_invited(STRANGER)


def test_allowlisted_users_need_no_code(make_service) -> None:
    service = make_service(invite_code=CODE, allowed_ids=frozenset({STAFF}))
    assert welcomed(service.handle(STAFF, Incoming.typed("/start")))
    assert_refused(service, service.handle(STRANGER, Incoming.typed("/start")))


def test_guessing_is_limited(make_service) -> None:
    service = make_service(invite_code=CODE)
    for attempt in range(MAX_INVITE_ATTEMPTS):
        service.handle(STRANGER, Incoming.typed(f"guess-{attempt}"))
    assert_refused(service, service.handle(STRANGER, Incoming.typed(CODE)))
    assert not service.storage.is_invited(STRANGER)


def test_deleting_everything_also_forgets_the_invitation(make_service) -> None:
    service = make_service(invite_code=CODE)
    service.handle(STRANGER, Incoming.typed(CODE))
    replies = service.handle(STRANGER, Incoming.typed("/slett"))
    token = next(r.token for r in replies if r.options)
    service.handle(STRANGER, Incoming.pressed(CONFIRM_DELETE, token))
    assert user_rows(service, STRANGER) == 0
    assert_refused(service, service.handle(STRANGER, Incoming.typed("/start")))
