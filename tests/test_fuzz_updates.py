"""Fuzzing: thousands of random updates through the real Telegram Application, and random actions
straight into the engine.

The first test sends lists of random updates (any unicode, emoji, HTML/Markdown characters, control
characters, 0 to 10 000 characters, commands with arguments, stickers/photos/voice/documents,
edited messages, callback queries with forged, stale and real data, group chats, unknown users,
inline queries) through ``Application.process_update`` with the real service on a temporary
database. No exception may reach the error handlers, nothing may be logged at ERROR (the service
swallows and logs its own failures), every user message that the bot handles gets a reply in its
chat, every button press is answered, and every message would be accepted by Telegram (the
recording request rejects what the Bot API rejects, and the calls are checked again here).

The second test drives ``BotService.handle`` directly with random typed texts, commands and button
presses (real, stale and forged) for a few users, and checks that it always answers and that the
stored state stays loadable.

Edited messages get a note that edits are not read, with the open question (after the safety
screen); media in groups are ignored on purpose, so for those only "no error, and anything sent is
valid" is asserted.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.channels.telegram import build_application
from bot.channels.telegram_render import callback_data, parse_callback
from bot.config import Config
from bot.engine.replies import Incoming, Reply
from bot.service import BotService, load_all
from tests.botapi_server import BOT_USER, parse_html, utf16_len
from tests.telegram_fakes import TOKEN, Call, RecordingRequest

ADMIN = 11
KNOWN_USERS = (ADMIN, 12, 13)
VISIBLE = ("sendMessage", "editMessageText", "sendDocument")
COUNTS = {"updates": 0, "update_lists": 0, "actions": 0, "action_lists": 0}
KINDS: Counter[str] = Counter()
_ids = itertools.count(10_000)


@functools.cache
def knowledge() -> Any:
    """The bundled knowledge and flows, loaded once for this module."""
    return load_all(Config())


@functools.cache
def command_names() -> list[str]:
    """Every command name of the flows: the menu's nb and en names (``command_menu``) and the aliases."""
    return sorted({name for command in knowledge()[1].commands for name in command.names})


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    print(f"\n[fuzz] telegram updates={COUNTS['updates']} in {COUNTS['update_lists']} lists; "
          f"engine actions={COUNTS['actions']} in {COUNTS['action_lists']} lists; "
          f"update kinds={dict(sorted(KINDS.items()))}")


@pytest.fixture
def fuzz_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotService]:
    monkeypatch.setattr("bot.service.load_all", lambda config: knowledge())
    service = BotService(Config(db_path=tmp_path / "fuzz.sqlite", admin_ids=frozenset({ADMIN})))
    yield service
    service.close()


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from any logger (the service logs the exceptions it swallows)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


# ------------------------------------------------------------------ strategies

MARKUP = "<>&;*_[]()~`#+-=|{}.!\\/\"' \n\t"
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇳🇴", "❤️", "🧪", "\U0001f9d1\u200d\U0001f4bb"]
ODD = ["\x00", "\x01", "\x1b", "\x7f", "\u200b", "\u202e", "\ufeff", "\u00a0", "\u0301", "\r", "\u2028"]
TAGS = ["<b>", "</b>", "<i>", "<a href='x'>", "&amp;", "&", "&lt;", "<", ">", "<tg-spoiler>", "<pre>",
        "*bold*", "_it_", "[link](http://x)", "`code`", "<script>", "&#0;", "&#xD800;"]
PHRASES = [
    "hei", "ja", "nei", "alvorlig", "ferdig", "done", "back", "tilbake", "avbryt", "1", "8", "0", "-1",
    "jeg vil ta livet mitt", "I want to kill myself", "fødselsnummer 01017012345", "ring meg på 99887766",
    "ola.nordmann@example.com", "Kari Nordmann", "overtalelse", "persuasion", "SATS 5", "?", "…", " ",
    "\x00nontext", "\x00error", "\x00", "x:delete", "/", "//", "/ start", "/start@iddt_test_bot",
]

