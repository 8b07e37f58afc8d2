"""The Telegram handlers with real ``telegram.Update`` objects and the real service, no network.

Updates go through ``Application.process_update`` (or the update queue, for ordering); a recording
request answers like the Bot API and rejects what Telegram rejects, so each test asserts what the
user would see: escaped HTML texts, buttons, edits, documents and answered button presses.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update

from bot.channels import telegram_render as tr
from bot.channels.telegram import (
    RedactTokens,
    _url_path,
    build_application,
    run_telegram,
    watch_knowledge,
)
from bot.config import Config
from bot.engine.replies import Document, Incoming, Option, Reply
from bot.service import BotService
from tests.botapi_server import parse_html, utf16_len
from tests.telegram_fakes import (
    TOKEN,
    Call,
    RecordingRequest,
    callback_update,
    edited_update,
    inline_update,
    message_update,
    next_move,
)

ADMIN = 900
VISIBLE = ("sendMessage", "editMessageText", "sendDocument")


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    config = Config(db_path=tmp_path / "bot.sqlite")
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def service(tmp_path: Path, loaded, monkeypatch):
    """The real service on a temporary database, with the bundled knowledge loaded once per session."""
    monkeypatch.setattr("bot.service.load_all", lambda config: loaded)
    service = BotService(make_config(tmp_path, admin_ids=frozenset({ADMIN})))
    yield service
    service.close()


class Chat:
    """One simulated user talking to the Application through real Update objects."""

    def __init__(self, app: Any, request: RecordingRequest, user_id: int = 7, language_code: str = "nb") -> None:
        self.app, self.request, self.user_id, self.language_code = app, request, user_id, language_code
        self.last: list[Call] = []

    async def _process(self, data: dict[str, Any]) -> list[Call]:
        start = len(self.request.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        self.last = self.request.since(start)
        return self.last

    async def send(self, text: str | None = None, **content: Any) -> list[Call]:
        return await self._process(message_update(self.user_id, text, self.language_code, **content))

    def keyboard_message(self) -> dict[str, Any]:
        messages = [m for m in self.request.messages[self.user_id].values() if m.get("reply_markup")]
        assert messages, "the bot has shown no buttons"
        return max(messages, key=lambda m: m["message_id"])

    async def press(self, label: str) -> list[Call]:
        message = self.keyboard_message()
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        chosen = [b for b in buttons if b["text"].removeprefix(tr.CHECK) == label] or [
            b for b in buttons if b["text"].removeprefix(tr.CHECK).startswith(label)]
        assert chosen, f"no button {label!r} in {[b['text'] for b in buttons]}"
        return await self.press_data(chosen[0]["callback_data"], message)

    async def press_data(self, data: str, message: dict[str, Any] | None = None) -> list[Call]:
        message = message or self.keyboard_message()
        return await self._process(callback_update(self.user_id, data, message, self.language_code))

    def shown(self) -> str:
        """Everything the user sees from the last update: texts, button labels, documents."""
        parts = []
        for call in self.last:
            if call.method in ("sendMessage", "editMessageText"):
                parts.append(parse_html(call.params["text"]))
                for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                    parts += [b["text"] for b in row]
            if call.method == "sendDocument":
                parts.append(call.files["document"][1].decode("utf-8"))
        return "\n".join(parts)


@pytest.fixture
async def bot(service):
    request = RecordingRequest()
    app = build_application(service, TOKEN, request=request, backoff=0.01)
    await app.initialize()
    yield app, request
    await app.shutdown()


@pytest.fixture
def chat(bot) -> Chat:
    return Chat(*bot)


def assert_telegram_would_accept(calls: list[Call]) -> None:
    for call in calls:
        if call.method in ("sendMessage", "editMessageText"):
            assert call.params["parse_mode"] == "HTML"
            assert 0 < utf16_len(parse_html(call.params["text"]).strip()) <= 4096
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    assert button["text"].strip()
                    assert 0 < len(button["callback_data"].encode()) < 64


# ------------------------------------------------------------------ flows


async def at_life_areas(chat: Chat) -> None:
    """Past the privacy note and language choice, into the assessment's first multi-select."""
    await chat.send("/start")
    await chat.press("Norsk (bokmål)")
    await chat.send("/vurdering")
    for answer in ("ja", "ja", "alvorlig"):
        await chat.send(answer)
    assert "Bolig" in chat.shown()


