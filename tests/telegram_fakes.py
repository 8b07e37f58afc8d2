"""Test doubles for the Telegram front end: a recording Bot API request and Update builders.

``RecordingRequest`` stands in for PTB's HTTP layer, so real ``telegram.Update`` objects go through
the real Application and handlers with no network. It is the one fake Bot API of the tests
(``tests.botapi_server.FakeBotApi``, called in-process and lenient about chats and queries the
updates made up), so it answers like Telegram (message ids, entities, the edited message), rejects
what Telegram rejects and can be scripted to fail; here it also keeps every call for assertions.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from bot.engine.replies import DONE_KEY
from tests.botapi_server import FakeBotApi, LocalRequest

TOKEN = "123456:TEST-token-abc"
METHODS = {name.lower(): name for name in (
    "getMe", "getUpdates", "deleteWebhook", "sendMessage", "editMessageText", "sendDocument",
    "answerCallbackQuery", "answerInlineQuery", "setMyCommands", "getMyCommands", "sendChatAction")}
"""Telegram reads method names case-insensitively; calls are recorded under the documented spelling."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def _call(record: dict[str, Any]) -> Call:
    params = dict(record["params"])
    files = {name: (value["filename"], value["content"]) for name, value in record["params"].items()
             if isinstance(value, dict) and "content" in value}
    for name in files:
        del params[name]
    return Call(METHODS.get(record["method"], record["method"]), params, files)


class RecordingRequest(LocalRequest):
    """The fake Bot API in-process, with every call kept (``calls``) and errors on demand (``fail``)."""

    def __init__(self, jitter: float = 0.0) -> None:
        super().__init__(FakeBotApi(TOKEN, strict=False), jitter)
        self._calls: list[Call] = []

    @property
    def calls(self) -> list[Call]:
        records = self.api.requests
        self._calls += [_call(r) for r in records[len(self._calls):]]
        return self._calls

    @property
    def messages(self) -> dict[int, dict[int, dict[str, Any]]]:
        """The bot's messages per chat as they stand now, by message id."""
        return self.api.messages

    def fail(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """The next call of ``method`` gets this error answer."""
        self.api.inject_error(method, status, description, **parameters)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def since(self, index: int) -> list[Call]:
        return self.calls[index:]


def user_dict(user_id: int, language_code: str | None = "nb") -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if language_code:
        user["language_code"] = language_code
    return user


_update_ids = itertools.count(1)


def message_update(user_id: int, text: str | None = None, language_code: str | None = "nb",
                   **content: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": next(_update_ids), "date": int(time.time()),
                               "from": user_dict(user_id, language_code),
                               "chat": {"id": user_id, "type": "private"}, **content}
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": message}


def edited_update(user_id: int, text: str, language_code: str | None = "nb") -> dict[str, Any]:
    """The user edits an earlier text message of theirs (Telegram sends the whole message again)."""
    update = message_update(user_id, text, language_code)
    message = update.pop("message")
    message["edit_date"] = message["date"] + 60
    return {**update, "edited_message": message}


def callback_update(user_id: int, data: str, message: dict[str, Any] | None,
                    language_code: str | None = "nb") -> dict[str, Any]:
    query: dict[str, Any] = {"id": str(next(_update_ids)), "from": user_dict(user_id, language_code),
                             "chat_instance": str(user_id), "data": data}
    if message is not None:
        query["message"] = message
    return {"update_id": next(_update_ids), "callback_query": query}


def inline_update(user_id: int, query: str, language_code: str | None = "nb") -> dict[str, Any]:
    return {"update_id": next(_update_ids), "inline_query": {
        "id": str(next(_update_ids)), "from": user_dict(user_id, language_code), "query": query, "offset": ""}}


def next_move(message: dict[str, Any] | None, turn: int) -> tuple[str, str]:
    """What a simulated user does next: ("press", callback_data) or ("type", text).

    Content-agnostic, so it follows whatever the flows ask: on even turns it presses, on odd turns it
    types the button's label (the engine accepts typed answers); on a multi-select it presses the
    first option (the toggle edits the message), then "done".
    """
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = [b for row in rows for b in row if b.get("callback_data")]
    if not buttons:
        return "type", "ferdig"
    done = [b for b in buttons if b["callback_data"].endswith(f"|{DONE_KEY}")]
    if done:
        if any(b["text"].startswith("✓ ") for b in buttons):
            return "press", done[0]["callback_data"]
        options = [b for b in buttons if not b["callback_data"].endswith(("|done", "|none"))] or done
        return "press", options[0]["callback_data"]
    choice = buttons[0]
    return ("press", choice["callback_data"]) if turn % 2 == 0 else ("type", choice["text"].removeprefix("✓ "))
