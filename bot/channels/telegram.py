"""Telegram front end: Updates → ``Incoming`` → ``BotService.handle`` → messages, nothing more.

Why it looks like this:

* Handlers are thin; the service owns every text and all flow logic, so the console and Telegram
  behave the same. The only texts here are the last-resort error line and the placeholder for an
  empty message.
* One user's updates are processed strictly in order (a per-user lock in the update processor),
  different users concurrently.
* Replies go out through PTB's typed API (``telegram_send``), in the order ``telegram_render.plan``
  decides: a crisis answer first and alone; a pressed question shows the chosen answer, and the next
  question comes in the same message.
  Requests keep to Telegram's flood limits in the order they come (``OrderedRateLimiter``); every
  call is retried on 429, timeouts, network errors and 5xx, so a reply is not dropped because
  Telegram hiccupped.
* Logs never contain message text or the token (see :class:`RedactTokens`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import signal
import sys
import time
import traceback
from collections.abc import Awaitable
from typing import Any, Protocol, TextIO

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.telegram_render import Pressed, parse_callback, plan, render
from bot.channels.telegram_send import OrderedRateLimiter, Sender
from bot.engine.replies import Incoming, Reply
from bot.locale import lang_of
from bot.serving import settle_for_serving

log = logging.getLogger("bot.telegram")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query"]
"""What the bot asks Telegram for (polling and webhook alike)."""
FALLBACK_ERROR = "Noe gikk galt. Prøv igjen. / Something went wrong. Please try again."
"""Only when even the service cannot answer."""

TOKEN_SHAPE = re.compile(r"^\d{3,15}:[A-Za-z0-9_-]{10,}$")
STARTUP_WAIT = 30.0
"""Seconds to keep retrying an unreachable Bot API at start-up before giving up."""
INLINE_RESULTS = 10
INLINE_CACHE_SECONDS = 10
MENU_LANGUAGES = ((None, "nb"), ("nb", "nb"), ("no", "nb"), ("en", "en"))
"""(Telegram language_code of the menu, the service language that fills it)."""
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class Service(Protocol):
    """What the front end needs from ``bot.service.BotService``."""

    def handle(self, user_id: int, incoming: Incoming, *, chat_id: int | None = None,
               language_code: str | None = None) -> list[Reply]: ...
    def command_menu(self, lang: str) -> list[tuple[str, str]]: ...
    def search(self, query: str, lang: str, top: int = 5) -> list[Any]: ...
    def reload(self) -> tuple[bool, str]: ...
    def is_admin(self, user_id: int) -> bool: ...
    def mark_inactive(self, user_id: int) -> None: ...
    def may_use(self, user_id: int) -> bool: ...
    def restricted(self) -> bool: ...
    def purge_expired(self) -> dict[str, int]: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------- logging


class RedactTokens(logging.Filter):
    """Replaces the bot token (and anything shaped like one) in every record, tracebacks included."""

    SHAPES = re.compile(r"bot\d+:[A-Za-z0-9_-]+|\b\d{5,}:[A-Za-z0-9_-]{30,}")

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token or None

    def redact(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "[token]")
        return self.SHAPES.sub("[token]", text) if ":" in text else text  # every shape has a colon

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(token: str | None, stream: TextIO | None = None) -> None:
    """Log to ``stream`` (stderr) if nothing is configured, quiet httpx's URL lines, redact the token everywhere."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings go through the handlers (and the redaction) too
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactTokens)]:
            handler.removeFilter(old)
        handler.addFilter(RedactTokens(token))