async def test_start_shows_privacy_note_and_language_buttons(chat: Chat, service: BotService):
    calls = await chat.send("/start")
    assert [c.method for c in calls if c.method in VISIBLE] == ["sendMessage"] * len(calls)
    assert_telegram_would_accept(calls)
    last = calls[-1].params
    labels = [b["text"] for row in last["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Norsk (bokmål)", "English"]
    assert all("|" in b["callback_data"] for row in last["reply_markup"]["inline_keyboard"] for b in row)


async def test_whole_assessment_with_buttons_and_typed_answers(chat: Chat):
    """/vurdering to the summary: each step answered by a button or by typing its label."""
    await chat.send("/start")
    await chat.press("Norsk (bokmål)")
    await chat.send("/vurdering")
    presses = 0
    for turn in range(80):
        move, value = next_move(chat.keyboard_message(), turn)
        if move == "press":
            presses += 1
            calls = await chat.press_data(value)
            assert [c.method for c in calls].count("answerCallbackQuery") == 1
        else:
            calls = await chat.send(value)
        assert any(c.method in VISIBLE for c in calls), f"turn {turn}: no reply"
        assert_telegram_would_accept(calls)
        if any(c.method == "sendDocument" for c in calls):
            break
    else:
        pytest.fail("the assessment never reached its summary document")
    (document,) = chat.request.of("sendDocument")
    name, content = document.files["document"]
    assert name.endswith((".md", ".txt")) and "SATS" in content.decode("utf-8")
    assert len(chat.request.of("answerCallbackQuery")) == presses + 1
    assert chat.request.of("editMessageText"), "multi-select toggles should edit the message"
    await chat.send("/mine")
    assert "SATS" in chat.shown()


async def test_a_press_is_answered_in_the_pressed_message(chat: Chat):
    """The chosen answer shows in the question, and what follows comes in the same edit: no new message."""
    await chat.send("/start")
    welcome = chat.keyboard_message()
    calls = await chat.press("Norsk (bokmål)")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert calls[-1].params["message_id"] == welcome["message_id"]
    text = parse_html(calls[-1].params["text"])
    assert text.startswith(welcome["text"]) and "→ Norsk (bokmål)" in text
    assert chat.keyboard_message()["message_id"] == welcome["message_id"]  # the next question's buttons


async def test_multi_select_toggle_edits_the_pressed_message(chat: Chat):
    await at_life_areas(chat)
    before = chat.keyboard_message()
    calls = await chat.press("Bolig")
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1 and not any(c.method == "sendMessage" for c in calls)
    assert edits[0].params["message_id"] == before["message_id"]
    labels = [b["text"] for row in edits[0].params["reply_markup"]["inline_keyboard"] for b in row]
    assert f"{tr.CHECK}Bolig" in labels and "Økonomi" in labels
    calls = await chat.press("Bolig")  # toggled off again
    labels = [b["text"] for row in calls[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert "Bolig" in labels


async def test_forged_and_stale_buttons_get_the_moved_on_answer(chat: Chat, service: BotService):
    await chat.send("/start")
    moved_on = service.kb.ui("moved_on", "nb")
    for data in ("999|nb", "no-bar-at-all", "|", "x" * 63):
        calls = await chat.press_data(data)
        assert [c.method for c in calls].count("answerCallbackQuery") == 1
        assert moved_on in chat.shown(), data


async def test_non_text_messages_get_an_explanation(chat: Chat, service: BotService):
    expected = service.kb.ui("non_text", "nb")
    sticker = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False,
               "is_video": False, "type": "regular"}
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 2}
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    for content in ({"sticker": sticker}, {"voice": voice}, {"photo": photo, "caption": "hei"}):
        await chat.send(**content)
        assert expected in chat.shown()


async def test_an_edited_message_gets_a_note_and_the_open_question_but_changes_nothing(chat: Chat,
                                                                                        service: BotService):
    await at_life_areas(chat)
    answers = dict(service.storage.conversation(chat.user_id).answers)
    question = chat.keyboard_message()["text"]
    calls = await chat._process(edited_update(chat.user_id, "nei"))  # an earlier answer, edited
    assert service.kb.ui("edited_message", "nb") in chat.shown()
    assert question in chat.shown() and calls[-1].params.get("reply_markup")  # the question, with its buttons
    assert_telegram_would_accept(calls)
    assert service.storage.conversation(chat.user_id).answers == answers


async def test_a_crisis_in_an_edited_message_is_still_answered_first(chat: Chat):
    await chat.send("/vurdering")
    calls = await chat._process(edited_update(chat.user_id, "jeg vil ta livet mitt i kveld"))
    assert "113" in parse_html(calls[0].params["text"])


async def test_html_in_user_text_and_replies_is_escaped(chat: Chat, service: BotService, monkeypatch):
    reply = Reply(title="<b>Tittel & co</b>", text="a < b && c > d <script>", options=[Option("k", "<x>")],
                  token="t1")
    monkeypatch.setattr(service, "handle", lambda *a, **k: [reply])
    calls = await chat.send("<i>hei</i>")
    assert_telegram_would_accept(calls)
    text = calls[-1].params["text"]
    assert text.startswith("<b>&lt;b&gt;Tittel &amp; co&lt;/b&gt;</b>")
    assert parse_html(text) == "<b>Tittel & co</b>\n\na < b && c > d <script>"


async def test_long_reply_is_split_under_the_limit_with_the_keyboard_last(chat: Chat, service: BotService,
                                                                          monkeypatch):
    paragraph = "Ord & <setninger> " * 40
    long = Reply(title="Lang", text="\n\n".join([paragraph] * 30), options=[Option("ok", "OK")], token="t")
    monkeypatch.setattr(service, "handle", lambda *a, **k: [long])
    calls = await chat.send("hei")
    sends = [c for c in calls if c.method == "sendMessage"]
    assert len(sends) >= 3
    assert_telegram_would_accept(sends)
    assert all("reply_markup" not in c.params for c in sends[:-1]) and "reply_markup" in sends[-1].params
    assert sends[0].params["text"].startswith("<b>Lang</b>")
    joined = " ".join(parse_html(c.params["text"]) for c in sends)
    assert joined.split() == f"Lang {long.text}".split()


async def test_urgent_replies_go_first(chat: Chat, service: BotService, monkeypatch):
    replies = [Reply(text="vanlig"), Reply(title="Akutt", text="ring 113", urgent=True)]
    monkeypatch.setattr(service, "handle", lambda *a, **k: replies)
    calls = await chat.send("hei")
    assert [parse_html(c.params["text"]).split()[0] for c in calls] == ["Akutt", "vanlig"]


async def test_crisis_text_is_answered_first_by_the_real_service(chat: Chat):
    await chat.send("/vurdering")
    calls = await chat.send("jeg vil ta livet mitt i kveld")
    assert "113" in parse_html(calls[0].params["text"])


async def test_deep_link_payload_reaches_the_service(chat: Chat, service: BotService, monkeypatch):
    seen: list[Incoming] = []
    monkeypatch.setattr(service, "handle", lambda uid, incoming, **k: seen.append(incoming) or [Reply(text="ok")])
    await chat.send("/start case_12")
    assert seen == [Incoming.typed("/start case_12")]


# ------------------------------------------------------------ robustness


async def test_button_press_is_answered_even_when_the_service_fails(chat: Chat, service: BotService, monkeypatch):
    await chat.send("/start")
    real = service.handle

    def broken(user_id: int, incoming: Incoming, **kwargs: Any) -> list[Reply]:
        if incoming.kind == "failure":
            return real(user_id, incoming, **kwargs)
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "handle", broken)
    calls = await chat.press("English")
    assert [c.method for c in calls].count("answerCallbackQuery") == 1
    assert service.kb.ui("error", "nb") in chat.shown()


