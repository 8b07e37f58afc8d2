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

import warnings
from typing import Any

from telegram.warnings import PTBUserWarning

from bot.channels.telegram_render import Part

SEND_MESSAGE = "sendMessage"
EDIT_MESSAGE_TEXT = "editMessageText"
TEXT_OPTIONS: dict[str, Any] = {"parse_mode": "HTML", "link_preview_options": '{"is_disabled":true}'}
"""What the application's ``Defaults`` give PTB's own methods; ``do_api_request`` does not apply them.

The link-preview setting is given as the JSON string PTB would otherwise encode on every call."""

# PTB suggests its typed method for an endpoint it knows; for these two we want the JSON on purpose.
warnings.filterwarnings("ignore", message=rf"Please use 'Bot\.({SEND_MESSAGE}|{EDIT_MESSAGE_TEXT})'",
                        category=PTBUserWarning)


def _text_fields(part: Part) -> dict[str, Any]:
    fields = {"text": part.html, **TEXT_OPTIONS}
    if part.keyboard is not None:
        fields["reply_markup"] = part.keyboard
    return fields


async def send_text(bot: Any, chat_id: int, part: Part) -> int | None:
    """Send one message; returns its id (what an edit needs later), or None if Telegram gave none."""
    result = await bot.do_api_request(SEND_MESSAGE, api_kwargs={"chat_id": chat_id, **_text_fields(part)})
    return result.get("message_id") if isinstance(result, dict) else None


async def edit_text(bot: Any, chat_id: int, message_id: int, part: Part) -> None:
    """Replace a message's text and keyboard (a multi-select ticking its boxes)."""
    await bot.do_api_request(EDIT_MESSAGE_TEXT,
                             api_kwargs={"chat_id": chat_id, "message_id": message_id, **_text_fields(part)})