def _where(error: BaseException) -> str:
    """file:line of the innermost frame: enough to find a bug, without the exception's message."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "-"


def _update_kind(update: object) -> str:
    if not isinstance(update, Update):
        return "other"
    if update.callback_query:
        return "callback"
    if update.inline_query:
        return "inline"
    if update.edited_message:
        return "edited"
    return "message" if update.message else "other"


# -------------------------------------------------------------------- ordering


class PerUserOrder(BaseUpdateProcessor):
    """Different users' updates run concurrently; one user's run one at a time, in arrival order.

    PTB starts one task per update in arrival order and each reaches the lock without suspending,
    so the FIFO ``asyncio.Lock`` keeps a user's updates in order.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
            return
        lock, users = self._locks.setdefault(user.id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                await coroutine
        finally:
            users[0] -= 1
            if not users[0]:
                self._locks.pop(user.id, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


# ------------------------------------------------------------------- front end


class TelegramFrontEnd:
    """The handlers, bound to one service."""

    def __init__(self, service: Service, *, backoff: float = 0.5) -> None:
        self.service = service
        self.sender = Sender(backoff)

    def attach(self, app: Application) -> None:
        private_media = filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
        app.add_handler(CallbackQueryHandler(self.on_callback))  # first: most updates are button presses
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & private_media, self.on_non_text))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        app.add_handler(InlineQueryHandler(self.on_inline))
        app.add_error_handler(self.on_error)

    # -------------------------------------------------------------- handlers
    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.message.text if update.message else None
        if text is None:
            return
        user = update.effective_user
        if user and self._is_admin_reload(text, user.id):
            started = time.perf_counter()
            ok, message = await asyncio.to_thread(self.service.reload)
            log.info("reload ok=%s", ok)
            await self.deliver(update, context, [Reply(text=message)])
            _log_update("message", "reload", started)
            return
        await self.process(update, context, Incoming.typed(text))

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message: screened like any text (a crisis is still answered first), never re-answered."""
        message = update.edited_message
        if message is None or (not message.text and message.chat.type != ChatType.PRIVATE):
            return  # like new media, an edited caption in a group is none of the bot's business
        await self.process(update, context, Incoming.edit(message.text or ""))

    async def on_non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.process(update, context, Incoming.media())

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        token, key = parse_callback(query.data)
        await self.process(update, context, Incoming.pressed(key, token))

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        started = time.perf_counter()
        query = update.inline_query
        assert query is not None
        text = query.query.strip()
        allowed = self.service.may_use(query.from_user.id)
        hits = self.service.search(text, lang_of(query.from_user.language_code), top=INLINE_RESULTS) if text and allowed else []
        results = [_article(i, hit) for i, hit in enumerate(hits[:INLINE_RESULTS])]
        try:
            # With access control on, Telegram must not share cached answers between users.
            await self.sender.call(query.answer, results, cache_time=INLINE_CACHE_SECONDS, is_personal=self.service.restricted())
        finally:
            _log_update("inline", "-", started)

    def _is_admin_reload(self, text: str, user_id: int) -> bool:
        head = text.strip().split(maxsplit=1)[0].split("@", 1)[0].lower() if text.strip() else ""
        return head == "/reload" and self.service.is_admin(user_id)

    # ------------------------------------------------------------ processing
    async def process(self, update: Update, context: ContextTypes.DEFAULT_TYPE, incoming: Incoming) -> None:
        """Ask the service, answer the button press (always, even when the service fails), then reply."""
        started = time.perf_counter()
        user, chat, query = update.effective_user, update.effective_chat, update.callback_query
        if user is None:
            return
        try:
            try:
                replies = self.service.handle(
                    user.id, incoming, chat_id=chat.id if chat else user.id,
                    language_code=user.language_code,
                )
            finally:
                if query is not None:
                    await self.sender.answer(query)
            await self.deliver(update, context, replies, pressed=_pressed(query))
        except Forbidden:
            log.info("user blocked the bot; marked inactive")
            self.service.mark_inactive(user.id)
        finally:
            _log_update(_update_kind(update), self._step(user.id), started)

    def _step(self, user_id: int) -> str:
        last_step = getattr(self.service, "last_step", None)
        if last_step is None:
            return "-"
        try:
            return str(last_step(user_id) or "-")
        except Exception:
            return "-"

    async def deliver(self, update: Update, context: ContextTypes.DEFAULT_TYPE, replies: list[Reply], *,
                      pressed: Pressed | None = None) -> None:
        """Show the replies in the chat; ``pressed`` when they answer that button press (see ``plan``)."""
        chat = update.effective_chat
        chat_id = chat.id if chat else update.effective_user.id  # type: ignore[union-attr]
        query = update.callback_query if pressed is not None else None
        await self.sender.run(context.bot, chat_id, plan(replies, pressed), query)

    # ---------------------------------------------------------------- errors
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error's type and place (never its text), then tell the user, if there is one."""
        error = context.error
        if error is None:
            return
        log.error("handler error type=%s at=%s update=%s", type(error).__name__, _where(error),
                  _update_kind(update))
        if not isinstance(update, Update) or update.effective_user is None:
            return
        user = update.effective_user
        if isinstance(error, Forbidden):
            self.service.mark_inactive(user.id)
            return
        if update.effective_chat is None:
            return
        try:
            replies = self.service.handle(user.id, Incoming.failure(), chat_id=update.effective_chat.id,
                                          language_code=user.language_code)
        except Exception as exc:
            log.error("service failed on the error notice type=%s", type(exc).__name__)
            replies = [Reply(text=FALLBACK_ERROR)]
        try:
            await self.deliver(update, context, replies)
        except Exception as exc:
            log.error("could not tell the user about the error type=%s", type(exc).__name__)

    async def notify(self, bot: Any, chat_id: int, text: str) -> None:
        """A message the service did not ask for (e.g. to admins after a ``--watch`` reload); best effort."""
        try:
            for part in render(Reply(text=text)):
                await self.sender.send(bot, chat_id, part)
        except TelegramError as exc:
            log.warning("notify failed error=%s", type(exc).__name__)

    # -------------------------------------------------------------- commands
    async def set_commands(self, bot: Any) -> None:
        """The command menu per language: nb (also for 'no' and the default) and en."""
        for language_code, lang in MENU_LANGUAGES:
            commands = []
            for name, description in self.service.command_menu(lang):
                name = name.lstrip("/")
                if COMMAND_NAME.match(name) and description.strip():
                    commands.append(BotCommand(name, description.strip()[:256]))
                else:
                    log.warning("command menu entry rejected by Telegram's rules: %r", name[:40])
            await self.sender.call(bot.set_my_commands, commands[:100], language_code=language_code)


