"""Replies → what to do in the chat: messages to send, the pressed message to edit, documents.

Pure functions, so the rules Telegram enforces (4096 characters after entity parsing, 1024 for a
caption, 64-byte callback data, non-empty button texts, well-formed HTML) and the order of what a
user sees are tested without a Bot API. :func:`plan` decides the steps of one update:

* urgent (crisis) replies first, in a message of their own, never merged with anything else;
* a pressed question shows the chosen answer under it and loses its buttons, so the chat reads as a
  record and an old button cannot be pressed again. What the press brings (the next question, an
  acknowledgement) goes into that same edit while it fits, so a run of questions answered with
  buttons fills one message like a form: one request per press, as before, and no new message.
  (Closing the question with an edit of its own and sending the next one anew doubled the requests
  per press, and at 16 updates/s that ran into Telegram's 30 messages/s: ``benchmarks/README.md``.)
* consecutive replies are merged while they fit, a keyboard only ever on a message's last part;
* a document carries its reply's short text as its caption.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile

from bot.engine.replies import BUTTON_DATA_BYTES, DONE_KEY, Document, Option, Reply

MAX_TEXT = 4096
"""Telegram's limit, counted in UTF-16 code units of the text after entity parsing."""
MAX_CAPTION = 1024
"""The same for a document's caption."""
SHORT_LABEL = 14
"""Labels up to this length fit two buttons per row on a phone."""
CHECK = "✓ "
EMPTY_TEXT = "…"
"""Telegram rejects an empty message; a keyboard without text gets this placeholder."""
ANSWER_MARK = "→ "
"""Put before the answer shown in a closed question."""
NAVIGATION_PREFIX = "o:"
"""Keys of buttons that open an entry (``bot.engine.lookup``): a menu the user may come back to,
so pressing one does not close its message."""


class Part(NamedTuple):
    """One message: HTML text, and the keyboard when it is the reply's last part."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


class Pressed(NamedTuple):
    """The message whose button was pressed, as the callback query carried it."""

    html: str
    """Its text as HTML (``Message.text_html``)."""
    text: str
    """Its text as the user sees it."""
    keyboard: InlineKeyboardMarkup | None
    data: str
    """The pressed button's callback data."""


class Send(NamedTuple):
    part: Part


class EditPressed(NamedTuple):
    """Replace the pressed message's text and keyboard; send ``fallback`` when it cannot be edited."""

    part: Part
    fallback: tuple[Part, ...] = ()


class SendDocument(NamedTuple):
    document: Document
    caption: str | None = None


