"""The steps of :func:`telegram_render.plan` carried out with python-telegram-bot's typed API.

Messages go out with ``Bot.send_message``, the pressed message is changed with
``CallbackQuery.edit_message_text``, documents with ``Bot.send_document``; parse mode and link
previews come from the application's ``Defaults``. PTB does the HTTP and turns Telegram's errors into
exceptions; :class:`OrderedRateLimiter` (a PTB ``BaseRateLimiter``) keeps to Telegram's flood limits
in the order requests come. :meth:`Sender.call` adds what a chat needs on top: a reply is not dropped
because Telegram hiccupped — ``RetryAfter``, ``TimedOut`` and other network errors are retried with
backoff. ``BadRequest`` and ``Forbidden`` are not: retrying cannot fix them.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, CallbackQuery
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.channels.telegram_render import EditPressed, Part, Send, SendDocument, Step, document_file

log = logging.getLogger("bot.telegram")

SEND_ATTEMPTS = 5
MAX_BACKOFF = 8.0
T = TypeVar("T")


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds to wait; PTB 22 warns that ``retry_after`` becomes a ``timedelta``, which is handled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pace:
    """At most ``rate`` requests per ``period`` on average and ``burst`` at once, in arrival order.

    The generic cell rate algorithm: ``due`` is when the next request would be on time; one may go
    early by up to ``burst - 1`` intervals. Waiters queue on an ``asyncio.Lock``, which wakes them in
    the order they came, so a request that arrives later never goes first.
    """

    def __init__(self, rate: float, period: float, burst: int) -> None:
        self.interval = period / rate
        self.tolerance = (burst - 1) * self.interval
        self.due = 0.0
        self._turn = asyncio.Lock()

    async def wait(self) -> None:
        async with self._turn:
            now = asyncio.get_running_loop().time()
            due = max(self.due, now)
            if due - now > self.tolerance:
                await asyncio.sleep(due - now - self.tolerance)
            self.due = due + self.interval

    def hold(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` (Telegram said so with a 429)."""
        self.due = max(self.due, asyncio.get_running_loop().time() + seconds + self.tolerance)


class OrderedRateLimiter(BaseRateLimiter[None]):
    """Telegram's flood limits, first come first served.

    About 30 messages per second overall and 20 per minute in a group (the limits PTB's
    ``AIORateLimiter`` uses). That limiter (aiolimiter underneath) admits a request that arrives just as
    room frees up ahead of those already waiting, and a waiter that loses that race queues again at
    the back: in a burst of 200 ``/start`` one of the first users was answered last, 5.5 s late
    (``benchmarks/README.md``, "End to end"). Requests without a chat (answering a button press, an
    inline query) are not limited, as there. A 429 holds every request back for its ``retry_after``
    and is raised; :meth:`Sender.call` retries it.
    """

    def __init__(self, overall_rate: float = 30.0, group_rate: float = 20.0, group_period: float = 60.0) -> None:
        self.overall = Pace(overall_rate, 1.0, int(overall_rate))
        self.groups: defaultdict[int | str, Pace] = defaultdict(
            lambda: Pace(group_rate, group_period, int(group_rate)))

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: None) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is not None:
            if isinstance(chat_id, str) or chat_id < 0:  # a group or channel
                await self.groups[chat_id].wait()
            await self.overall.wait()
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self.overall.hold(retry_after_seconds(exc))
            raise


class Sender:
    """Bot API calls with retries, and the steps of one update in order."""

    def __init__(self, backoff: float = 0.5) -> None:
        self.backoff = backoff

    async def call(self, fn: Callable[..., Awaitable[T]], /, *args: object, **kwargs: object) -> T:
        """``await fn(*args, **kwargs)``, retried up to ``SEND_ATTEMPTS`` times on 429, timeouts and 5xx."""
        delay = self.backoff
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await fn(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                log.warning("bot api 429 attempt=%d retry_after=%.1f", attempt, retry_after_seconds(exc))
                await asyncio.sleep(retry_after_seconds(exc) + 0.1)
            except BadRequest:  # a NetworkError subclass, but retrying cannot fix it
                raise
            except (TimedOut, NetworkError) as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                log.warning("bot api error=%s attempt=%d retry_in=%.1f", type(exc).__name__, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        raise AssertionError("unreachable")

    async def answer(self, query: CallbackQuery) -> None:
        """Stop the button's loading indicator; every press is answered, even when nothing else works."""
        try:
            await self.call(query.answer)
        except TelegramError as exc:  # e.g. "query is too old": the reply still goes out
            log.warning("answerCallbackQuery failed error=%s", type(exc).__name__)

    async def send(self, bot: Bot, chat_id: int, part: Part) -> None:
        await self.call(bot.send_message, chat_id, part.html, reply_markup=part.keyboard)

    async def run(self, bot: Bot, chat_id: int, steps: list[Step], query: CallbackQuery | None = None) -> None:
        """Carry out the steps in order; an edit needs ``query``, the press whose message it changes."""
        for step in steps:
            if isinstance(step, Send):
                await self.send(bot, chat_id, step.part)
            elif isinstance(step, EditPressed):
                if query is None or not await self._edit(query, step.part):
                    for part in step.fallback:
                        await self.send(bot, chat_id, part)
            elif isinstance(step, SendDocument):
                await self.call(bot.send_document, chat_id, document_file(step.document), caption=step.caption)

    async def _edit(self, query: CallbackQuery, part: Part) -> bool:
        """Edit the pressed message; False when it cannot be edited and the fallback should be sent."""
        try:
            await self.call(query.edit_message_text, part.html, reply_markup=part.keyboard)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("edit failed error=%s; sending instead", type(exc).__name__)
            return False
        except TypeError:  # PTB: the message is inaccessible (too old), so it cannot be edited
            return False
        return True