def _pressed(query: CallbackQuery | None) -> Pressed | None:
    """The pressed message as the plan reads it; None when there is none to change (too old, inline)."""
    if query is None or not isinstance(query.message, Message):
        return None
    message = query.message
    text = message.text or ""
    return Pressed(message.text_html if text else "", text, message.reply_markup, query.data or "")


def _article(index: int, hit: Any) -> InlineQueryResultArticle:
    title = str(getattr(hit, "title", "") or getattr(hit, "id", "") or "…")[:200]
    snippet = str(getattr(hit, "snippet", "") or "")
    result_id = f"{index}-{getattr(hit, 'kind', '')}-{getattr(hit, 'id', '')}".encode()[:64].decode("utf-8", "ignore")
    body = f"<b>{html.escape(title, quote=False)}</b>"
    if snippet:
        body += "\n" + html.escape(snippet[:3000], quote=False)
    return InlineQueryResultArticle(
        id=result_id, title=title, description=snippet[:200] or None,
        input_message_content=InputTextMessageContent(body, parse_mode=ParseMode.HTML),
    )


def _log_update(kind: str, step: str, started: float) -> None:
    log.info("update type=%s step=%s ms=%.1f", kind, step, (time.perf_counter() - started) * 1000)


# ----------------------------------------------------------------- application


PURGE_INTERVAL = 24 * 3600.0