Step = Send | EditPressed | SendDocument


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 units: one per character, two for those beyond the BMP (most emoji)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def callback_data(token: str | None, key: str) -> str:
    """``token|key``; the engine keeps both short, and Telegram drops a button over 64 bytes."""
    data = f"{token or ''}|{key}"
    size = len(data.encode("utf-8"))
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


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row, or two when every label is short."""
    if not reply.options:
        return None
    buttons = [InlineKeyboardButton(button_label(o, reply.multi), callback_data=callback_data(reply.token, o.key))
               for o in reply.options]
    per_row = 2 if all(len(b.text) <= SHORT_LABEL for b in buttons) else 1
    return InlineKeyboardMarkup([buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])


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
    head = f"<b>{_escape(title)}</b>" if title else ""
    head_room = utf16_len(title) + 2 if title else 0
    if head_room >= limit // 2:  # an absurdly long title is just text
        head, text, head_room = "", f"{title}\n\n{text}".strip(), 0
    pieces = split_plain(text, limit, limit - head_room) if text else []
    bodies = [_escape(p) for p in pieces]
    if head:
        bodies = [f"{head}\n\n{bodies[0]}" if bodies else head, *bodies[1:]]
    markup = keyboard(reply)
    if not bodies and markup is not None:
        bodies = [EMPTY_TEXT]
    return [Part(body, markup if i == len(bodies) - 1 else None) for i, body in enumerate(bodies)]


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def plain(part_html: str) -> str:
    """The text a user sees: tags and entities parsed (every text the bot sends is escaped)."""
    return html.unescape(re.sub(r"<[^<>]*>", "", part_html))


def plain_len(part_html: str) -> int:
    """The length Telegram counts: UTF-16 units of the text once tags and entities are parsed."""
    return utf16_len(plain(part_html))


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
                plain_len(previous.html) + 2 + plain_len(part.html) <= limit:
            out[-1] = Part(f"{previous.html}\n\n{part.html}", part.keyboard)
        else:
            out.append(part)
    return out


# ------------------------------------------------------------------------ pressed questions


def chosen_answer(pressed: Pressed) -> str | None:
    """What the press chose, as its message showed it: the button's label, or for a multi-select's
    "done" the ticked labels. None when the press is not on a question (an entry to open) or its
    button is not on the message (a forged press)."""
    _, key = parse_callback(pressed.data)
    if key.startswith(NAVIGATION_PREFIX) or pressed.keyboard is None:
        return None
    buttons = [b for row in pressed.keyboard.inline_keyboard for b in row]
    label = next((b.text for b in buttons if b.callback_data == pressed.data), None)
    if label is None:
        return None
    ticked = [b.text.removeprefix(CHECK) for b in buttons if b.text.startswith(CHECK)]
    return ", ".join(ticked) if key == DONE_KEY and ticked else label.removeprefix(CHECK)


def closed(pressed: Pressed) -> Part | None:
    """The pressed question without its keyboard and with the chosen answer under it."""
    answer = chosen_answer(pressed)
    if answer is None:
        return None
    mark = f"{ANSWER_MARK}<b>{_escape(answer)}</b>"
    return _joined(Part(pressed.html), Part(mark), "\n") if pressed.html.strip() else Part(mark)


def _joined(first: Part, second: Part, sep: str = "\n\n") -> Part | None:
    """One message of ``first`` then ``second`` (with its keyboard), when it fits."""
    text = f"{first.html}{sep}{second.html}"
    return Part(text, second.keyboard) if plain_len(text) <= MAX_TEXT else None


def in_place(pressed: Pressed, part: Part) -> Part:
    """An engine edit of the pressed message (ticks toggled) that keeps what the message showed
    above the question: a form's earlier questions and answers."""
    if pressed.text.strip().endswith(plain(part.html).strip()):
        return Part(pressed.html, part.keyboard)
    return part


def caption(reply: Reply) -> str | None:
    """A document reply's own text as the document's caption, when it fits one."""
    parts = render(reply, MAX_CAPTION)
    return parts[0].html if len(parts) == 1 and parts[0].keyboard is None else None


# ---------------------------------------------------------------------------------- the plan


def plan(replies: list[Reply], pressed: Pressed | None = None) -> list[Step]:
    """The steps that show ``replies`` in the chat; ``pressed`` when they answer that button press.

    An engine ``edit`` reply (a multi-select ticking a box) replaces the pressed message's keyboard.
    Otherwise a pressed question is closed (:func:`closed`) and, unless a crisis answer came first,
    the rest goes into the same edit when it is one message that fits.
    """
    steps: list[Step] = [Send(p) for p in merged([p for r in replies if r.urgent for p in render(r)])]
    rest = [r for r in replies if not r.urgent]
    toggled = pressed is not None and any(r.edit for r in rest)
    body = _body_steps(rest, pressed)
    closing = closed(pressed) if pressed is not None and not toggled else None
    if closing is None:
        return steps + body
    sends = [s.part for s in body if isinstance(s, Send)]
    if not steps and len(sends) == len(body) <= 1:
        form = _joined(closing, sends[0]) if sends else closing
        if form is not None:
            return [EditPressed(form, tuple(sends))]
    return [*steps, EditPressed(closing), *body]


def _body_steps(replies: list[Reply], pressed: Pressed | None) -> list[Step]:
    steps: list[Step] = []
    pending: list[Part] = []

    def flush() -> None:
        steps.extend(Send(p) for p in merged(pending))
        pending.clear()

    for reply in replies:
        parts = render(reply)
        if reply.edit and pressed is not None and len(parts) == 1:
            flush()
            steps.append(EditPressed(in_place(pressed, parts[0]), (parts[0],)))
            pressed = None  # one edit per press; later replies are new messages
        elif reply.document is not None:
            text = caption(reply)
            if text is None:
                pending.extend(parts)
            flush()
            steps.append(SendDocument(reply.document, text))
        else:
            pending.extend(parts)
    flush()
    return steps
