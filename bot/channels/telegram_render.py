"""Reply → what Telegram accepts: escaped HTML parts under the length limit, keyboards, documents.

Pure functions, so the rules Telegram enforces (4096 characters after entity parsing, 64-byte
callback data, non-empty button texts, well-formed HTML) are tested without a Bot API.
"""

from __future__ import annotations

import html
import re
from typing import Any, NamedTuple

from telegram import InputFile

from bot.engine.replies import BUTTON_DATA_BYTES, Document, Option, Reply

MAX_TEXT = 4096
"""Telegram's limit, counted in UTF-16 code units of the text after entity parsing."""
SHORT_LABEL = 14
"""Labels up to this length fit two buttons per row on a phone."""
CHECK = "✓ "
EMPTY_TEXT = "…"
"""Telegram rejects an empty message; a keyboard without text gets this placeholder."""


Keyboard = dict[str, Any]
"""An ``InlineKeyboardMarkup`` as the Bot API's JSON: ``{"inline_keyboard": [[{"text", "callback_data"}]]}``."""


class Part(NamedTuple):
    """One message to send: HTML text, and the keyboard when it is the reply's last part."""

    html: str
    keyboard: Keyboard | None = None


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 units: one per character, two for those beyond the BMP (most emoji)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def callback_data(token: str | None, key: str) -> str:
    """``token|key``; the engine keeps both short, and Telegram drops a button over 64 bytes."""
    data = f"{token or ''}|{key}"
    size = len(data) if data.isascii() else len(data.encode("utf-8"))
    if size >= BUTTON_DATA_BYTES:
        raise ValueError(f"callback data of {size} bytes for option {key[:24]!r}")
    return data


def parse_callback(data: str | None) -> tuple[str, str]:
    """(token, key); data without '|' is all key, so the engine can reject it as stale."""
    token, sep, key = (data or "").partition("|")
    return (token, key) if sep else ("", token)


def button_label(option: Option, multi: bool) -> str:
    label = option.label.strip() or option.key
    return f"{CHECK}{label}" if multi and option.selected else label


def keyboard(reply: Reply) -> Keyboard | None:
    """One button per row, or two when every label is short; JSON, sent as is (see ``telegram_send``)."""
    if not reply.options:
        return None
    buttons = [{"text": button_label(o, reply.multi), "callback_data": callback_data(reply.token, o.key)}
               for o in reply.options]
    per_row = 2 if all(len(b["text"]) <= SHORT_LABEL for b in buttons) else 1
    return {"inline_keyboard": [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]}


def split_plain(text: str, limit: int, first_limit: int | None = None) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-16 units: at paragraphs, then lines, then words."""
    pieces: list[str] = []
    rest = text.strip()
    budget = limit if first_limit is None else max(1, first_limit)
    while rest:
        if utf16_len(rest) <= budget:
            pieces.append(rest)
            break
        cut = _cut_point(rest, budget)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            pieces.append(head)
        budget = limit
    return pieces


def _cut_point(text: str, budget: int) -> int:
    window = _prefix_within(text, budget)
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at > 0:
            return at
    return max(1, len(window))


def _prefix_within(text: str, budget: int) -> str:
    """The longest prefix of at most ``budget`` UTF-16 units, never splitting a surrogate pair."""
    prefix = text[:budget]
    while utf16_len(prefix) > budget:
        prefix = prefix[:-1]
    return prefix


def render(reply: Reply, limit: int = MAX_TEXT) -> list[Part]:
    """The reply as messages: escaped text, the title in bold on the first, the keyboard on the last."""
    title = (reply.title or "").strip()
    text = (reply.text or "").strip()
    head = f"<b>{html.escape(title, quote=False)}</b>" if title else ""
    head_room = utf16_len(title) + 2 if title else 0
    if head_room >= limit // 2:  # an absurdly long title is just text
        head, text, head_room = "", f"{title}\n\n{text}".strip(), 0
    pieces = split_plain(text, limit, limit - head_room) if text else []
    bodies = [html.escape(p, quote=False) for p in pieces]
    if head:
        bodies = [f"{head}\n\n{bodies[0]}" if bodies else head, *bodies[1:]]
    markup = keyboard(reply)
    if not bodies and markup is not None:
        bodies = [EMPTY_TEXT]
    return [Part(body, markup if i == len(bodies) - 1 else None) for i, body in enumerate(bodies)]


def document_file(document: Document) -> InputFile:
    """A UTF-8 text file a user can paste into a journal; Telegram shows .md/.txt as text."""
    name = re.sub(r"[^\w.\-]+", "_", document.filename.strip()) or "summary.md"
    if not name.lower().endswith((".md", ".txt")):
        name += ".txt"
    return InputFile(document.content.encode("utf-8"), filename=name)


def merged(parts: list[Part], limit: int = MAX_TEXT) -> list[Part]:
    """Join consecutive messages while they fit: a part without buttons flows into the next one.

    Fewer messages read better on a phone and keep the bot well inside Telegram's rate limits.
    """
    out: list[Part] = []
    for part in parts:
        previous = out[-1] if out else None
        if previous is not None and previous.keyboard is None and \
                utf16_len(previous.html) + 2 + utf16_len(part.html) <= limit:
            out[-1] = Part(f"{previous.html}\n\n{part.html}", part.keyboard)
        else:
            out.append(part)
    return out


def ordered(replies: list[Reply]) -> list[Reply]:
    """Urgent (crisis) replies first, the rest in the engine's order."""
    return sorted(replies, key=lambda r: not r.urgent)