async def test_when_even_the_error_notice_fails_a_fallback_is_sent(chat: Chat, service: BotService, monkeypatch):
    monkeypatch.setattr(service, "handle", lambda *a, **k: 1 / 0)
    await chat.send("hei")
    assert "Something went wrong" in chat.shown()


async def test_server_errors_and_timeouts_are_retried(chat: Chat, bot):
    _, request = bot
    request.fail("sendMessage", 502, "Bad Gateway")
    request.fail("sendMessage", 500, "Internal Server Error")
    request.fail("answerCallbackQuery", 500, "Internal Server Error")
    await chat.send("/start")
    assert [c.method for c in chat.last].count("sendMessage") >= 3
    assert chat.request.messages[chat.user_id]
    calls = await chat.press("English")
    assert [c.method for c in calls].count("answerCallbackQuery") == 2
    assert any(c.method in VISIBLE for c in calls)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB's own RetryAfter.__init__ in v22
async def test_retry_after_is_honoured(chat: Chat, bot):
    _, request = bot
    request.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await chat.send("/start")
    assert loop.time() - started >= 1.0
    assert request.messages[chat.user_id]


async def test_blocked_user_is_marked_inactive(chat: Chat, service: BotService, monkeypatch):
    marked: list[int] = []
    monkeypatch.setattr(service, "mark_inactive", marked.append)
    chat.request.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await chat.send("/start")
    assert marked == [chat.user_id]


