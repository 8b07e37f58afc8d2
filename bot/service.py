"""The one entry point both front ends call: safety screen, stored state, engine, persistence.

Front ends (console, Telegram) translate their input to :class:`Incoming` and render the returned
:class:`Reply` list; they never touch the engine, the storage or the knowledge directly.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.engine.content import crisis_text
from bot.engine.flows import Flows, load_flows
from bot.engine.replies import Incoming, Option, Reply
from bot.engine.runner import SENTINEL_ERROR, Engine, Outcome
from bot.engine.state import Conversation, Profile
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.knowledge.search import SearchHit
from bot.storage import Storage

log = logging.getLogger("iddt_bot.service")
SERVICE_TOKEN = "X"
CONFIRM_DELETE = "x:delete"


def load_all(config: Config) -> tuple[KnowledgeBase, Flows]:
    """Knowledge and flows, validated together; raises :class:`KnowledgeError` with every problem."""
    kb, problems = load_knowledge(config.knowledge_dir)
    if kb is None:
        raise KnowledgeError(problems)
    flows, problems = load_flows(config.conversations_dir, kb)
    if flows is None:
        raise KnowledgeError(problems)
    return kb, flows


def screen_text(text: str, lang: str) -> Any:
    """The safety screen, or None when the safety module is not available."""
    try:
        from bot.safety import screen
    except ImportError:  # pragma: no cover - the module is part of the package
        return None
    return screen(text, lang)


@dataclass
class _Loaded:
    kb: KnowledgeBase
    flows: Flows
    engine: Engine


class BotService:
    def __init__(self, config: Config, storage: Storage | None = None) -> None:
        self.config = config
        kb, flows = load_all(config)
        self._loaded = _Loaded(kb, flows, Engine(kb, flows))
        self.storage = storage or Storage(config.db_path)
        self._lock = threading.RLock()
        self._last_step: dict[int, str] = {}

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
        if language_code:
            return "en" if language_code.lower().startswith("en") else "nb"
        return self.config.lang

    def _handle(self, user_id: int, incoming: Incoming, language_code: str | None) -> list[Reply]:
        loaded = self._loaded
        profile = self.storage.profile(user_id, self._default_lang(language_code))
        conv = self.storage.conversation(user_id)
        replies: list[Reply] = []
        text = incoming.text
        if text and incoming.button is None and not text.startswith("\x00"):
            screening = screen_text(text, profile.lang)
            if screening is not None and screening.crisis:
                title, body = crisis_text(loaded.kb, profile.lang)
                replies.append(Reply(title=title, text=body, urgent=True))
                self.storage.record_event("crisis", ",".join(screening.crisis_kinds))
            if screening is not None and screening.pii:
                hard = [k for k in screening.pii if k != "name"]
                kinds = ", ".join(loaded.kb.ui(f"pii_{k}", profile.lang) for k in screening.pii)
                if hard:
                    replies.append(Reply(text=loaded.kb.ui("pii_refused", profile.lang, kinds=kinds)))
                    self.storage.record_event("pii_refused", ",".join(screening.pii))
                    replies += loaded.engine.current_prompt(self._ctx(profile, conv))
                    return replies
                replies.append(Reply(text=loaded.kb.ui("pii_name_warning", profile.lang)))
        if incoming.button == CONFIRM_DELETE:
            self.storage.delete_user(user_id)
            return [Reply(text=loaded.kb.ui("deleted", profile.lang))]
        outcome = loaded.engine.handle(profile, conv, incoming)
        if outcome.command:
            replies += self.service_command(outcome, user_id)
            if outcome.command == "delete":
                return replies
        replies += outcome.replies
        if profile.store_free_text and text and not text.startswith(("/", "\x00")):
            self.storage.save_free_text(user_id, text)
        self.storage.save(outcome.profile, outcome.conv, outcome.events, outcome.assessment)
        if outcome.conv.pos is not None:
            self._last_step[user_id] = outcome.conv.pos.step
        else:
            self._last_step.pop(user_id, None)
        return replies

    def _ctx(self, profile: Profile, conv: Conversation):
        from bot.engine.context import Ctx

        return Ctx(self.kb, self._loaded.flows, profile, conv)

    def _error_replies(self, user_id: int, language_code: str | None) -> list[Reply]:
        try:
            profile = self.storage.profile(user_id, self._default_lang(language_code))
            conv = self.storage.conversation(user_id)
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
        if command == "privacy":
            return [Reply(title=ui("privacy_title", lang), text=ui("privacy_text", lang, days=self.config.retention_days))]
        if command in ("stats", "reload"):
            if not self.is_admin(user_id):
                return [Reply(text=ui("admin_only", lang))]
            if command == "reload":
                ok, message = self.reload()
                return [Reply(text=message)]
            return [Reply(title="Stats", text=json.dumps(self.stats(), ensure_ascii=False, indent=1))]
        if command == "progress":
            return self.progress_replies(user_id, lang)
        return [Reply(text=ui("not_available", lang))]

    def progress_replies(self, user_id: int, lang: str) -> list[Reply]:
        results = self.storage.practice_results(user_id)
        if not results:
            return [Reply(text=self.kb.ui("progress_empty", lang))]
        right = sum(1 for r in results if r["chosen_level"] == r["gold_level"])
        return [Reply(title=self.kb.ui("progress_title", lang),
                      text=self.kb.ui("progress_summary", lang, attempts=len(results), right=right))]

    # --------------------------------------------------------------- others
    def command_menu(self, lang: str) -> list[tuple[str, str]]:
        return [(c.names[0] if lang == "nb" else c.names[1] if len(c.names) > 1 else c.names[0],
                 c.description.get(lang)) for c in self._loaded.flows.commands if c.menu and not c.admin
                and c.names[0].isascii()]

    def search(self, query: str, lang: str, top: int = 5) -> list[SearchHit]:
        return self.kb.index.search(query, lang, top)

    def reload(self) -> tuple[bool, str]:
        """Load changed knowledge; keep the last good one (and say why) when the new one is invalid."""
        try:
            kb, flows = load_all(self.config)
        except KnowledgeError as exc:
            shown = "\n".join(str(p) for p in exc.problems[:15])
            return False, f"Reload refused: {len(exc.problems)} problem(s); still serving the last good knowledge.\n{shown}"
        with self._lock:
            self._loaded = _Loaded(kb, flows, Engine(kb, flows))
        return True, f"Reloaded: {sum(kb.counts().values())} entries."

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
