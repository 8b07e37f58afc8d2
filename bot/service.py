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
from pathlib import Path
from typing import Any

from bot import serving
from bot.config import Config
from bot.engine.context import Records
from bot.engine.effects import DeleteUser, Reload, SaveAssessment, SaveFreeText, SavePractice
from bot.engine.replies import Incoming, Reply
from bot.engine.runner import Engine, Outcome, code_names
from bot.engine.state import Conversation
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.knowledge.flows import Flows, load_flows
from bot.knowledge.loader import LEXICON_FOLDER
from bot.knowledge.problems import Problem
from bot.knowledge.search import SearchHit
from bot.locale import lang_of
from bot.safety import screen
from bot.safety.lexicon import ScreenRules, lexicon_problems, load_screen_rules
from bot.storage import Storage

log = logging.getLogger("iddt_bot.service")
TELEGRAM_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_INVITE_ATTEMPTS = 10
"""Wrong invite codes one user may try per process run; after that every try is refused unchecked."""


def load_all(config: Config) -> tuple[KnowledgeBase, Flows, ScreenRules]:
    """Knowledge, flows and the screen's lexicon, validated together; raises :class:`KnowledgeError`
    with every problem."""
    kb, problems = load_knowledge(config.knowledge_dir)
    if kb is None:
        raise KnowledgeError(problems)
    flows, problems = load_flows(config.conversations_dir, kb, code_names())
    if flows is None:
        raise KnowledgeError(problems)
    rules, problems = load_screen_rules(config.knowledge_dir / LEXICON_FOLDER)
    if rules is None:
        raise KnowledgeError(problems)
    kb.index  # noqa: B018 - build the search index now, not on some user's first question
    return kb, flows, rules


