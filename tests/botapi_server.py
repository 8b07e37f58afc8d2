"""A local fake of the Telegram Bot API, strict where the real one is strict, with scripted faults.

It serves the methods the bot uses over plain HTTP on 127.0.0.1 (stdlib ``http.server`` in a
thread), rejects what Telegram rejects (bad HTML, over-long texts, bad buttons, unknown messages,
a wrong token), can be told to fail (429 with retry_after, 5xx, slow replies, going down), records
every request, and plays simulated users who type, press buttons and wait for the bot's answer.
It notes when each update was handed to the bot and tells listeners about every chat event, so the
end-to-end benchmark (``benchmarks/e2e.py``) measures reply latency against it; :class:`BotProcess`
runs the unchanged ``iddt-bot telegram`` against it, for the tests and the benchmark alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from telegram.request import BaseRequest, RequestData

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token-abc"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "IDDT test", "username": "iddt_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
SENDING = {"sendmessage", "editmessagetext", "editmessagereplymarkup", "senddocument", "answercallbackquery",
           "sendchataction", "answerinlinequery", "setmycommands"}
"""Methods a fault applies to unless it names its own."""
VISIBLE = {"message", "edit", "document"}
"""Chat events a user sees."""
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
        "blockquote", "tg-emoji"}
TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)(\s[^<>]*)?>")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);")
SPECIAL = re.compile(r"[<>&]")
ENTITY_TYPES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
                "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code",
                "pre": "pre", "tg-spoiler": "spoiler", "blockquote": "blockquote"}
"""Tags whose entity a message carries back (links and custom emoji are not modelled)."""
COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
JSON_FIELDS = {"reply_markup", "commands", "scope", "results", "allowed_updates", "link_preview_options",
               "entities", "reply_parameters", "button"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "user_id"}
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class _Drop(Exception):
    """Close the connection without an answer (the server is going down)."""


@dataclass
class Fault:
    """One scripted failure, used by the next matching request."""

    kind: str  # "429", "500", "502", "slow", "down", "error"
    seconds: float = 1.0
    methods: set[str] | None = None
    answer: tuple[int, dict[str, Any]] | None = None
    """For "error": the status and JSON answer to give."""

    def matches(self, method: str) -> bool:
        return method in (self.methods or SENDING)


@dataclass
class Event:
    kind: str  # message | edit | document | answer | action
    t: float
    message: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def parse_html(text: str) -> str:
    """Telegram's HTML mode: the plain text, or ApiError 400 "can't parse entities"."""
    return parse_entities(text)[0]


def parse_entities(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML mode: the plain text and its formatting entities (offsets in UTF-16 units)."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    entities: list[dict[str, Any]] = []
    length = 0
    i = 0
    while i < len(text):
        special = SPECIAL.search(text, i)
        end = special.start() if special else len(text)
        out.append(text[i:end])
        length += utf16_len(text[i:end])
        if special is None:
            break
        i, char = end, text[end]
        offset = len(text[:i].encode("utf-8"))  # only where markup is: a linear scan of plain text
        if char == "<":
            m = TAG.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: Unclosed start tag at byte offset {offset}")
            closing, name = m.group(1), m.group(2).lower()
            if name not in TAGS:
                raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" '
                                    f"at byte offset {offset}")
            if closing:
                if not stack or stack[-1][0] != name:
                    expected = stack[-1][0] if stack else ""
                    raise ApiError(400, f"Bad Request: can't parse entities: Unmatched end tag at byte offset "
                                        f'{offset}, expected "</{expected}>", found "</{name}>"')
                _, start = stack.pop()
                if name in ENTITY_TYPES and length > start:
                    entities.append({"type": ENTITY_TYPES[name], "offset": start, "length": length - start})
            else:
                stack.append((name, length))
            i = m.end()
        elif char == "&":
            m = ENTITY.match(text, i)
            if not m:
                raise ApiError(400, "Bad Request: can't parse entities: Character '&' is reserved and must be "
                                    f"escaped at byte offset {offset}")
            out.append(html.unescape(m.group(0)))
            length += utf16_len(out[-1])
            i = m.end()
        else:
            raise ApiError(400, f"Bad Request: can't parse entities: Character '>' is reserved at byte offset {offset}")
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                            f'"{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_text(text: Any, parse_mode: Any) -> str:
    """The text as the user sees it, checked as Telegram checks it."""
    return message_content(text, parse_mode)[0]


