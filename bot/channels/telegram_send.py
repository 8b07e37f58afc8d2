"""The bot's own messages go to the Bot API as JSON, through PTB's public ``Bot.do_api_request``.

Why not ``bot.send_message(…, reply_markup=InlineKeyboardMarkup(…))``: python-telegram-bot then
builds a frozen object for every keyboard button, serialises them back to JSON, and decodes every
answer — which from Telegram repeats the whole keyboard — into a ``Message`` the bot never reads.
Profiling the benchmark (``benchmarks/README.md``) put those steps at about a third of an update's
time. Here the keyboard is the Bot API's JSON from the start (``telegram_render.keyboard``) and the
answer stays a dict. PTB still does everything that matters: HTTP, the rate limiter, and turning
Telegram's errors into ``RetryAfter``, ``Forbidden``, ``BadRequest`` and ``TimedOut``, which
``TelegramFrontEnd.call`` retries or handles.
"""

from __future__ import annotations

import json
from typing import Any

from telegram import InputFile

from bot.channels.telegram_render import Part

# The Bot API's method names are case-insensitive ("All methods in the Bot API are case-insensitive",
# core.telegram.org/bots/api#making-requests). ``do_api_request`` warns when the name it is given is
# also the name of one of PTB's typed methods ("sendMessage"), and raising and filtering that warning
# on every message cost more than the rest of the call; the lower-case spelling is the same method.
SEND_MESSAGE = "sendmessage"
EDIT_MESSAGE_TEXT = "editmessagetext"
ANSWER_CALLBACK_QUERY = "answercallbackquery"
SEND_DOCUMENT = "senddocument"
TEXT_OPTIONS: dict[str, Any] = {"parse_mode": "HTML", "link_preview_options": '{"is_disabled":true}'}
"""What the application's ``Defaults`` give PTB's own methods; ``do_api_request`` does not apply them.

Every value is given as the string that goes over the wire (Telegram reads form values as text):
PTB leaves strings as they are but JSON-encodes anything else twice per call, and the keyboard is
the largest part of a message."""


_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _text_fields(part: Part) -> dict[str, Any]:
    fields = {"text": part.html, **TEXT_OPTIONS}
    if part.keyboard is not None:
        fields["reply_markup"] = _to_json(part.keyboard)
    return fields


async def send_text(bot: Any, chat_id: int, part: Part) -> None:
    """Send one message."""
    await bot.do_api_request(SEND_MESSAGE, api_kwargs={"chat_id": str(chat_id), **_text_fields(part)})


async def answer_callback(bot: Any, query_id: str) -> None:
    """Stop the button's loading indicator (every press must be answered, even when nothing is shown)."""
    await bot.do_api_request(ANSWER_CALLBACK_QUERY, api_kwargs={"callback_query_id": query_id})


async def edit_text(bot: Any, chat_id: int, message_id: int, part: Part) -> None:
    """Replace a message's text and keyboard (a multi-select ticking its boxes)."""
    await bot.do_api_request(EDIT_MESSAGE_TEXT,
                             api_kwargs={"chat_id": str(chat_id), "message_id": str(message_id),
                                         **_text_fields(part)})


async def send_document(bot: Any, chat_id: int, document: InputFile) -> None:
    """Send a file (the summary as a document); PTB uploads the ``InputFile`` as multipart form data."""
    await bot.do_api_request(SEND_DOCUMENT, api_kwargs={"chat_id": str(chat_id), "document": document})