def build_application(
    service: Service,
    token: str,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limiter: bool = True,
    backoff: float = 0.5,
) -> Application:
    """The PTB Application with the handlers; ``request`` lets tests record calls instead of sending."""
    builder = (
        Application.builder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(PerUserOrder())
    )
    if base_url:
        builder = builder.base_url(base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    if rate_limiter:
        builder = builder.rate_limiter(OrderedRateLimiter())
    app = builder.build()
    front = TelegramFrontEnd(service, backoff=backoff)
    front.attach(app)
    app.bot_data["front"] = front
    return app


async def initialize_with_retry(app: Application, budget: float = STARTUP_WAIT) -> None:
    """``app.initialize()`` (which calls getMe), retrying while the Bot API is briefly unreachable."""
    delay, waited = 0.5, 0.0
    while True:
        try:
            await app.initialize()
            return
        except (InvalidToken, BadRequest):
            raise
        except (TimedOut, NetworkError, RetryAfter) as exc:
            if waited >= budget:
                raise
            log.warning("bot api unreachable error=%s; retrying in %.1f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 8.0)


async def serve(app: Application, config: Any, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``): polling by default, a webhook when configured."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    front: TelegramFrontEnd = app.bot_data["front"]
    try:
        await initialize_with_retry(app)
    except InvalidToken:
        log.error("the Bot API rejected the token (401); check TELEGRAM_BOT_TOKEN")
        return 2
    except TelegramError as exc:
        log.error("cannot reach the Bot API error=%s; giving up", type(exc).__name__)
        return 1
    try:
        try:
            await front.set_commands(app.bot)
        except TelegramError as exc:  # the menu is a convenience; serve without it
            log.warning("set_my_commands failed error=%s", type(exc).__name__)
        updater = app.updater
        assert updater is not None
        webhook_url = getattr(config, "webhook_url", None)
        if webhook_url:
            await updater.start_webhook(
                listen=getattr(config, "listen", None) or "127.0.0.1",
                port=int(getattr(config, "port", None) or 8443),
                url_path=_url_path(webhook_url),
                webhook_url=webhook_url,
                secret_token=getattr(config, "webhook_secret", None) or None,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=5,
            )
        else:
            await updater.start_polling(
                drop_pending_updates=False,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=5,
                error_callback=lambda exc: log.warning("polling error=%s", type(exc).__name__),
            )
        await app.start()
        log.info("telegram bot running mode=%s", "webhook" if webhook_url else "polling")
        background = [asyncio.create_task(purge_daily(front.service, stop))]
        if getattr(config, "watch", False):
            background.append(asyncio.create_task(watch_knowledge(app, config, stop)))
        await stop.wait()
        log.info("stopping")
        await asyncio.gather(*background)
        await updater.stop()
        await app.stop()
    finally:
        await app.shutdown()
    return 0


async def watch_knowledge(app: Application, config: Any, stop: asyncio.Event, interval: float = 2.0) -> None:
    """``--watch``: reload when the YAML settles after a change, and tell the admins how it went.

    ``bot.watch`` does the polling and the reload; its check runs in a thread so loading the
    knowledge never stalls the chats.
    """
    from bot.watch import KnowledgeWatcher, reload_notifier

    front: TelegramFrontEnd = app.bot_data["front"]
    loop = asyncio.get_running_loop()

    def notify(text: str) -> None:  # called in the watcher's thread
        for admin in getattr(config, "admin_ids", ()) or ():
            asyncio.run_coroutine_threadsafe(front.notify(app.bot, admin, text), loop)

    folders = [f for f in (getattr(config, "knowledge_dir", None), getattr(config, "conversations_dir", None)) if f]
    watcher = KnowledgeWatcher(folders, reload_notifier(front.service, notify), interval)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if not stop.is_set():
            await asyncio.to_thread(watcher.check)


async def purge_daily(service: Service, stop: asyncio.Event, interval: float = PURGE_INTERVAL) -> None:
    """The retention job: delete what is older than ``IDDT_RETENTION_DAYS`` at start and then daily."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(service.purge_expired)
        except Exception as exc:  # noqa: BLE001 - a failed purge is retried the next day
            log.error("retention purge failed error=%s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def _url_path(webhook_url: str) -> str:
    path = webhook_url.split("://", 1)[-1].partition("/")[2]
    return path.split("?", 1)[0]


def run_telegram(config: Any, service: Service | None = None) -> int:
    """Entry point of ``iddt-bot telegram``: 0 after a clean stop, 2 for a bad token or setup, 1 on failure."""
    token = (getattr(config, "token", None) or "").strip()
    setup_logging(token)
    if not token:
        print("iddt-bot telegram: no bot token; set TELEGRAM_BOT_TOKEN (from @BotFather)", file=sys.stderr)
        return 2
    if not TOKEN_SHAPE.match(token):
        print("iddt-bot telegram: the bot token is malformed; it looks like 123456:ABC-DEF…", file=sys.stderr)
        return 2
    if getattr(config, "webhook_url", None):
        try:
            import tornado  # noqa: F401  (PTB's webhook server)
        except ImportError:
            print("iddt-bot telegram: webhooks need: pip install 'python-telegram-bot[webhooks]'",
                  file=sys.stderr)
            return 2
    own_service = service is None
    if service is None:
        from bot.knowledge import KnowledgeError
        from bot.service import BotService

        try:
            service = BotService.from_config(config)
        except KnowledgeError as exc:
            print(f"iddt-bot telegram: the knowledge does not load:\n{exc}", file=sys.stderr)
            return 1
    try:
        app = build_application(service, token, base_url=getattr(config, "base_url", None) or None)
        settle_for_serving()
        return asyncio.run(serve(app, config))
    except KeyboardInterrupt:
        return 0
    finally:
        if own_service:
            service.close()