def message_content(text: Any, parse_mode: Any) -> tuple[str, list[dict[str, Any]]]:
    """The text as the user sees it and its entities, checked as Telegram checks them."""
    text = "" if text is None else str(text)
    plain, entities = parse_entities(text) if str(parse_mode or "").lower() == "html" else (text, [])
    stripped = plain.lstrip()
    shift = utf16_len(plain) - utf16_len(stripped)  # Telegram trims the text; entities move with it
    plain = stripped.rstrip()
    if not plain:
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    size = utf16_len(plain)
    kept = []
    for entity in entities:
        start, end = max(0, entity["offset"] - shift), min(size, entity["offset"] + entity["length"] - shift)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return plain, kept


def check_markup(markup: Any) -> dict[str, Any] | None:
    if markup in (None, "", {}):
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are "
                                    "unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is None and not button.get("url"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are "
                                    "unallowed in the inline keyboard")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    if content_type.startswith("application/json"):
        raw = json.loads(body or b"{}")
    elif content_type.startswith("multipart/form-data"):
        msg = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body, policy=HTTP)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            raw[name] = {"filename": filename, "content": payload} if filename else payload.decode("utf-8")
    elif body:
        raw = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return decode_params(raw)


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Form values as the Bot API reads them: JSON fields parsed, numeric ids as integers."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_FIELDS and isinstance(value, str):
            value = json.loads(value) if value else None
        elif key in INT_FIELDS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = int(value)
        params[key] = value
    return params


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out as separate writes: without this, Nagle + delayed ACK add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.api._connections.add(self.connection)

    def finish(self) -> None:
        self.server.api._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, payload = self.server.api.dispatch(self.path, self.headers.get("Content-Type", ""), body)
        except _Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (a long poll cancelled at shutdown)
            self.wfile.write(data)

    do_GET = do_POST


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    """The listen backlog: python-telegram-bot opens many connections at once in a burst, and the
    default (5) makes the kernel drop the rest, which then retry a second later."""
    api: FakeBotApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections cut by a client or by ``go_down`` are expected; stay quiet."""


class FakeBotApi:
    """The fake Bot API. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(self, token: str = TOKEN, *, strict: bool = True) -> None:
        self.token = token
        self.strict = strict
        """False: every chat, callback query and inline query exists (for updates built without the
        server, as the in-process tests build them); True: only those of the simulated users."""
        self.port = 0
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._connections: set[socket.socket] = set()
        self._closing = False
        self._down_until = 0.0
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._query_ids = itertools.count(1000)
        self.updates: list[dict[str, Any]] = []
        self.delivered: dict[int, float] = {}
        """update_id → when a getUpdates answer first handed it to the bot (``time.monotonic``)."""
        self.listeners: list[Callable[[int, Event], object]] = []
        """Called with (chat id, event) for every chat event, in the server's thread."""
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.events: dict[int, list[Event]] = defaultdict(list)
        self.requests: list[dict[str, Any]] = []
        self.faults: deque[Fault] = deque()
        self.queries: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}

    # ------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as ``base_url``: it appends the token and the method."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeBotApi:
        self._bind()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._unbind()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _bind(self) -> None:
        for _ in range(50):
            try:
                server = _Server(("127.0.0.1", self.port), _Handler)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"cannot bind 127.0.0.1:{self.port}")
        server.api = self
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _unbind(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def go_down(self, seconds: float) -> None:
        """Refuse connections (listening socket closed, open ones cut) for ``seconds``, then come back."""
        with self._cond:
            self._down_until = time.monotonic() + seconds
            self._cond.notify_all()

        def cycle() -> None:
            self._unbind()
            time.sleep(max(0.0, self._down_until - time.monotonic()))
            if not self._closing:
                self._bind()

        threading.Thread(target=cycle, daemon=True).start()

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    # ------------------------------------------------------------- faults
    def inject(self, kind: str, seconds: float = 1.0, methods: set[str] | None = None) -> None:
        """Queue a fault: "429" (retry_after=seconds), "500", "502", "slow" (seconds), "down" (seconds)."""
        with self._cond:
            self.faults.append(Fault(kind, seconds, {m.lower() for m in methods} if methods else None))

    def inject_error(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """Queue an error answer, e.g. (403, "Forbidden: bot was blocked by the user"), for ``method``."""
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        with self._cond:
            self.faults.append(Fault("error", methods={method.lower()}, answer=(status, payload)))

    def _take_fault(self, method: str) -> Fault | None:
        with self._cond:
            for fault in self.faults:
                if fault.matches(method):
                    self.faults.remove(fault)
                    return fault
        return None

    # ------------------------------------------------------------ dispatch
    def dispatch(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if self.down:
            raise _Drop
        m = re.fullmatch(r"/bot([^/]+)/(\w+)", urlsplit(path).path)
        if not m:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if m.group(1) != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return self.call(m.group(2), _params(content_type, body))

    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One Bot API call with its parameters as Telegram reads them: (HTTP status, JSON answer)."""
        method = method.lower()
        record = {"method": method, "params": params, "chat_id": params.get("chat_id"), "t": time.monotonic(),
                  "status": None}
        with self._cond:
            self.requests.append(record)  # on arrival: a long poll counts from when it started
            self._cond.notify_all()
        fault = self._take_fault(method)
        try:
            status, payload = self._run(method, params, fault)
        except _Drop:
            record["status"] = "dropped"
            raise
        record["status"] = status
        return status, payload

    def _run(self, method: str, params: dict[str, Any], fault: Fault | None) -> tuple[int, dict[str, Any]]:
        if fault is not None:
            if fault.answer is not None:
                return fault.answer
            if fault.kind == "429":
                retry = max(1, int(fault.seconds))
                return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry}",
                             "parameters": {"retry_after": retry}}
            if fault.kind in ("500", "502"):
                text = "Internal Server Error" if fault.kind == "500" else "Bad Gateway"
                return int(fault.kind), {"ok": False, "error_code": int(fault.kind), "description": text}
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault.kind == "down":
                self.go_down(fault.seconds)
                raise _Drop
        api = getattr(self, f"_api_{method}", None)
        if api is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        try:
            return 200, {"ok": True, "result": api(params)}
        except ApiError as exc:
            payload: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                payload["parameters"] = exc.parameters
            return exc.code, payload

    # ---------------------------------------------------------- api methods
    def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._cond:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and not self._closing:
                if self.down:
                    raise _Drop
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.5))
            if self.down:
                raise _Drop
            now = time.monotonic()
            for update in self.updates[:limit]:
                self.delivered.setdefault(update["update_id"], now)
            return self.updates[:limit]

    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or (self.strict and chat_id not in self.users):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        if chat_id in self.users:
            chat["first_name"] = self.users[chat_id]["first_name"]
        return {"message_id": next(self._message_ids[chat_id]), "date": int(time.time()), "chat": chat,
                "from": BOT_USER, **content}

    def _query(self, query_id: str) -> dict[str, Any]:
        """A callback or inline query not answered yet (any, when not strict)."""
        query = self.queries.get(query_id)
        if query is None and not self.strict:
            query = self.queries[query_id] = {"user_id": None, "answered": None}
        if query is None or query["answered"]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return query

    def _event(self, chat_id: int, kind: str, message: dict[str, Any] | None, params: dict[str, Any]) -> None:
        event = Event(kind, time.monotonic(), message, params)
        with self._cond:
            self.events[chat_id].append(event)
            self._cond.notify_all()
        for listener in self.listeners:
            listener(chat_id, event)

    def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text, entities = message_content(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        message = self._bot_message(chat_id, text=text)
        if entities:
            message["entities"] = entities
        if markup:
            message["reply_markup"] = markup
        with self._cond:
            self.messages[chat_id][message["message_id"]] = {**message, "html": params.get("text")}
        self._event(chat_id, "message", message, params)
        return message

    def _editable(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = self._chat(params)
        message = self.messages[chat_id].get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat_id, message

    def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message = self._editable(params)
        text, entities = message_content(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        if (text, entities, markup) == (message["text"], message.get("entities", []), message.get("reply_markup")):
            raise ApiError(400, NOT_MODIFIED)
        return self._replace(chat_id, message, text=text, entities=entities or None, html=params.get("text"),
                             reply_markup=markup, params=params)

    def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message = self._editable(params)
        markup = check_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        return self._replace(chat_id, message, text=message["text"], html=message["html"], reply_markup=markup,
                             params=params)

    def _replace(self, chat_id: int, old: dict[str, Any], *, params: dict[str, Any], **new: Any) -> dict[str, Any]:
        stored = {k: v for k, v in {**old, **new, "edit_date": int(time.time())}.items() if v is not None}
        with self._cond:
            self.messages[chat_id][old["message_id"]] = stored
        visible = {k: v for k, v in stored.items() if k != "html"}
        self._event(chat_id, "edit", visible, params)
        return visible

    def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        doc = params.get("document")
        if not isinstance(doc, dict) or not doc.get("content"):
            raise ApiError(400, "Bad Request: file must be non-empty")
        file_id = f"doc{next(self._query_ids)}"
        message = self._bot_message(chat_id, document={
            "file_id": file_id, "file_unique_id": file_id, "file_name": doc["filename"],
            "file_size": len(doc["content"]), "mime_type": "text/plain"})
        with self._cond:
            self.messages[chat_id][message["message_id"]] = {**message, "content": doc["content"]}
        self._event(chat_id, "document", {**message, "content": doc["content"]}, params)
        return message

    def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query = self._query(str(params.get("callback_query_id")))
        query["answered"] = time.monotonic()
        if query["user_id"] is not None:
            self._event(query["user_id"], "answer", None, params)
        return True

    def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        self._chat(params)
        return True

    def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not COMMAND.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, language)] = commands
        return True

    def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        scope = (params.get("scope") or {}).get("type", "default")
        return self.commands.get((scope, str(params.get("language_code") or "")), [])

    def _api_answerinlinequery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id"))
        query = self._query(query_id)
        results = params.get("results") or []
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for result in results:
            if not str(result.get("title", "")).strip():
                raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
            content = result.get("input_message_content") or {}
            message_text(content.get("message_text"), content.get("parse_mode"))
        query["answered"] = time.monotonic()
        self.inline_answers[query_id] = results
        return True

    # ------------------------------------------------------- simulated users
    def _user(self, user_id: int, language_code: str = "nb") -> dict[str, Any]:
        with self._cond:
            return self.users.setdefault(user_id, {"id": user_id, "is_bot": False,
                                                   "first_name": f"User{user_id}", "language_code": language_code})

    def _push(self, update: dict[str, Any]) -> int:
        with self._cond:
            update["update_id"] = next(self._update_ids)
            self.updates.append(update)
            self._cond.notify_all()
            return update["update_id"]

    def mark(self, user_id: int) -> int:
        """How many events the chat has so far: pass it to :meth:`wait_reply`."""
        with self._cond:
            return len(self.events[user_id])

    def send_message(self, user_id: int, text: str | None = None, *, language_code: str = "nb",
                     **content: Any) -> int:
        """The user sends a message (text, or ``sticker={...}`` etc.); returns the update id."""
        user = self._user(user_id, language_code)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[user_id]), "date": int(time.time()), "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]}, **content}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._push({"message": message})

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they stand now (edits applied), oldest first."""
        with self._cond:
            return sorted(self.messages[chat_id].values(), key=lambda m: m["message_id"])

    def chat_events(self, chat_id: int, start: int = 0, stop: int | None = None) -> list[Event]:
        """What the bot did in a chat, in order (``start``: a :meth:`mark`)."""
        with self._cond:
            return self.events[chat_id][start:stop]

    def last_keyboard_message(self, user_id: int) -> dict[str, Any]:
        with self._cond:
            with_keyboard = [m for m in self.messages[user_id].values() if m.get("reply_markup")]
        if not with_keyboard:
            raise AssertionError(f"no message with buttons in chat {user_id}")
        return max(with_keyboard, key=lambda m: m["message_id"])

    def press(self, user_id: int, label: str | None = None, *, key: str | None = None, index: int = 0,
              message_id: int | None = None) -> int:
        """Press a button of the bot's latest keyboard (by label, key or position); returns the update id."""
        message = self.messages[user_id][message_id] if message_id else self.last_keyboard_message(user_id)
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        if key is not None:
            chosen = [b for b in buttons if b["callback_data"].endswith("|" + key)]
        elif label is not None:
            chosen = [b for b in buttons if b["text"].removeprefix("✓ ").strip() == label]
        else:
            chosen = buttons[index:index + 1]
        if not chosen:
            raise AssertionError(f"no button {label or key or index} in {[b['text'] for b in buttons]}")
        return self.press_data(user_id, chosen[0]["callback_data"], message_id=message["message_id"])

    def press_data(self, user_id: int, data: str, *, message_id: int | None = None) -> int:
        """A callback query with any data (a forged or stale button, too)."""
        user = self._user(user_id)
        message = self.messages[user_id].get(message_id or -1) or self.last_keyboard_message(user_id)
        query_id = str(next(self._query_ids))
        with self._cond:
            self.queries[query_id] = {"user_id": user_id, "answered": None}
        visible = {k: v for k, v in message.items() if k not in ("html", "content")}
        return self._push({"callback_query": {"id": query_id, "from": user, "message": visible,
                                              "chat_instance": str(user_id), "data": data}})

    def inline_query(self, user_id: int, query: str, *, language_code: str = "nb") -> str:
        user = self._user(user_id, language_code)
        query_id = str(next(self._query_ids))
        with self._cond:
            self.queries[query_id] = {"user_id": user_id, "answered": None}
        self._push({"inline_query": {"id": query_id, "from": user, "query": query, "offset": ""}})
        return query_id

    def wait_reply(self, user_id: int, since: int, *, timeout: float = 15.0, settle: float = 0.25) -> list[Event]:
        """Events after ``since`` once the bot showed something and then stayed quiet for ``settle`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                new = self.events[user_id][since:]
                now = time.monotonic()
                if any(e.kind in VISIBLE for e in new) and now - new[-1].t >= settle:
                    return list(new)
                if now >= deadline:
                    raise TimeoutError(f"no reply in chat {user_id} after {timeout} s")
                self._cond.wait(min(settle, deadline - now))

    def wait_answered(self, query_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.queries[query_id]["answered"]:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"query {query_id} not answered")
                self._cond.wait(0.1)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                if time.monotonic() >= deadline:
                    raise TimeoutError("condition not met")
                self._cond.wait(0.1)

    def requests_for(self, method: str, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [r for r in self.requests if r["method"] == method.lower()
                    and (chat_id is None or r["chat_id"] == chat_id)]


class LocalRequest(BaseRequest):
    """python-telegram-bot's HTTP layer replaced by a direct call into a :class:`FakeBotApi`.

    The same answers and checks as over HTTP, without sockets, for tests that hand updates to
    ``Application.process_update``. ``jitter`` delays each answer by up to that many seconds.
    """

    def __init__(self, api: FakeBotApi, jitter: float = 0.0) -> None:
        self.api, self.jitter = api, jitter

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        # What goes over the wire (every value a string), read back as the Bot API reads it.
        params = decode_params(request_data.json_parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, *_) in (request_data.multipart_data or {}).items():
                params[name] = {"filename": filename, "content": content}
        if self.jitter:
            await asyncio.sleep(random.uniform(0, self.jitter))
        status, payload = self.api.call(url.rsplit("/", 1)[-1], params)
        return status, json.dumps(payload).encode()


class BotProcess:
    """``python -m bot telegram`` against ``server``, the token in the environment, output to ``log``.

    ``checkout`` runs the bot of another checkout of the repository (a benchmark's "before").
    """

    def __init__(self, server: FakeBotApi, db: Path, log: Path, checkout: Path = ROOT) -> None:
        self.server, self.log_path = server, log
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": server.token, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": str(checkout)}
        self.polls_before = len(server.requests_for("getUpdates"))
        self.started = time.monotonic()
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "telegram", "--base-url", server.base_url, "--db", str(db)],
                cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Seconds until the bot polls for updates (it has called getMe and set its commands)."""
        try:
            self.server.wait_for(lambda: len(self.server.requests_for("getUpdates")) > self.polls_before
                                 or self.proc.poll() is not None, timeout)
        except TimeoutError:
            raise RuntimeError(f"the bot did not start polling:\n{self.output[-3000:]}") from None
        if self.proc.poll() is not None:
            raise RuntimeError(f"the bot exited with {self.proc.returncode}:\n{self.output[-3000:]}")
        return time.monotonic() - self.started

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code (0 after a clean stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    @property
    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