async def test_message_not_modified_is_ignored(chat: Chat):
    await at_life_areas(chat)
    chat.request.fail("editMessageText", 400, "Bad Request: message is not modified: specified new message "
                                              "content and reply markup are exactly the same")
    calls = await chat.press("Bolig")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]


async def test_edit_of_a_vanished_message_falls_back_to_a_new_message(chat: Chat):
    await at_life_areas(chat)
    chat.request.messages[chat.user_id].clear()
    message = {"message_id": 1, "date": 0, "chat": {"id": chat.user_id, "type": "private"}, "text": "x"}
    token = "?"
    for call in reversed(chat.request.of("sendMessage")):
        if call.params.get("reply_markup"):
            token = call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split("|")[0]
            break
    calls = await chat.press_data(f"{token}|housing", message)
    assert [c.method for c in calls][-1] == "sendMessage"
    assert f"{tr.CHECK}Bolig" in chat.shown()


async def test_one_users_updates_stay_in_order_while_users_run_concurrently(service: BotService):
    """Through the update queue (as in production): a user's replies come in the order they wrote."""
    request = RecordingRequest(jitter=0.01)
    active: set[int] = set()
    overlap: list[bool] = []

    class Echo:
        def __getattr__(self, name: str) -> Any:
            return getattr(service, name)

        def handle(self, user_id: int, incoming: Incoming, **kwargs: Any) -> list[Reply]:
            overlap.append(user_id in active)
            return [Reply(text=incoming.text or "")]

    app = build_application(Echo(), TOKEN, request=request, backoff=0.01)  # type: ignore[arg-type]
    original = app.bot_data["front"].deliver

    async def deliver(update, context, replies, **kwargs):
        active.add(update.effective_user.id)
        try:
            await original(update, context, replies, **kwargs)
        finally:
            active.discard(update.effective_user.id)

    app.bot_data["front"].deliver = deliver
    async with app:
        await app.start()
        for n in range(15):
            for user in (1, 2, 3):
                await app.update_queue.put(Update.de_json(message_update(user, f"m{n}"), app.bot))
        await asyncio.wait_for(app.update_queue.join(), 10)

        async def all_sent() -> None:
            while len(request.of("sendMessage")) < 45:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(all_sent(), 10)
        await app.stop()
    for user in (1, 2, 3):
        texts = [c.params["text"] for c in request.of("sendMessage") if c.params["chat_id"] == user]
        assert texts == [f"m{n}" for n in range(15)]
    assert not any(overlap), "a user's update started before the previous one was answered"
    order = [c.params["chat_id"] for c in request.of("sendMessage")]
    assert order != sorted(order), "users were not served concurrently"


# ------------------------------------------------------------ commands, inline


