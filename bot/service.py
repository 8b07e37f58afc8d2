"""The one entry point both front ends call: safety screen, stored state, engine, persistence.

Front ends (console, Telegram) translate their input to :class:`Incoming` and render the returned
:class:`Reply` list; they never touch the engine, the storage or the knowledge directly.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from bot import serving
from bot.config import Config
from bot.engine.content import crisis_text
from bot.engine.flows import Flows, load_flows
from bot.engine.replies import Incoming, Option, Reply
from bot.engine.runner import SENTINEL_ERROR, Engine, Outcome
from bot.engine.state import Conversation, Profile
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.knowledge.loader import LEXICON_FOLDER
from bot.knowledge.search import SearchHit
from bot.safety import Screening, screen
from bot.safety.lexicon import ScreenRules, load_screen_rules
from bot.storage import Storage

log = logging.getLogger("iddt_bot.service")
SERVICE_TOKEN = "X"
TELEGRAM_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
CONFIRM_DELETE = "x:delete"
MAX_INVITE_ATTEMPTS = 10
"""Wrong invite codes one user may try per process run; after that every try is refused unchecked."""


def load_all(config: Config) -> tuple[KnowledgeBase, Flows, ScreenRules]:
    """Knowledge, flows and the screen's lexicon, validated together; raises :class:`KnowledgeError`
    with every problem."""
    kb, problems = load_knowledge(config.knowledge_dir)
    if kb is None:
        raise KnowledgeError(problems)
    flows, problems = load_flows(config.conversations_dir, kb)
    if flows is None:
        raise KnowledgeError(problems)
    rules, problems = load_screen_rules(config.knowledge_dir / LEXICON_FOLDER)
    if rules is None:
        raise KnowledgeError(problems)
    kb.index  # noqa: B018 - build the search index now, not on some user's first question
    return kb, flows, rules


@dataclass
class _Loaded:
    kb: KnowledgeBase
    flows: Flows
    engine: Engine
    screen_rules: ScreenRules


class BotService:
    def __init__(self, config: Config, storage: Storage | None = None) -> None:
        self.config = config
        kb, flows, rules = load_all(config)
        self._loaded = _Loaded(kb, flows, Engine(kb, flows), rules)
        self.storage = storage or Storage(config.db_path)
        self._lock = threading.RLock()
        self._last_step: dict[int, str] = {}
        self._invite_attempts: dict[int, int] = {}

    @classmethod
    def from_config(cls, config: Config) -> BotService:
        return cls(config)

    @property
    def kb(self) -> KnowledgeBase:
        return self._loaded.kb

    @property
    def engine(self) -> Engine:
        return self._loaded.engine

    # ------------------------------------------------------------------ main
    def handle(self, user_id: int, incoming: Incoming, *, chat_id: int | None = None,
               language_code: str | None = None) -> list[Reply]:
        """Answer one user action. Never raises for user input; always returns at least one reply."""
        started = time.perf_counter()
        with self._lock:
            try:
                replies = self._handle(user_id, incoming, language_code)
            except Exception as exc:  # noqa: BLE001 - every update must get an answer
                log.error("handler error type=%s", type(exc).__name__)
                replies = self._error_replies(user_id, language_code)
        log.debug("handled user update ms=%.2f", (time.perf_counter() - started) * 1000)
        return replies or [Reply(text=self.kb.ui("error", "nb"))]

    def _default_lang(self, language_code: str | None) -> str:
        """A new user's language from their client: en, da (Danish texts where they exist, else
        bokmål) or nb."""
        if language_code:
            code = language_code.lower()
            return "en" if code.startswith("en") else "da" if code.startswith("da") else "nb"
        return self.config.lang

    def _handle(self, user_id: int, incoming: Incoming, language_code: str | None) -> list[Reply]:
        if not self.may_use(user_id):
            return self._gate(user_id, incoming, language_code)
        loaded = self._loaded
        profile, conv = self.storage.load(user_id, self._default_lang(language_code))
        replies: list[Reply] = []
        text = incoming.text
        flagged = False
        if text and incoming.button is None and not text.startswith("\x00"):
            screening = screen(text, profile.lang, loaded.screen_rules)
            flagged = bool(screening.pii)
            if screening.pii and [k for k in screening.pii if k != "name"]:
                replies += self._crisis_replies(screening, profile.lang, language_code)
                kinds = ", ".join(loaded.kb.ui(f"pii_{k}", profile.lang) for k in screening.pii)
                replies.append(Reply(text=loaded.kb.ui("pii_refused", profile.lang, kinds=kinds)))
                self.storage.record_event("pii_refused", ",".join(screening.pii))
                replies += loaded.engine.current_prompt(self._ctx(profile, conv))
                return replies
            if screening.acute and not text.lstrip().startswith("/"):
                # The crisis answer stands alone: the message is not taken as an answer or a question
                # (no "that didn't fit", no look-up miss), and the open question is offered after it.
                replies += self._crisis_replies(screening, profile.lang, language_code)
                if screening.name_hint:
                    replies.append(Reply(text=loaded.kb.ui("pii_name_warning", profile.lang)))
                prompt = loaded.engine.current_prompt(self._ctx(profile, conv))
                replies.append(Reply(text=loaded.kb.ui("crisis_continue" if prompt else "crisis_menu", profile.lang)))
                replies += prompt
                self.storage.keep(profile, conv)
                return replies
            replies += self._crisis_replies(screening, profile.lang, language_code)
            if screening.name_hint:
                replies.append(Reply(text=loaded.kb.ui("pii_name_warning", profile.lang)))
        if incoming.edited:
            replies.append(Reply(text=loaded.kb.ui("edited_message", profile.lang)))
            replies += loaded.engine.current_prompt(self._ctx(profile, conv))
            self.storage.keep(profile, conv)
            return replies
        if incoming.button == CONFIRM_DELETE:
            self.storage.delete_user(user_id)
            return [Reply(text=loaded.kb.ui("deleted", profile.lang))]
        outcome = loaded.engine.handle(profile, conv, incoming)
        if outcome.command:
            replies += self.service_command(outcome, user_id)
            if outcome.command == "delete":
                return replies
        replies += outcome.replies
        if profile.store_free_text and text and not flagged and not text.startswith(("/", "\x00")):
            self.storage.save_free_text(user_id, text)
        if outcome.durable or outcome.events or outcome.assessment is not None:
            self.storage.save(outcome.profile, outcome.conv, outcome.events, outcome.assessment)
        else:
            self.storage.keep(outcome.profile, outcome.conv)
        if outcome.practice is not None:
            record = outcome.practice
            self.storage.save_practice(user_id, str(record["case_id"]), int(record["gold_level"]),
                                       record.get("chosen_level"), record.get("intervention_score"),
                                       record.get("trap_score"))
        if outcome.conv.pos is not None:
            self._last_step[user_id] = outcome.conv.pos.step
        else:
            self._last_step.pop(user_id, None)
        return replies

    # ---------------------------------------------------------------- access
    def restricted(self) -> bool:
        """Whether an allowlist or invite code limits who may use the bot."""
        return bool(self.config.allowed_ids or self.config.invite_code)

    def may_use(self, user_id: int) -> bool:
        """Admins always; with an allowlist or an invite code, only listed or invited users; else everyone."""
        config = self.config
        if user_id in config.admin_ids or (not config.allowed_ids and not config.invite_code):
            return True
        if user_id in config.allowed_ids:
            return True
        return bool(config.invite_code) and self.storage.is_invited(user_id)

    def _invite_matches(self, text: str | None) -> bool:
        """The invite code as the whole message, or after /start (a t.me/<bot>?start=<code> link)."""
        code = (self.config.invite_code or "").strip()
        if not code or not text:
            return False
        words = text.strip().split()
        if len(words) == 2 and words[0].split("@", 1)[0].lower() == "/start":
            words = words[1:]
        if len(words) != 1:
            return False
        return hmac.compare_digest(words[0].casefold().encode(), code.casefold().encode())

    def _gate(self, user_id: int, incoming: Incoming, language_code: str | None) -> list[Reply]:
        """A user who may not use the bot: accept a right invite code, otherwise refuse politely.

        The refusal says nothing about the bot's content and stores nothing about the user; a crisis
        message still gets the emergency answer first.
        """
        lang = self._default_lang(language_code)
        text = incoming.text if incoming.button is None else None
        if self.config.invite_code and self._invite_attempts.get(user_id, 0) < MAX_INVITE_ATTEMPTS:
            if self._invite_matches(text):
                self.storage.set_invited(user_id, lang)
                self._invite_attempts.pop(user_id, None)
                self.storage.record_event("invite_accepted")
                log.info("invite code accepted")
                return [Reply(text=self.kb.ui("access_granted", lang)),
                        *self._handle(user_id, Incoming(text="/start"), language_code)]
            if text and not text.startswith("\x00"):
                self._invite_attempts[user_id] = self._invite_attempts.get(user_id, 0) + 1
        replies: list[Reply] = []
        if text and not text.startswith("\x00"):
            replies += self._crisis_replies(screen(text, lang, self._loaded.screen_rules), lang, language_code)
        log.info("access refused")
        replies.append(Reply(text=self.kb.ui("access_invite" if self.config.invite_code else "access_refused", lang)))
        return replies

    def _crisis_replies(self, screening: Screening, lang: str, language_code: str | None) -> list[Reply]:
        """``acute``: the what-to-do-now answer with the emergency numbers (sent first, alone);
        ``possible``: one calm line on top of the normal answer; ``none``: nothing.

        A reader whose client is Danish sees Denmark's numbers first, in the language they chose.
        """
        if not screening.crisis:
            return []
        self.storage.record_event("crisis", f"{screening.level}:{','.join(screening.kinds)}")
        danish_client = (language_code or "").lower().startswith("da")
        if screening.acute:
            title, body = crisis_text(self.kb, lang, denmark_first=danish_client)
            return [Reply(title=title, text=body, urgent=True)]
        return [Reply(text=self.kb.ui("crisis_possible", "da" if danish_client and lang != "en" else lang))]

    # ----------------------------------------------------------- retention
    def purge_expired(self, at: float | None = None) -> dict[str, int]:
        """Delete what is older than the retention limit: the daily job (and ``iddt-bot data purge``)."""
        with self._lock:
            removed = self.storage.purge(self.config.retention_days, at=at)
        log.info("retention purge days=%d rows=%d", self.config.retention_days, sum(removed.values()))
        return removed

    def _ctx(self, profile: Profile, conv: Conversation):
        from bot.engine.context import Ctx

        return Ctx(self.kb, self._loaded.flows, profile, conv)

    def _error_replies(self, user_id: int, language_code: str | None) -> list[Reply]:
        try:
            profile, conv = self.storage.load(user_id, self._default_lang(language_code))
            return self.engine.handle(profile, conv, Incoming(text=SENTINEL_ERROR)).replies
        except Exception:  # noqa: BLE001 - the last resort must not fail
            return [Reply(text=self.kb.ui("error", self._default_lang(language_code)))]

    # ------------------------------------------------------- service commands
    def service_command(self, outcome: Outcome, user_id: int) -> list[Reply]:
        profile = outcome.profile
        lang = profile.lang
        ui = self.kb.ui
        command = outcome.command
        if command == "mine":
            items = self.storage.assessments(user_id)
            if not items:
                return [Reply(text=ui("mine_empty", lang))]
            lines = []
            for item in items:
                when = time.strftime("%Y-%m-%d", time.localtime(item["created"]))
                stage = self.kb.get("stages", item["stage"]).title.get(lang) if item.get("stage") else "?"
                level = f"SATS {item['sats_level']}" if item.get("sats_level") else ""
                lines.append(f"• {when}: {stage} {level}".rstrip())
            return [Reply(title=ui("mine_title", lang), text="\n".join(lines))]
        if command == "delete":
            return [Reply(text=ui("delete_confirm", lang),
                          options=[Option(CONFIRM_DELETE, ui("delete_yes", lang))], token=SERVICE_TOKEN)]
        if command == "storage_setting":
            wanted = outcome.args.strip().casefold()
            if wanted in ("på", "pa", "on", "ja", "yes"):
                profile.store_free_text = True
            elif wanted in ("av", "off", "nei", "no"):
                profile.store_free_text = False
            else:
                profile.store_free_text = not profile.store_free_text
            return [Reply(text=ui("storage_on" if profile.store_free_text else "storage_off", lang))]
        if command == "privacy":
            return [Reply(title=ui("privacy_title", lang), text=ui("privacy_text", lang, days=self.config.retention_days))]
        if command in ("stats", "reload"):
            if not self.is_admin(user_id):
                return [Reply(text=ui("admin_only", lang))]
            if command == "reload":
                ok, message = self.reload(lang)
                return [Reply(text=message)]
            from bot.stats import format_stats

            return [Reply(title=ui("stats_title", lang), text=format_stats(self.stats(), self.kb, lang))]
        if command == "progress":
            return self.progress_replies(user_id, lang)
        return [Reply(text=ui("not_available", lang))]

    def progress_replies(self, user_id: int, lang: str) -> list[Reply]:
        from bot.progress import progress_replies

        return progress_replies(self.storage.practice_results(user_id), self.kb, lang)

    # --------------------------------------------------------------- others
    def command_menu(self, lang: str) -> list[tuple[str, str]]:
        """Commands for Telegram's menu: the nb name first, the en name second in ``names``."""
        menu = []
        for command in self._loaded.flows.commands:
            if not command.menu or command.admin:
                continue
            name = command.shown_name(lang)
            if TELEGRAM_COMMAND.match(name):
                menu.append((name, command.description.get(lang)))
        return menu

    def search(self, query: str, lang: str, top: int = 5) -> list[SearchHit]:
        return self.kb.index.search(query, lang, top)

    def reload(self, lang: str | None = None) -> tuple[bool, str]:
        """Load changed knowledge; keep the last good one (and say why) when the new one is invalid."""
        lang = lang or self.config.lang
        try:
            kb, flows, rules = load_all(self.config)
        except KnowledgeError as exc:
            shown = "\n".join(str(p) for p in exc.problems[:15])
            more = f"\n… (+{len(exc.problems) - 15})" if len(exc.problems) > 15 else ""
            log.warning("reload refused problems=%d", len(exc.problems))
            return False, self.kb.ui("reload_refused", lang, count=len(exc.problems)) + "\n" + shown + more
        with self._lock:
            self._loaded = _Loaded(kb, flows, Engine(kb, flows), rules)
        serving.refreeze_after_reload()
        log.info("reloaded entries=%d", sum(kb.counts().values()))
        return True, kb.ui("reload_ok", lang, entries=sum(kb.counts().values()))

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.config.admin_ids

    def mark_inactive(self, user_id: int) -> None:
        self.storage.mark_inactive(user_id)

    def last_step(self, user_id: int) -> str:
        return self._last_step.get(user_id, "-")

    def stats(self) -> dict[str, Any]:
        from bot.stats import usage_stats

        return usage_stats(self.storage, self.kb)

    def close(self) -> None:
        self.storage.close()
