"""Test doubles for the Telegram front end: a recording Bot API request and Update builders.

``RecordingRequest`` stands in for PTB's HTTP layer, so real ``telegram.Update`` objects go through
the real Application and handlers with no network. It answers like the Bot API (message ids, the
edited message), checks what Telegram would reject (with the rules of ``tests.botapi_server``),
and can be scripted to fail.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.engine.replies import DONE_KEY
from tests.botapi_server import BOT_USER, ApiError, check_markup, decode_params, message_text

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


class RecordingRequest(BaseRequest):
    """Records every Bot API call and returns canned, Telegram-shaped answers."""

    def __init__(self, jitter: float = 0.0) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self.messages: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self._ids = itertools.count(100)
        self.jitter = jitter

    def fail(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """The next call of ``method`` gets this error answer."""
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        self.failures[method].append((status, payload))

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        api = url.rsplit("/", 1)[-1]
        api = METHODS.get(api.lower(), api)
        # What goes over the wire (every value a string), read back as the Bot API reads it.
        params = decode_params(request_data.json_parameters) if request_data else {}
        files = {}
        if request_data and request_data.contains_files:
            files = {k: (v[0], v[1]) for k, v in (request_data.multipart_data or {}).items()}
        self.calls.append(Call(api, params, files))
        if self.jitter:
            await asyncio.sleep(random.uniform(0, self.jitter))
        if self.failures[api]:
            status, payload = self.failures[api].popleft()
            return status, json.dumps(payload).encode()
        try:
            result = self._answer(api, params, files)
        except ApiError as exc:
            return exc.code, json.dumps({"ok": False, "error_code": exc.code, "description": exc.description}).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, api: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if api == "getMe":
            return BOT_USER
        if api == "sendMessage":
            text = message_text(params.get("text"), params.get("parse_mode"))
            return self._store(params["chat_id"], text=text, reply_markup=check_markup(params.get("reply_markup")))
        if api == "editMessageText":
            stored = self.messages[params["chat_id"]].get(params["message_id"])
            if stored is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            text = message_text(params.get("text"), params.get("parse_mode"))
            markup = check_markup(params.get("reply_markup"))
            stored.update(text=text, reply_markup=markup)
            return {k: v for k, v in stored.items() if v is not None}
        if api == "sendDocument":
            name, content = files["document"]
            return self._store(params["chat_id"], document={"file_id": "f", "file_unique_id": "f", "file_name": name,
                                                            "file_size": len(content)})
        return True

    def _store(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._ids), "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": chat_id, "type": "private"}, **content}
        self.messages[chat_id][message["message_id"]] = message
        return {k: v for k, v in message.items() if v is not None}

    # ------------------------------------------------------------- queries
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