def knowledge_problems(knowledge_dir: Path, conversations_dir: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Everything ``iddt-bot kb check`` and ``iddt-bot doctor`` report: the knowledge and the flows as
    the bot loads them, and the lexicons, with a word-form table that is out of date (field
    ``word forms``: the bot still runs, its matching is weaker)."""
    kb, problems = load_knowledge(knowledge_dir)
    if kb is not None:
        _, problems = load_flows(conversations_dir, kb, code_names())
    return kb, [*problems, *lexicon_problems(knowledge_dir / LEXICON_FOLDER)]


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
        self._loaded = _Loaded(kb, flows, Engine(kb, flows, rules), rules)
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
        return replies or [self.engine.apology(lang_of(language_code, self.config.lang))]

    def _handle(self, user_id: int, incoming: Incoming, language_code: str | None) -> list[Reply]:
        if not self.may_use(user_id):
            return self._gate(user_id, incoming, language_code)
        loaded = self._loaded
        storage = self.storage
        with storage.transaction():
            profile, conv = storage.load(user_id, lang_of(language_code, self.config.lang))
            screening = screen(incoming.text, profile.lang, loaded.screen_rules) if incoming.screened else None
            outcome = loaded.engine.handle(profile, conv, incoming, screening, self._records(user_id),
                                           danish_client=lang_of(language_code) == "da")
            replies = list(outcome.replies)
            if any(isinstance(effect, DeleteUser) for effect in outcome.effects):
                storage.delete_user(user_id)
                self._last_step.pop(user_id, None)
                return replies
            self._save(user_id, outcome)
        if any(isinstance(effect, Reload) for effect in outcome.effects):
            replies += self._reload_replies(outcome.profile.lang)
        self._remember_step(user_id, outcome.conv)
        return replies

    def _records(self, user_id: int) -> Records:
        """What the engine may read of the user's stored data, each read only when a reply needs it."""
        return Records(assessments=lambda: self.storage.assessments(user_id),
                       practice_results=lambda: self.storage.practice_results(user_id),
                       usage_stats=self.stats, is_admin=self.is_admin(user_id),
                       retention_days=self.config.retention_days)

    def _save(self, user_id: int, outcome: Outcome) -> None:
        """The step's state, events and effects, in the transaction the caller holds."""
        storage = self.storage
        assessment = None
        for effect in outcome.effects:
            if isinstance(effect, SaveAssessment):
                assessment = effect.record
            elif isinstance(effect, SavePractice):
                storage.save_practice(user_id, effect.case_id, effect.gold_level, effect.chosen_level,
                                      effect.intervention_score, effect.trap_score)
            elif isinstance(effect, SaveFreeText):
                storage.save_free_text(user_id, effect.text)
        storage.save(outcome.profile, outcome.conv, outcome.events, assessment)

    def _remember_step(self, user_id: int, conv: Conversation) -> None:
        """The step each user is at, for the one log line per update (never their words)."""
        if conv.pos is not None:
            self._last_step[user_id] = conv.pos.step
        else:
            self._last_step.pop(user_id, None)

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
        lang = lang_of(language_code, self.config.lang)
        engine = self._loaded.engine
        words = incoming.text if incoming.kind in ("text", "command") else None
        if self.config.invite_code and self._invite_attempts.get(user_id, 0) < MAX_INVITE_ATTEMPTS:
            if self._invite_matches(words):
                with self.storage.transaction():
                    self.storage.set_invited(user_id, lang)
                    self.storage.record_event("invite_accepted")
                self._invite_attempts.pop(user_id, None)
                log.info("invite code accepted")
                return [engine.access_granted(lang), *self._handle(user_id, Incoming.typed("/start"), language_code)]
            if words:
                self._invite_attempts[user_id] = self._invite_attempts.get(user_id, 0) + 1
        screening = screen(words, lang, self._loaded.screen_rules) if words else None
        events: list[dict[str, str]] = []
        replies = engine.refusal(lang, screening, bool(self.config.invite_code), lang_of(language_code) == "da", events)
        with self.storage.transaction():
            for event in events:
                self.storage.record_event(event["kind"], event["name"])
        log.info("access refused")
        return replies

    # ----------------------------------------------------------- retention
    def purge_expired(self, at: float | None = None) -> dict[str, int]:
        """Delete what is older than the retention limit: the daily job (and ``iddt-bot data purge``)."""
        with self._lock:
            removed = self.storage.purge(self.config.retention_days, at=at)
        log.info("retention purge days=%d rows=%d", self.config.retention_days, sum(removed.values()))
        return removed

    def _error_replies(self, user_id: int, language_code: str | None) -> list[Reply]:
        """After a failure: the engine's apology and the open question; a fixed text if even that fails."""
        lang = lang_of(language_code, self.config.lang)
        try:
            profile, conv = self.storage.load(user_id, lang)
            return self.engine.handle(profile, conv, Incoming.failure()).replies
        except Exception:  # noqa: BLE001 - the last resort must not fail
            return [self.engine.apology(lang)]

    def _reload_replies(self, lang: str) -> list[Reply]:
        _, report = self.reload(lang)
        return [Reply(text=report)]

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
        """Load changed knowledge; keep the last good one when the new one is invalid. Returns whether
        it loaded and the engine's report for an admin in ``lang`` (what was loaded, or why not)."""
        lang = lang or self.config.lang
        try:
            kb, flows, rules = load_all(self.config)
        except KnowledgeError as exc:
            log.warning("reload refused problems=%d", len(exc.problems))
            return False, self._report(self.engine.reloaded(lang, [str(p) for p in exc.problems], 0))
        with self._lock:
            self._loaded = _Loaded(kb, flows, Engine(kb, flows, rules), rules)
        serving.refreeze_after_reload()
        entries = sum(kb.counts().values())
        log.info("reloaded entries=%d", entries)
        return True, self._report(self.engine.reloaded(lang, [], entries))

    @staticmethod
    def _report(replies: list[Reply]) -> str:
        return "\n".join(reply.text for reply in replies)

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