async def test_command_menus_per_language(bot):
    app, request = bot
    await app.bot_data["front"].set_commands(app.bot)
    calls = request.of("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == [None, "nb", "no", "en"]
    for call in calls:
        names = [c["command"] for c in call.params["commands"]]
        assert names and all(tr_command_ok(n) for n in names)
    nb = {c["command"] for c in calls[1].params["commands"]}
    en = {c["command"] for c in calls[3].params["commands"]}
    assert "vurdering" in nb and "assessment" in en
    assert calls[0].params["commands"] == calls[1].params["commands"]


def tr_command_ok(name: str) -> bool:
    return name.isascii() and name == name.lower() and 1 <= len(name) <= 32


async def test_inline_query_gives_articles_and_empty_query_none(bot):
    app, request = bot
    await app.process_update(Update.de_json(inline_update(5, "motivasjon"), app.bot))
    await app.process_update(Update.de_json(inline_update(5, "   "), app.bot))
    first, empty = request.of("answerInlineQuery")
    assert first.params["results"] and empty.params["results"] == []
    assert first.params["cache_time"] <= 60
    for result in first.params["results"]:
        assert result["type"] == "article" and result["title"]
        assert len(result["id"].encode()) <= 64
        parse_html(result["input_message_content"]["message_text"])


async def test_admin_reload_and_non_admin_pass_through(service: BotService, bot):
    app, request = bot
    admin, other = Chat(app, request, ADMIN), Chat(app, request, 901)
    await admin.send("/reload")
    ok, message = service.reload()
    assert ok and message in admin.shown()
    await other.send("/reload")
    assert service.kb.ui("admin_only", "nb") in other.shown()


# -------------------------------------------------------------- rendering


def test_keyboard_layout_and_callback_data():
    short = Reply(text="?", options=[Option("yes", "Ja"), Option("no", "Nei"), Option("u", "Vet ikke")], token="12")
    rows = tr.keyboard(short).inline_keyboard
    assert [len(r) for r in rows] == [2, 1]
    assert rows[0][0].callback_data == "12|yes"
    long = Reply(text="?", options=[Option("a", "Arbeid og aktivitet"), Option("b", "Bolig")], token="1")
    assert [len(r) for r in tr.keyboard(long).inline_keyboard] == [1, 1]
    multi = Reply(text="?", options=[Option("a", "A", selected=True), Option("done", "Ferdig")], multi=True, token="1")
    assert [b.text for row in tr.keyboard(multi).inline_keyboard for b in row] == ["✓ A", "Ferdig"]
    with pytest.raises(ValueError):
        tr.callback_data("t" * 40, "k" * 24)
    with pytest.raises(ValueError):  # 64 bytes counted in UTF-8, not characters
        tr.callback_data("1", "æ" * 31)
    assert tr.parse_callback("5|yes") == ("5", "yes") and tr.parse_callback("junk") == ("", "junk")


def test_document_is_a_utf8_text_file():
    file = tr.document_file(Document("vurdering 2024.md", "Æøå – SATS 3"))
    assert file.filename == "vurdering_2024.md"
    assert file.input_file_content == "Æøå – SATS 3".encode()
    assert tr.document_file(Document("summary", "x")).filename == "summary.txt"


@given(st.text(alphabet=st.sampled_from(list("ab æ😀<&>\n")), max_size=3000), st.integers(20, 400))
def test_split_keeps_every_word_and_respects_the_limit(text: str, limit: int):
    pieces = tr.split_plain(text, limit)
    assert all(0 < utf16_len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@given(st.text(max_size=9000), st.one_of(st.none(), st.text(max_size=300)))
def test_rendered_parts_are_valid_telegram_html(text: str, title: str | None):
    for part in tr.render(Reply(text=text, title=title)):
        assert 0 < utf16_len(parse_html(part.html)) <= tr.MAX_TEXT


# ------------------------------------------------------------ logs, start


def test_token_is_redacted_from_messages_args_and_tracebacks():
    redact = RedactTokens(TOKEN)
    try:
        raise ValueError(f"POST http://x/bot{TOKEN}/getMe failed")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "url %s and %s", (TOKEN, "bot98765:AAsecret"),
                                   sys.exc_info())
    redact.filter(record)
    formatted = logging.Formatter().format(record)
    assert "TEST-token" not in formatted and "AAsecret" not in formatted and "[token]" in formatted


async def test_logs_have_one_line_per_update_and_no_message_text(chat: Chat, caplog):
    caplog.set_level(logging.INFO)
    await chat.send("/start")
    await chat.send("hemmelig pasienttekst")
    await chat.send("nontext")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.telegram"]
    assert sum(line.startswith("update type=message step=") for line in lines) == 3
    assert not any("hemmelig" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("token", [None, "", "not-a-token", "123:short", "abc:DEFGHIJKLMNOP"])
def test_run_telegram_refuses_a_missing_or_malformed_token(tmp_path: Path, token: str | None, capsys):
    assert run_telegram(make_config(tmp_path, token=token)) == 2
    assert "token" in capsys.readouterr().err


async def test_watch_reloads_when_the_yaml_changes_and_tells_the_admins(bot, service, tmp_path: Path, monkeypatch):
    app, request = bot
    (tmp_path / "a.yaml").write_text("x: 1\n")
    reloads: list[int] = []
    monkeypatch.setattr(service, "reload", lambda: reloads.append(1) or (True, "reloaded <ok>"))
    config = SimpleNamespace(knowledge_dir=tmp_path, conversations_dir=None, admin_ids=frozenset({ADMIN}))
    stop = asyncio.Event()
    task = asyncio.create_task(watch_knowledge(app, config, stop, interval=0.05))
    await asyncio.sleep(0.2)
    assert not reloads
    (tmp_path / "b.yaml").write_text("y: 2\n")
    for _ in range(100):
        if request.of("sendMessage"):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert reloads == [1]
    (sent,) = request.of("sendMessage")
    assert sent.params["chat_id"] == ADMIN and sent.params["text"].startswith("reloaded &lt;ok&gt;")


def test_webhook_path_comes_from_the_url():
    assert _url_path("https://example.org/iddt/hook?x=1") == "iddt/hook"
    assert _url_path("https://example.org") == ""
