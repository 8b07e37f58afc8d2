"""A local fake of the Telegram Bot API, strict where the real one is strict, with scripted faults.

It serves the methods the bot uses over plain HTTP on 127.0.0.1 (stdlib ``http.server`` in a
thread), rejects what Telegram rejects (bad HTML, over-long texts, bad buttons, unknown messages,
a wrong token), can be told to fail (429 with retry_after, 5xx, slow replies, going down), records
every request, and plays simulated users who type, press buttons and wait for the bot's answer.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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

    kind: str  # "429", "500", "502", "slow", "down"
    seconds: float = 1.0
    methods: set[str] | None = None

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
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        offset = len(text[:i].encode("utf-8"))
        if char == "<":
            m = TAG.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: Unclosed start tag at byte offset {offset}")
            closing, name = m.group(1), m.group(2).lower()
            if name not in TAGS:
                raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" '
                                    f"at byte offset {offset}")
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(400, f"Bad Request: can't parse entities: Unmatched end tag at byte offset "
                                        f'{offset}, expected "</{stack[-1] if stack else ""}>", found "</{name}>"')
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
        elif char == "&":
            m = ENTITY.match(text, i)
            if not m:
                raise ApiError(400, "Bad Request: can't parse entities: Character '&' is reserved and must be "
                                    f"escaped at byte offset {offset}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif char == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: Character '>' is reserved at byte offset {offset}")
        else:
            out.append(char)
            i += 1
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                            f'"{stack[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_text(text: Any, parse_mode: Any) -> str:
    """The text as the user sees it, checked as Telegram checks it."""
    text = "" if text is None else str(text)
    plain = parse_html(text) if str(parse_mode or "").lower() == "html" else text
    plain = plain.strip()
    if not plain:
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return plain


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
    api: FakeBotApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections cut by a client or by ``go_down`` are expected; stay quiet."""


class FakeBotApi:
    """The fake Bot API. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
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
        method = m.group(2).lower()
        params = _params(content_type, body)
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
            return self.updates[:limit]

    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.users:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        user = self.users[chat_id]
        return {"message_id": next(self._message_ids[chat_id]), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": user["first_name"]},
                "from": BOT_USER, **content}

    def _event(self, chat_id: int, kind: str, message: dict[str, Any] | None, params: dict[str, Any]) -> None:
        with self._cond:
            self.events[chat_id].append(Event(kind, time.monotonic(), message, params))
            self._cond.notify_all()

    def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text = message_text(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        message = self._bot_message(chat_id, text=text)
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
        text = message_text(params.get("text"), params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        if params.get("text") == message.get("html") and markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        return self._replace(chat_id, message, text=text, html=params.get("text"), reply_markup=markup,
                             params=params)

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
        query = self.queries.get(str(params.get("callback_query_id")))
        if query is None or query["answered"]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        query["answered"] = time.monotonic()
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
        if query_id not in self.queries or self.queries[query_id]["answered"]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
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
        self.queries[query_id]["answered"] = time.monotonic()
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