pieces = st.one_of(st.sampled_from(EMOJI + ODD + TAGS + PHRASES), st.text(MARKUP, max_size=8), st.text(max_size=8))
small_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(list(MARKUP) + EMOJI + ODD + list("abcæøå ")), max_size=120).map("".join),
    st.lists(pieces, max_size=12).map("".join),
    st.sampled_from(PHRASES + TAGS),
)


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


big_text = st.builds(_repeat, st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(EMOJI + TAGS)),
                     st.sampled_from([4000, 4096, 4097, 8192, 9999, 10_000]))
any_text = st.one_of(st.just(""), small_text, small_text, small_text, big_text)


@st.composite
def commands(draw: st.DrawFn) -> str:
    name = draw(st.one_of(st.deferred(lambda: st.sampled_from(command_names())),
                          st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True),
                          st.text(min_size=1, max_size=10)))
    name = draw(st.sampled_from([name, name.upper(), name.capitalize()]))
    mention = draw(st.sampled_from(["", "", "@iddt_test_bot", "@other_bot", "@"]))
    args = draw(st.one_of(st.just(""), st.lists(small_text, max_size=3).map(" ".join), big_text))
    sep = draw(st.sampled_from([" ", "  ", "\n", ""])) if args else ""
    return f"/{name}{mention}{sep}{args}"


users = st.one_of(st.sampled_from(KNOWN_USERS), st.integers(1, 2**52 - 1))  # unknown users too
languages = st.sampled_from([None, "nb", "en", "no", "nn", "de", "EN-us", "zz"])
chats = st.sampled_from(["private", "private", "private", "group", "supergroup"])
media_kinds = st.sampled_from(["sticker", "photo", "voice", "document", "video", "location", "contact",
                               "animation", "audio", "video_note", "dice"])
forged_data = st.one_of(
    st.text(min_size=1, max_size=64).map(lambda s: s.encode()[:64].decode("utf-8", "ignore")),
    st.builds(lambda t, k: f"{t}|{k}", st.text(max_size=30), st.text(max_size=30)),
    st.sampled_from(["|", "||", "|||", "a|b|c", "X|x:delete", "|x:delete", "x:delete", "|done", "done",
                     "|none", "0|0", "X|", "X|start", "🙂|🙂", "\x00|\x00"]),
).map(lambda s: s.encode()[:64].decode("utf-8", "ignore")).filter(bool)

known = st.sampled_from(KNOWN_USERS)
text_spec = st.tuples(st.just("text"), users, languages, chats, any_text)
private_text_spec = st.tuples(st.just("text"), known, languages, st.just("private"), any_text)
command_spec = st.tuples(st.just("command"), users, languages, chats, commands())
private_command_spec = st.tuples(st.just("command"), known, languages, st.just("private"), commands())
media_spec = st.tuples(st.just("media"), users, languages, chats, media_kinds)
edited_spec = st.tuples(st.just("edited"), users, languages, chats, any_text)
# ("callback", user, lang, data, message): data is a forged string or ("real", index, mutation) for a
# button the bot showed that user (the last one, an older one: stale), message says how the pressed
# message comes with the query
pressed = st.sampled_from(["last", "last", "last", "older", "forged", "inaccessible", "none"])
forged_callback_spec = st.tuples(st.just("callback"), users, languages, forged_data, pressed)
real_callback_spec = st.tuples(st.just("callback"), known, languages,
                               st.tuples(st.just("real"), st.integers(0, 50), st.just("as is")), pressed)
mutated_callback_spec = st.tuples(
    st.just("callback"), known, languages,
    st.tuples(st.just("real"), st.integers(0, 50), st.sampled_from(["forged token", "no token", "no bar"])),
    pressed)
inline_spec = st.tuples(st.just("inline"), users, languages, small_text)
other_spec = st.tuples(st.just("other"), st.sampled_from(["channel_post", "sender_chat", "my_chat_member"]))
update_specs = st.one_of(text_spec, private_text_spec, command_spec, private_command_spec, media_spec,
                         st.one_of(edited_spec, other_spec), forged_callback_spec, real_callback_spec,
                         real_callback_spec.map(tuple), mutated_callback_spec, inline_spec)

# ------------------------------------------------------------------ building updates


def _user(user_id: int, lang: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Fuzz"}
    if lang:
        user["language_code"] = lang
    return user


def _chat(kind: str, user_id: int) -> dict[str, Any]:
    if kind == "private":
        return {"id": user_id, "type": "private", "first_name": "Fuzz"}
    chat_id = -(user_id % 10**9 + 1) if kind == "group" else -(10**12 + user_id % 10**9)
    return {"id": chat_id, "type": kind, "title": "Fuzz group"}


def _message(user_id: int, lang: str | None, chat: str, **content: Any) -> dict[str, Any]:
    return {"message_id": next(_ids), "date": int(time.time()), "from": _user(user_id, lang),
            "chat": _chat(chat, user_id), **content}


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        head = text.split()[0] if text.split() else text
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(head)}]
    return content


MEDIA = {
    "sticker": {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512,
                            "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"}},
    "photo": {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}],
              "caption": "<b>caption</b> & *x*"},
    "voice": {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
    "document": {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "case.pdf"}},
    "video": {"video": {"file_id": "vi", "file_unique_id": "vi", "width": 1, "height": 1, "duration": 1}},
    "location": {"location": {"latitude": 59.9, "longitude": 10.7}},
    "contact": {"contact": {"phone_number": "+4799887766", "first_name": "Kari"}},
    "animation": {"animation": {"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1, "duration": 1}},
    "audio": {"audio": {"file_id": "au", "file_unique_id": "au", "duration": 1}},
    "video_note": {"video_note": {"file_id": "vn", "file_unique_id": "vn", "length": 1, "duration": 1}},
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
}


def keyboard_messages(request: RecordingRequest, chat_id: int) -> list[dict[str, Any]]:
    return sorted((m for m in request.messages[chat_id].values() if m.get("reply_markup")),
                  key=lambda m: m["message_id"])


def _pressed_message(request: RecordingRequest, user_id: int, how: str) -> dict[str, Any] | None:
    shown = keyboard_messages(request, user_id)
    if how == "last" and shown:
        return shown[-1]
    if how == "older" and shown:
        return shown[len(shown) // 2]
    if how == "inaccessible":
        return {"message_id": 1, "date": 0, "chat": {"id": user_id, "type": "private"}}
    if how == "none":
        return None
    return {"message_id": next(_ids), "date": int(time.time()), "from": BOT_USER,
            "chat": {"id": user_id, "type": "private"}, "text": "forged"}


def _callback_data(request: RecordingRequest, user_id: int, data: Any) -> str:
    if isinstance(data, str):
        return data
    _, index, mutation = data
    buttons = [b["callback_data"] for m in keyboard_messages(request, user_id)
               for row in m["reply_markup"]["inline_keyboard"] for b in row if b.get("callback_data")]
    if not buttons:
        return "X|start"
    value = buttons[-1 - index % len(buttons)]
    token, key = parse_callback(value)
    if mutation == "forged token":
        return callback_data(token[::-1] + "z", key)
    if mutation == "no token":
        return f"|{key}"
    if mutation == "no bar":
        return key
    return value


def build_update(spec: tuple[Any, ...], request: RecordingRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """The update dict and what to expect: {"chat": id that must get a reply, "answer": method}."""
    kind = spec[0]
    update_id = next(_ids)
    if kind == "text":
        _, user, lang, chat, text = spec
        message = _message(user, lang, chat, **_text_content(text))
        must_reply = chat == "private" or bool(text)
        return ({"update_id": update_id, "message": message},
                {"chat": message["chat"]["id"] if must_reply else None})
    if kind == "command":
        _, user, lang, chat, text = spec
        message = _message(user, lang, chat, **_text_content(text))
        return {"update_id": update_id, "message": message}, {"chat": message["chat"]["id"]}
    if kind == "media":
        _, user, lang, chat, media = spec
        message = _message(user, lang, chat, **MEDIA[media])
        return ({"update_id": update_id, "message": message},
                {"chat": message["chat"]["id"] if chat == "private" else None})
    if kind == "edited":
        _, user, lang, chat, text = spec
        message = _message(user, lang, chat, edit_date=int(time.time()), **_text_content(text))
        return ({"update_id": update_id, "edited_message": message},
                {"chat": message["chat"]["id"] if text or chat == "private" else None})
    if kind == "callback":
        _, user, lang, data, how = spec
        query: dict[str, Any] = {"id": str(next(_ids)), "from": _user(user, lang), "chat_instance": str(user),
                                 "data": _callback_data(request, user, data)}
        message = _pressed_message(request, user, how)
        if message is not None:
            query["message"] = message
        else:
            query["inline_message_id"] = "inline-1"
        return {"update_id": update_id, "callback_query": query}, {"chat": user, "answer": "answerCallbackQuery"}
    if kind == "inline":
        _, user, lang, text = spec
        query = {"id": str(next(_ids)), "from": _user(user, lang), "query": text[:256], "offset": ""}
        return {"update_id": update_id, "inline_query": query}, {"answer": "answerInlineQuery"}
    what = spec[1]
    channel = {"id": -1001234, "type": "channel", "title": "News"}
    if what == "channel_post":
        return {"update_id": update_id, "channel_post": {"message_id": next(_ids), "date": int(time.time()),
                                                          "chat": channel, "text": "/start"}}, {}
    if what == "sender_chat":
        return {"update_id": update_id, "message": {"message_id": next(_ids), "date": int(time.time()),
                                                    "sender_chat": channel, "text": "hei",
                                                    "chat": {"id": -55, "type": "supergroup"}}}, {}
    return {"update_id": update_id, "my_chat_member": {
        "chat": {"id": 12, "type": "private"}, "from": _user(12, "nb"), "date": int(time.time()),
        "old_chat_member": {"status": "member", "user": BOT_USER},
        "new_chat_member": {"status": "kicked", "user": BOT_USER, "until_date": 0}}}, {}


def check_accepted(calls: list[Call]) -> None:
    """What real Telegram would accept: parseable HTML, 1..4096 UTF-16 units, valid buttons."""
    for call in calls:
        if call.method in ("sendMessage", "editMessageText"):
            assert call.params.get("parse_mode") == "HTML", call.params
            plain = parse_html(call.params["text"]).strip()
            assert 0 < utf16_len(plain) <= 4096, utf16_len(plain)
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    assert button["text"].strip(), button
                    assert 1 <= len(button["callback_data"].encode("utf-8")) <= 64, button
        if call.method == "sendDocument":
            name, content = call.files["document"]
            assert name and content
        if call.method == "answerInlineQuery":
            assert len(call.params.get("results") or []) <= 50


def _kind(spec: tuple[Any, ...]) -> str:
    if spec[0] != "callback":
        return spec[0]
    return "callback:" + ("forged" if isinstance(spec[3], str) else spec[3][2])


def _describe(record: logging.LogRecord) -> str:
    return f"{record.name}: {record.getMessage()}"


# ------------------------------------------------------------------ 1. through the Application


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(specs=st.lists(update_specs, min_size=8, max_size=25))
def test_random_updates_through_the_application(runner: asyncio.Runner, app_and_request: Any,
                                                error_log: ErrorLog, specs: list[tuple[Any, ...]]) -> None:
    app, request, escaped = app_and_request
    error_log.records.clear()
    escaped.clear()
    COUNTS["update_lists"] += 1
    for spec in specs:
        start = len(request.calls)
        data, expect = build_update(spec, request)
        runner.run(app.process_update(Update.de_json(data, app.bot)))
        COUNTS["updates"] += 1
        KINDS[_kind(spec)] += 1
        calls = request.since(start)
        assert not escaped, (spec[0], [repr(e) for e in escaped])
        assert not error_log.records, (spec[0], [_describe(r) for r in error_log.records])
        check_accepted(calls)
        if expect.get("chat") is not None:
            visible = [c for c in calls if c.method in VISIBLE]
            assert visible, (spec, [c.method for c in calls])
            assert all(c.params["chat_id"] == expect["chat"] for c in visible), spec
        if expect.get("answer"):
            assert [c.method for c in calls].count(expect["answer"]) == 1, (spec, [c.method for c in calls])


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture
def app_and_request(runner: asyncio.Runner, fuzz_service: BotService) -> Iterator[Any]:
    """One Application per test function (not per example): real handlers, recorded Bot API calls."""
    request = RecordingRequest()
    app = build_application(fuzz_service, TOKEN, request=request, rate_limiter=False, backoff=0.0)
    escaped: list[BaseException] = []

    async def spy(update: object, context: Any) -> None:
        escaped.append(context.error)

    # the spy first, so it sees the exception before the front end's own error handler answers the user
    handlers = dict(app.error_handlers)
    app.error_handlers.clear()
    app.add_error_handler(spy)
    app.error_handlers.update(handlers)
    runner.run(app.initialize())
    yield app, request, escaped
    runner.run(app.shutdown())


# ------------------------------------------------------------------ 2. straight into the engine

ENGINE_USERS = (31, 32, 33, ADMIN)
action_specs = st.one_of(
    st.tuples(st.just("text"), any_text),
    st.tuples(st.just("text"), commands()),
    st.tuples(st.just("real"), st.integers(0, 30), st.sampled_from(["as is", "as is", "stale", "no token"])),
    st.tuples(st.just("real"), st.integers(0, 30), st.just("as is")),
    st.tuples(st.just("forged"), st.text(max_size=30), st.one_of(st.none(), st.text(max_size=30))),
    st.tuples(st.just("media")), st.tuples(st.just("failure")),
)


def _incoming(action: tuple[Any, ...], last: list[Reply], stale: list[str]) -> Incoming:
    kind = action[0]
    if kind == "text":
        return Incoming.typed(action[1])
    if kind == "media":
        return Incoming.media()
    if kind == "failure":
        return Incoming.failure()
    if kind == "forged":
        return Incoming.pressed(action[1], action[2])
    _, index, mutation = action
    options = [(o.key, r.token) for r in last for o in r.options]
    if not options:
        return Incoming.pressed("start", None)
    key, token = options[index % len(options)]
    if mutation == "stale" and stale:
        token = stale[index % len(stale)]
    elif mutation == "no token":
        token = None
    return Incoming.pressed(key, token)


@settings(max_examples=350, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(steps=st.lists(st.tuples(st.sampled_from(ENGINE_USERS), languages, action_specs), min_size=8, max_size=40))
def test_random_actions_into_the_engine(fuzz_service: BotService, error_log: ErrorLog,
                                        steps: list[tuple[int, str | None, tuple[Any, ...]]]) -> None:
    service = fuzz_service
    error_log.records.clear()
    COUNTS["action_lists"] += 1
    last: dict[int, list[Reply]] = {}
    stale: list[str] = []
    for user, lang, action in steps:
        incoming = _incoming(action, last.get(user, []), stale)
        replies = service.handle(user, incoming, language_code=lang)
        COUNTS["actions"] += 1
        assert not error_log.records, (incoming, [_describe(r) for r in error_log.records])
        assert replies and all(isinstance(r, Reply) for r in replies), incoming
        assert any(r.text.strip() or r.options or r.document for r in replies), (incoming, replies)
        for reply in replies:
            for option in reply.options:
                # (Option's docstring says at most 24 characters; the real limit is the 64-byte callback data)
                assert option.key and option.key.isascii(), option
                assert option.label.strip() or option.key, option
                callback_data(reply.token, option.key)  # raises when over Telegram's 64 bytes
            if reply.token:
                stale.append(reply.token)
        last[user] = replies
        conv = service.storage.conversation(user)  # the stored state still loads
        profile = service.storage.profile(user, "nb")
        assert conv is not None and profile.lang in ("nb", "en")


@pytest.mark.parametrize("text", ["0" * 5000, "1" * 4301, "²", "⑤", "/stadium ²", "/stadium " + "9" * 5000,
                                  "/tiltak ²", "/kasus ²", "/kasus " + "1" * 5000])
def test_numbers_that_int_cannot_parse_get_an_answer_not_an_error(fuzz_service: BotService, error_log: ErrorLog,
                                                                  text: str) -> None:
    """Found by the fuzzer: ``str.isdigit`` accepts "²" and 5000-digit numbers, which ``int()`` rejects."""
    for step in ("/start", "/vurdering", text):
        replies = fuzz_service.handle(ADMIN, Incoming.typed(step), language_code="nb")
        assert replies and not error_log.records, (step[:20], [_describe(r) for r in error_log.records])
