"""The engine: given a user's state, one action and what the safety screen saw, produce the new
state, the replies and the effects.

Pure and synchronous: no I/O, no Telegram. The caller (``bot.service``) loads the state and the
user's records, and saves the state and carries out the effects (:mod:`bot.engine.effects`). Every
user-facing text is rendered here or in the modules this one calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.assessment.answers import Choice, match_many, match_one, read_polarity
from bot.assessment.sats import walk
from bot.callback_data import selected_keys, selection_token
from bot.engine import catalogue, content, lookup, practice
from bot.engine.context import Ctx, Records
from bot.engine.effects import DeleteUser, Effect, Reload, SaveAssessment, SaveFreeText
from bot.engine.progress import progress_replies
from bot.engine.replies import DONE_KEY, Incoming, Option, Reply
from bot.engine.state import Conversation, Position, Profile
from bot.engine.summary import result_reply, summary_replies
from bot.engine.usage_report import usage_text
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.flows import CodeNames, Flows, OptionDef, Step
from bot.language.text import fold_phrase
from bot.safety import Screening
from bot.safety.lexicon import ScreenRules, bundled_rules

NONE_KEY = "none"
WELCOME_FLOW = "welcome"
CONFIRM_DELETE = "x:delete"
"""The key of the button that confirms /slett."""
CONFIRM_TOKEN = "X"
"""The token of that button: it belongs to no step, so a flow moving on never makes it stale."""
ON_WORDS = frozenset({"på", "pa", "on", "ja", "yes"})
OFF_WORDS = frozenset({"av", "off", "nei", "no"})
DONE_WORDS = {"ferdig", "done", "ok", "okay", "neste", "next", "videre", "fullfor", "finish"}
NONE_WORDS = {"ingen", "none", "ingenting", "nothing", "ingen av disse", "none of these"}


@dataclass
class Outcome:
    profile: Profile
    conv: Conversation
    replies: list[Reply] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    """What the service must do for this step (save an assessment, delete the user, reload …)."""



LOOKUPS: dict[str, Callable[[Ctx, str], list[Reply]]] = {
    "stages": lambda ctx, args: lookup.stage_detail(ctx, args) if args else lookup.stages_overview(ctx),
    "stage": lookup.stage_detail,
    "interventions": lookup.interventions,
    "traps": lookup.traps,
    "element": lookup.element,
    "resources": lookup.resources,
    "research": lookup.research,
    "webinar": lookup.webinars,
    "glossary": lookup.glossary,
    "questions": lambda ctx, args: lookup.core_questions(ctx),
    "reflection": lambda ctx, args: practice.reflection_replies(ctx, args),
    "case": lambda ctx, args: practice.case_replies(ctx),
    "crisis": lambda ctx, args: content.crisis_block(ctx),
}
"""Look-up commands: answered from the knowledge without leaving the current flow."""
PURE_LOOKUPS = frozenset(LOOKUPS) - {"reflection", "case"}
"""Look-ups whose answer depends only on the knowledge, the arguments and the language (not on the user)."""
LOOKUP_CACHE_SIZE = 512
ADMIN_COMMANDS = frozenset({"stats", "reload"})


class Engine:
    def __init__(self, kb: KnowledgeBase, flows: Flows, language: ScreenRules | None = None) -> None:
        """``language``: the compiled lexicon the typed answers are read with (the bundled one by default)."""
        self.kb = kb
        self.flows = flows
        self.language = language or bundled_rules()
        self._option_cache: dict[tuple[Any, ...], list[tuple[str, str, list[str], OptionDef | None]]] = {}
        """A step's options per (flow, step id, language[, item]): built once per loaded knowledge."""
        self._lookup_cache: dict[tuple[str, str, str], list[Reply]] = {}

    # ------------------------------------------------------------------ entry
    def handle(self, profile: Profile, conv: Conversation, incoming: Incoming, screening: Screening | None = None,
               records: Records | None = None, danish_client: bool = False) -> Outcome:
        """One user action. ``screening``: what the safety screen saw in the action's words (the service
        screens before anything else reads them); ``danish_client``: the crisis numbers start with
        Denmark's."""
        out = Outcome(profile, conv)
        ctx = Ctx(self.kb, self.flows, profile, conv, records or Records(), out.effects)  # one list of effects
        if screening is not None and self._answer_screening(ctx, out, incoming, screening, danish_client):
            return out
        kind = incoming.kind
        if kind == "edited":
            out.replies.append(Reply(text=ctx.ui("edited_message")))
            out.replies += self.current_prompt(ctx)
        elif kind in ("media", "failure"):
            out.replies.append(Reply(text=ctx.ui("non_text" if kind == "media" else "error")))
            out.replies += self.current_prompt(ctx)
        elif kind == "button":
            self.on_button(ctx, out, incoming)
        elif kind == "command":
            self.on_command(ctx, out, incoming.text.strip())
        elif incoming.text.strip():
            self.on_text(ctx, out, incoming.text.strip())
            if profile.store_free_text and not (screening and screening.pii):
                out.effects.append(SaveFreeText(incoming.text))
        else:
            out.replies.append(Reply(text=ctx.ui("empty_message")))
            out.replies += self.current_prompt(ctx)
        return out

    def _answer_screening(self, ctx: Ctx, out: Outcome, incoming: Incoming, screening: Screening,
                          danish_client: bool) -> bool:
        """Crisis first, personal data refused; True when that is the whole answer.

        ``acute``: the crisis answer stands alone; the message is not taken as an answer or a question
        (no "that didn't fit", no look-up miss), and the open question is offered after it. A command
        still runs. ``possible``: one calm line, then the normal answer.
        """
        out.replies += self.crisis_replies(ctx.lang, screening, danish_client, out.events)
        if [k for k in screening.pii if k != "name"]:
            kinds = ", ".join(ctx.ui(f"pii_{k}") for k in screening.pii)
            out.replies.append(Reply(text=ctx.ui("pii_refused", kinds=kinds)))
            out.events.append({"kind": "pii_refused", "name": ",".join(screening.pii)})
            out.replies += self.current_prompt(ctx)
            return True
        if screening.name_hint:
            out.replies.append(Reply(text=ctx.ui("pii_name_warning")))
        if screening.acute and incoming.kind != "command":
            prompt = self.current_prompt(ctx)
            out.replies.append(Reply(text=ctx.ui("crisis_continue" if prompt else "crisis_menu")))
            out.replies += prompt
            return True
        return False

    def crisis_replies(self, lang: str, screening: Screening, danish_client: bool,
                       events: list[dict[str, Any]]) -> list[Reply]:
        """``acute``: the what-to-do-now answer with the emergency numbers (sent first, alone);
        ``possible``: one calm line on top of the normal answer; ``none``: nothing.

        A reader whose client is Danish sees Denmark's numbers first, in the language they chose.
        """
        if not screening.crisis:
            return []
        events.append({"kind": "crisis", "name": f"{screening.level}:{','.join(screening.kinds)}"})
        if screening.acute:
            title, body = content.crisis_text(self.kb, lang, denmark_first=danish_client)
            return [Reply(title=title, text=body, urgent=True)]
        return [Reply(text=self.kb.ui("crisis_possible", "da" if danish_client and lang != "en" else lang))]

    def refusal(self, lang: str, screening: Screening | None, invite: bool, danish_client: bool,
                events: list[dict[str, Any]]) -> list[Reply]:
        """For someone who may not use the bot: the crisis answer when needed, then a polite refusal
        that says nothing about the bot's content. They have no state to read or store."""
        replies = self.crisis_replies(lang, screening, danish_client, events) if screening is not None else []
        replies.append(Reply(text=self.kb.ui("access_invite" if invite else "access_refused", lang)))
        return replies

    def apology(self, lang: str) -> Reply:
        """The last resort when a step failed: "something went wrong, your answers are kept"."""
        return Reply(text=self.kb.ui("error", lang))

    def access_granted(self, lang: str) -> Reply:
        return Reply(text=self.kb.ui("access_granted", lang))

    def reloaded(self, lang: str, problems: list[str], entries: int) -> list[Reply]:
        """The answer to /reload, rendered by the engine of the knowledge now loaded: what was loaded,
        or (the last good knowledge kept) the first problems of the refused one."""
        if not problems:
            return [Reply(text=self.kb.ui("reload_ok", lang, entries=entries))]
        shown = "\n".join(problems[:15])
        more = f"\n… (+{len(problems) - 15})" if len(problems) > 15 else ""
        return [Reply(text=self.kb.ui("reload_refused", lang, count=len(problems)) + "\n" + shown + more)]

    # ---------------------------------------------------------------- commands
    def parse_command(self, text: str) -> tuple[str | None, str, str]:
        """(command id or None, the name typed, the arguments)."""
        head, _, args = text.lstrip("/").partition(" ")
        name = head.split("@", 1)[0].lower()
        command = self.flows.command_by_name.get(name) or self.flows.command_by_name.get(fold_phrase(name))
        return (command.id if command else None), name, args.strip()

    def on_command(self, ctx: Ctx, out: Outcome, text: str) -> None:
        command, name, args = self.parse_command(text)
        out.events.append({"kind": "command", "name": command or "unknown"})
        if command != "describe":
            ctx.conv.data.pop("await", None)  # /beskriv was waiting for a description; a command ends that
        if command in LOOKUPS:
            self._lookup(ctx, out, self._look_up(ctx, command, args))
            return
        if command in ADMIN_COMMANDS and not ctx.records.is_admin:
            out.replies.append(Reply(text=ctx.ui("admin_only")))
            return
        handler = COMMANDS.get(command or "")
        if handler is None:
            out.replies.append(Reply(text=ctx.ui("unknown_command", name=name[:40])))
            out.replies += self.help_replies(ctx)
            return
        handler(self, ctx, out, args)

    def cmd_help(self, ctx: Ctx, out: Outcome, args: str) -> None:
        out.replies += self.help_replies(ctx)
        out.replies += self.current_prompt(ctx)

    def help_replies(self, ctx: Ctx) -> list[Reply]:
        lines = [f"/{c.shown_name(ctx.lang)} – {c.description.get(ctx.lang)}"
                 for c in self.flows.commands if c.menu and not c.admin]
        return [Reply(title=ctx.ui("help_title"), text=ctx.ui("help_intro") + "\n\n" + "\n".join(lines))]

    def cmd_start(self, ctx: Ctx, out: Outcome, args: str) -> None:
        if args.startswith("case_") and "practice" in self.flows.flows:
            self.start_flow(ctx, out, "practice", data={"case": args[5:]})
            return
        if ctx.conv.active:
            out.replies.append(Reply(text=ctx.ui("welcome_back")))
            out.replies += self.prompt(ctx)
            return
        self.start_flow(ctx, out, WELCOME_FLOW)

    def cmd_assessment(self, ctx: Ctx, out: Outcome, args: str) -> None:
        self.start_flow(ctx, out, "assessment")

    def cmd_describe(self, ctx: Ctx, out: Outcome, args: str) -> None:
        """/beskriv TEXT estimates from TEXT; /beskriv alone asks for the description as the next message."""
        if args.strip():
            self.describe(ctx, out, args.strip(), asked=True)
            return
        conv = ctx.conv
        conv.flow, conv.pos, conv.answers, conv.history, conv.pending = None, None, {}, [], []
        conv.data = {"await": "describe"}
        conv.seq += 1
        out.replies.append(Reply(text=ctx.ui("describe_prompt")))

    def describe(self, ctx: Ctx, out: Outcome, text: str, asked: bool = False) -> bool:
        """A case description (J3): show the estimate and its evidence, then assess from the stage step.

        Returns False (nothing done) when the text was not asked for as a description and holds no
        fact the estimator can read, so the caller can treat it as a search instead.
        """
        from bot.engine import describe

        found = describe.estimates(ctx, text)
        if not asked and not describe.has_facts(found):
            return False
        decided = [e.sats_level for e in found if e.sats_level is not None]
        out.events.append({"kind": "describe", "name": str(min(decided)) if decided else "undecided"})
        out.replies.append(describe.estimate_reply(ctx, found))
        self.start_flow(ctx, out, "assessment", answers=describe.prefill(ctx, found), at="stage")
        return True

    def cmd_practice(self, ctx: Ctx, out: Outcome, args: str) -> None:
        data = {"case": args.strip()} if args.strip() else {}
        self.start_flow(ctx, out, "practice", data=data)

    def cmd_restart(self, ctx: Ctx, out: Outcome, args: str) -> None:
        self.start_flow(ctx, out, ctx.conv.flow or "assessment")

    def cmd_cancel(self, ctx: Ctx, out: Outcome, args: str) -> None:
        was_active = ctx.conv.active
        ctx.conv.flow, ctx.conv.pos, ctx.conv.answers = None, None, {}
        ctx.conv.history, ctx.conv.pending, ctx.conv.data = [], [], {}
        ctx.conv.seq += 1
        out.replies.append(Reply(text=ctx.ui("cancelled" if was_active else "nothing_to_cancel")))

    def cmd_back(self, ctx: Ctx, out: Outcome, args: str) -> None:
        conv = ctx.conv
        if not conv.active or not conv.history:
            out.replies.append(Reply(text=ctx.ui("nothing_to_go_back_to")))
            out.replies += self.current_prompt(ctx)
            return
        previous = conv.history.pop()
        step = ctx.flow.step(previous.step)
        if step.kind == "decision_tree":
            per_item = conv.answers.get(step.id, {}).get(ctx.items_of(step)[previous.item], {})
            self._forget_from(ctx, step, per_item, previous.node)
        conv.pos = previous
        conv.pending = self._previous_selection(ctx, step, previous)
        conv.seq += 1
        out.replies += self.prompt(ctx)

    def _forget_from(self, ctx: Ctx, step: Step, per_item: dict[str, str], node: str | None) -> None:
        """Going back in a tree forgets the answer at that node and everything after it."""
        tree_ids = [q.id for q in self.kb.sats_tree.questions]
        if node in tree_ids:
            for qid in tree_ids[tree_ids.index(node):]:
                per_item.pop(qid, None)

    def cmd_language(self, ctx: Ctx, out: Outcome, args: str) -> None:
        wanted = fold_phrase(args)[:2] if args else ("en" if ctx.profile.lang == "nb" else "nb")
        if wanted in ("no", "bo"):
            wanted = "nb"
        if wanted not in ("nb", "en"):
            out.replies.append(Reply(text=ctx.ui("language_unknown")))
            return
        ctx.profile.lang = wanted
        ctx.profile.lang_chosen = True
        out.replies.append(Reply(text=ctx.ui("language_set")))
        out.replies += self.current_prompt(ctx)

    def cmd_mine(self, ctx: Ctx, out: Outcome, args: str) -> None:
        """The user's saved assessments, newest first (date, stage, SATS level)."""
        items = ctx.records.assessments()
        if not items:
            out.replies.append(Reply(text=ctx.ui("mine_empty")))
            return
        lines = []
        for item in items:
            when = time.strftime("%Y-%m-%d", time.localtime(item["created"]))
            stage = self.kb.get("stages", item["stage"]) if item.get("stage") else None
            level = f"SATS {item['sats_level']}" if item.get("sats_level") else ""
            lines.append(f"• {when}: {stage.title.get(ctx.lang) if stage else '?'} {level}".rstrip())
        out.replies.append(Reply(title=ctx.ui("mine_title"), text="\n".join(lines)))

    def cmd_delete(self, ctx: Ctx, out: Outcome, args: str) -> None:
        """Ask first; the confirming button (:data:`CONFIRM_DELETE`) deletes."""
        out.replies.append(Reply(text=ctx.ui("delete_confirm"), options=[Option(CONFIRM_DELETE, ctx.ui("delete_yes"))],
                                 token=CONFIRM_TOKEN))

    def cmd_storage_setting(self, ctx: Ctx, out: Outcome, args: str) -> None:
        """/lagring på|av (or alone: switch) whether the user's own words may be kept."""
        wanted = args.strip().casefold()
        profile = ctx.profile
        profile.store_free_text = True if wanted in ON_WORDS else False if wanted in OFF_WORDS else not profile.store_free_text
        out.replies.append(Reply(text=ctx.ui("storage_on" if profile.store_free_text else "storage_off")))

    def cmd_privacy(self, ctx: Ctx, out: Outcome, args: str) -> None:
        out.replies.append(Reply(title=ctx.ui("privacy_title"),
                                 text=ctx.ui("privacy_text", days=ctx.records.retention_days)))

    def cmd_progress(self, ctx: Ctx, out: Outcome, args: str) -> None:
        out.replies += progress_replies(ctx.records.practice_results(), self.kb, ctx.lang)

    def cmd_stats(self, ctx: Ctx, out: Outcome, args: str) -> None:
        out.replies.append(Reply(title=ctx.ui("stats_title"), text=usage_text(ctx.records.usage_stats(), self.kb, ctx.lang)))

    def cmd_reload(self, ctx: Ctx, out: Outcome, args: str) -> None:
        """The service reloads and asks :meth:`reloaded` for the answer."""
        out.effects.append(Reload())

    def _look_up(self, ctx: Ctx, command: str, args: str) -> list[Reply]:
        """A look-up's replies; the pure ones are built once per loaded knowledge (replies are frozen).

        "/tiltak overtalelse" renders dozens of entries, and the same few look-ups come again and
        again; the engine is rebuilt on every reload, so an answer never outlives its knowledge.
        """
        if command not in PURE_LOOKUPS:
            return LOOKUPS[command](ctx, args)
        key = (command, args, ctx.lang)
        replies = self._lookup_cache.get(key)
        if replies is None:
            if len(self._lookup_cache) >= LOOKUP_CACHE_SIZE:
                self._lookup_cache.clear()
            replies = self._lookup_cache[key] = LOOKUPS[command](ctx, args)
        return list(replies)

    def _lookup(self, ctx: Ctx, out: Outcome, replies: list[Reply]) -> None:
        out.replies += replies
        if ctx.conv.active:
            out.replies.append(Reply(text=ctx.ui("still_in_flow")))
            out.replies += self.prompt(ctx)

    # ----------------------------------------------------------------- flows
    def start_flow(self, ctx: Ctx, out: Outcome, name: str, data: dict[str, Any] | None = None,
                   answers: dict[str, Any] | None = None, at: str | None = None) -> None:
        """Start flow ``name``; ``answers`` prefills it and ``at`` enters at that step instead of the start.

        Steps after ``at`` that already have answers are walked, not asked (a decision tree asks
        only its open questions).
        """
        if name not in self.flows.flows:
            out.replies.append(Reply(text=ctx.ui("not_available")))
            return
        conv = ctx.conv
        then = None
        if not ctx.profile.privacy_seen and name != WELCOME_FLOW:
            then, name = name, WELCOME_FLOW
        conv.flow, conv.pos, conv.answers, conv.history, conv.pending = name, None, {}, [], []
        conv.data = dict(data or {})
        if then:
            conv.data["then"] = then
            if answers:
                conv.data["then_answers"], conv.data["then_at"] = answers, at
        elif answers:
            conv.answers = dict(answers)
        out.events.append({"kind": "flow_start", "flow": name})
        flow = self.flows.flow(name)
        start = at if (at and not then and at in {s.id for s in flow.steps}) else flow.start
        self.enter(ctx, out, start, 0)

    def enter(self, ctx: Ctx, out: Outcome, step_id: str | None, item: int) -> None:
        """Move to ``step_id`` (item ``item``): show messages, skip what does not apply, stop at a question."""
        conv = ctx.conv
        for _ in range(200):
            if step_id is None:
                self.finish_flow(ctx, out)
                return
            step = ctx.flow.step(step_id)
            items = ctx.items_of(step)
            if not self.applies(ctx, step) or item >= len(items):
                step_id, item = step.next, 0
                continue
            conv.pos = Position(step_id, item)
            if step.kind == "message":
                out.replies += self.message_replies(ctx, step)
                step_id, item = self._after(step, item, items)
                continue
            if step.kind == "grade":
                saved = len(ctx.effects)
                out.replies += self.message_replies(ctx, step)
                for done in ctx.effects[saved:]:  # the final grade asks for the attempt to be saved
                    out.events.append({"kind": "practice_done", "name": getattr(done, "case_id", None)})
                step_id, item = self._after(step, item, items)
                if step_id is None:  # the last grade has said what comes next
                    self.finish_flow(ctx, out, show_end=False)
                    return
                continue
            if step.kind == "summary":
                replies, record = summary_replies(ctx)
                out.replies += replies
                out.effects.append(SaveAssessment(record))
                out.events.append({"kind": "assessment_done", "stage": record.get("stage")})
                self.finish_flow(ctx, out, show_end=False)
                return
            if step.kind == "decision_tree":
                answers = conv.answers.setdefault(step.id, {}).setdefault(items[item], {})
                result = walk(self.kb.sats_tree, answers)
                if result.finished:
                    out.replies.append(result_reply(ctx, items[item], result))
                    step_id, item = self._after(step, item, items)
                    continue
                conv.pos = Position(step_id, item, result.next_question.id)
            conv.seq += 1
            conv.pending = self._initial_selection(ctx, step)
            out.replies += self.prompt(ctx)
            return
        raise RuntimeError("flow did not settle")  # validation prevents loops

    @staticmethod
    def _after(step: Step, item: int, items: list[str]) -> tuple[str | None, int]:
        return (step.id, item + 1) if item + 1 < len(items) else (step.next, 0)

    def finish_flow(self, ctx: Ctx, out: Outcome, show_end: bool = True) -> None:
        conv = ctx.conv
        then = conv.data.get("then") if conv.flow == WELCOME_FLOW else None
        finished = conv.flow
        conv.flow, conv.pos, conv.history, conv.pending = None, None, [], []
        conv.seq += 1
        out.events.append({"kind": "flow_end", "flow": finished})
        if then:
            data = {k: v for k, v in conv.data.items() if k not in ("then", "then_answers", "then_at")}
            self.start_flow(ctx, out, then, data=data, answers=conv.data.get("then_answers"),
                            at=conv.data.get("then_at"))  # data: e.g. the case a deep link asked for
        elif show_end:
            out.replies.append(Reply(text=ctx.ui("flow_end")))

    def applies(self, ctx: Ctx, step: Step) -> bool:
        if step.once == "privacy_seen" and ctx.profile.privacy_seen:
            return False
        if step.skip_if is not None and catalogue.CONDITIONS[step.skip_if](ctx):
            return False
        if not step.when:
            return True
        for cond in step.when:
            value = ctx.conv.answers.get(cond.step)
            values = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
            if set(cond.in_) & {v for v in values if isinstance(v, str)}:
                return True
        return False

    # --------------------------------------------------------------- prompts
    def current_prompt(self, ctx: Ctx) -> list[Reply]:
        return self.prompt(ctx) if ctx.conv.active else []

    def options(self, ctx: Ctx, step: Step) -> list[tuple[str, str, list[str], OptionDef | None]]:
        """(key, label, synonyms, definition) of the step's options, before selection marks."""
        if step.options_from in catalogue.PROVIDERS and step.kind != "decision_tree":
            found = self._provided_options(ctx, step, step.options_from)
        else:
            found = self._fixed_options(ctx.conv.flow, step, ctx.lang)
        if step.exclude:
            excluded = set(ctx.conv.answers.get(step.exclude) or [])
            found = [f for f in found if f[0] not in excluded]
        return found

    def _provided_options(self, ctx: Ctx, step: Step, name: str) -> list[tuple[str, str, list[str], OptionDef | None]]:
        """A provider's options; a pure one's kept per step, language and item (see ``catalogue.PURE_PROVIDERS``)."""
        key = (ctx.conv.flow, step.id, ctx.lang, ctx.item_key()) if name in catalogue.PURE_PROVIDERS else None
        found = self._option_cache.get(key) if key is not None else None
        if found is None:
            found = [(k, label, syn, None) for k, label, syn in catalogue.PROVIDERS[name](ctx)]
            if key is not None:
                self._option_cache[key] = found
        return found

    def _fixed_options(self, flow: str | None, step: Step, lang: str) -> list[tuple[str, str, list[str], OptionDef | None]]:
        """Options that depend only on the step and the language, built once per loaded knowledge.

        A step is asked, answered and re-shown several times per update; the engine is rebuilt on
        every reload, so this never outlives the knowledge it came from.
        """
        key = (flow, step.id, lang)
        found = self._option_cache.get(key)
        if found is None:
            found = self._option_cache[key] = self._build_options(step, lang)
        return found

    def _build_options(self, step: Step, lang: str) -> list[tuple[str, str, list[str], OptionDef | None]]:
        if step.kind == "decision_tree":
            defs: list[OptionDef] = self.flows.option_sets["yes_no_unsure"]
        elif isinstance(step.options, str):
            defs = self.flows.option_sets[step.options]
        elif isinstance(step.options, list):
            defs = step.options
        else:
            return [(e.id, e.title.get(lang), [*e.synonyms, e.title.nb, e.title.en], None)
                    for e in self.kb.all(step.options_from or "")]
        return [(d.key, d.label.get(lang), d.synonyms, d) for d in defs]

    def prompt(self, ctx: Ctx) -> list[Reply]:
        conv = ctx.conv
        step = ctx.step
        token = str(conv.seq)
        item_label = self._current_item_label(ctx, step)
        if step.kind == "decision_tree":
            question = {q.id: q for q in self.kb.sats_tree.questions}[conv.pos.node]
            head = step.text.get(ctx.lang).format(item=item_label) if step.text else item_label
            body = question.question.get(ctx.lang)
            if question.help is not None:
                body += "\n\n" + question.help.get(ctx.lang)
            options = [Option(k, label) for k, label, _, _ in self.options(ctx, step)]
            return [Reply(title=head, text=body, options=options, token=token)]
        text = self._question_text(step, ctx.lang, item_label)
        if step.kind == "multi_choice":
            return [self.multi_reply(ctx, step, token, text)]
        options = [Option(k, label) for k, label, _, _ in self.options(ctx, step)]
        return [Reply(text=text, options=options, token=token)]

    def multi_reply(self, ctx: Ctx, step: Step, token: str, text: str, edit: bool = False) -> Reply:
        """The multi-select question with the working selection ticked; its token carries the selection."""
        chosen = set(ctx.conv.pending)
        options = [Option(k, label, k in chosen) for k, label, _, _ in self.options(ctx, step)]
        token = selection_token(token, [o.key for o in options], chosen)
        if step.none_option:
            options.append(Option(NONE_KEY, ctx.ui("none_of_these")))
        options.append(Option(DONE_KEY, ctx.ui("done_button")))
        text = text + "\n\n" + ctx.ui("multi_hint")
        return Reply(text=text, options=options, multi=True, token=token, edit=edit)

    @staticmethod
    def _question_text(step: Step, lang: str, item_label: str) -> str:
        text = step.text.get(lang).format(item=item_label) if step.text else ""
        return text + "\n\n" + step.help.get(lang) if step.help is not None else text

    def _current_item_label(self, ctx: Ctx, step: Step) -> str:
        """The title of the item a repeated step is asking about now ("Alkohol"), else ""."""
        if not step.for_each:
            return ""
        items = ctx.items_of(step)
        item = ctx.conv.pos.item if ctx.conv.pos else 0
        return self._item_title(ctx, step, items[item] if item < len(items) else "")

    def _item_title(self, ctx: Ctx, step: Step, item_key: str) -> str:
        source = ctx.flow.step(step.for_each)
        collection = source.options_from if source.options_from in self.kb.items else None
        return ctx.title_of(collection, item_key) if collection else item_key

    def message_replies(self, ctx: Ctx, step: Step) -> list[Reply]:
        replies = []
        if step.text is not None:
            replies.append(Reply(text=step.text.get(ctx.lang)))
        if step.show:
            replies += catalogue.CONTENT[step.show](ctx)
        return replies

    def _initial_selection(self, ctx: Ctx, step: Step) -> list[str]:
        if step.kind != "multi_choice":
            return []
        previous = self._stored_answer(ctx, step, ctx.conv.pos.item)
        if isinstance(previous, list):
            return list(previous)
        if step.preselect:
            opts = [Option(k, label) for k, label, _, _ in self.options(ctx, step)]
            return catalogue.PRESELECT[step.preselect](ctx, opts)
        return []

    def _previous_selection(self, ctx: Ctx, step: Step, pos: Position) -> list[str]:
        previous = self._stored_answer(ctx, step, pos.item)
        return list(previous) if isinstance(previous, list) else []

    def _stored_answer(self, ctx: Ctx, step: Step, item: int) -> Any:
        value = ctx.conv.answers.get(step.id)
        if step.for_each:
            items = ctx.items_of(step)
            return (value or {}).get(items[item]) if item < len(items) else None
        return value

    # --------------------------------------------------------------- answers
    def on_button(self, ctx: Ctx, out: Outcome, incoming: Incoming) -> None:
        key = incoming.button or ""
        if key == CONFIRM_DELETE and incoming.token == CONFIRM_TOKEN:
            out.effects.append(DeleteUser())
            out.replies.append(Reply(text=ctx.ui("deleted")))
            return
        if key.startswith(lookup.OPEN_PREFIX):
            self._lookup(ctx, out, lookup.open_entry(ctx, key))
            return
        conv = ctx.conv
        seq, _, selection = (incoming.token or "").partition(".")
        if not conv.active or seq != str(conv.seq):
            out.events.append({"kind": "stale_button"})
            out.replies.append(Reply(text=ctx.ui("moved_on")))
            out.replies += self.current_prompt(ctx) or self.help_replies(ctx)
            return
        step = ctx.step
        option_keys = [k for k, *_ in self.options(ctx, step)]
        valid = option_keys
        if step.kind == "multi_choice":
            valid = option_keys + [DONE_KEY] + ([NONE_KEY] if step.none_option else [])
        if key not in valid:
            out.events.append({"kind": "forged_button"})
            out.replies.append(Reply(text=ctx.ui("moved_on")))
            out.replies += self.prompt(ctx)
            return
        if step.kind == "multi_choice":
            if selection:  # the ticks of the message pressed (see ``selection_token``)
                conv.pending = selected_keys(selection, option_keys)
            self.on_multi_button(ctx, out, step, key)
        else:
            self.answer(ctx, out, key)

    def on_multi_button(self, ctx: Ctx, out: Outcome, step: Step, key: str) -> None:
        conv = ctx.conv
        if key == DONE_KEY:
            self.answer(ctx, out, list(conv.pending))
        elif key == NONE_KEY:
            self.answer(ctx, out, [])
        else:
            conv.pending = [k for k in conv.pending if k != key] if key in conv.pending else [*conv.pending, key]
            text = self._question_text(step, ctx.lang, self._current_item_label(ctx, step))
            out.replies.append(self.multi_reply(ctx, step, str(conv.seq), text, edit=True))

    def on_text(self, ctx: Ctx, out: Outcome, text: str) -> None:
        conv = ctx.conv
        if not conv.active:
            if not ctx.profile.privacy_seen:
                self.start_flow(ctx, out, WELCOME_FLOW)
                return
            asked = conv.data.pop("await", None) == "describe"
            if (asked or self._looks_like_case(text)) and self.describe(ctx, out, text, asked=asked):
                return
            out.events.append({"kind": "search"})
            replies, miss = lookup.search_answer(ctx, text)
            out.replies += replies
            if miss is not None:
                out.events.append({"kind": "search_miss", "name": miss})
            return
        step = ctx.step
        if step.kind in ("choice", "multi_choice", "decision_tree") and self._looks_like_case(text):
            if conv.flow == WELCOME_FLOW and self.describe(ctx, out, text):
                return  # nothing to lose at the welcome menu
            # A pasted description is never an answer to a button question, and it must not silently
            # replace the user's assessment: say how to use it and repeat the question.
            out.replies.append(Reply(text=ctx.ui("describe_mid_flow")))
            out.replies += self.prompt(ctx)
            return
        opts = self.options(ctx, step)
        choices = [Choice(k, (label, *syn)) for k, label, syn, _ in opts]
        folded = fold_phrase(text)
        if step.kind == "multi_choice":
            if folded in DONE_WORDS:
                self.answer(ctx, out, list(conv.pending))
                return
            if folded in NONE_WORDS:
                self.answer(ctx, out, [])
                return
            keys, unknown = match_many(text, choices)
            if keys and not unknown:
                self.answer(ctx, out, keys)
                return
        elif step.kind in ("choice", "decision_tree"):
            key = self._polar_answer(ctx, text, {c.key for c in choices}) or match_one(text, choices)
            if key is not None:
                self.answer(ctx, out, key)
                return
        command = self.flows.command_by_name.get(folded)
        if command is not None:
            self.on_command(ctx, out, "/" + folded)
            return
        answer = lookup.clear_answer(ctx, text)
        if answer is not None:  # a question typed mid-flow: answer it, then repeat the step
            out.events.append({"kind": "search"})
            self._lookup(ctx, out, answer)
            return
        out.events.append({"kind": "reask"})
        listing = "\n".join(f"{i}. {label}" for i, (_, label, _, _) in enumerate(opts, 1))
        out.replies.append(Reply(text=ctx.ui("not_understood") + "\n" + listing))
        out.replies += self.prompt(ctx)

    def _polar_answer(self, ctx: Ctx, text: str, keys: set[str]) -> str | None:
        """At a yes/no question, what the typed words mean ("nei ikke regelmessig" is no, not unsure)."""
        if not {"yes", "no"} <= keys:
            return None
        answer = read_polarity(text, self.language, ctx.conv.pos.node if ctx.conv.pos else None)
        return answer if answer in keys else None

    @staticmethod
    def _looks_like_case(text: str) -> bool:
        from bot.engine.describe import looks_like_case

        return looks_like_case(text)

    def answer(self, ctx: Ctx, out: Outcome, value: Any) -> None:
        """Record the answer at the current position and move on."""
        conv = ctx.conv
        step = ctx.step
        pos = conv.pos
        items = ctx.items_of(step)
        if step.kind == "decision_tree":
            conv.answers.setdefault(step.id, {}).setdefault(items[pos.item], {})[pos.node] = value
            conv.history.append(Position(pos.step, pos.item, pos.node))
            self.enter(ctx, out, step.id, pos.item)
            return
        if step.for_each:
            conv.answers.setdefault(step.id, {})[items[pos.item]] = value
        else:
            conv.answers[step.id] = value
        command = self.apply_option_effects(ctx, step, value)
        if command:
            self.finish_flow(ctx, out, show_end=False)
            self.on_command(ctx, out, command)
            return
        if step.once == "privacy_seen" and conv.data.get("then"):
            self.finish_flow(ctx, out, show_end=False)  # the privacy note was a detour: go where the user asked
            return
        conv.history.append(Position(pos.step, pos.item))
        next_step, next_item = self._after(step, pos.item, items)
        self.enter(ctx, out, next_step, next_item)

    def apply_option_effects(self, ctx: Ctx, step: Step, value: Any) -> str | None:
        """Settings an option changes; returns the command it runs, if any."""
        command = None
        for key, _, _, definition in self.options(ctx, step):
            if definition is None or key != value:
                continue
            if definition.set_lang:
                ctx.profile.lang = definition.set_lang
                ctx.profile.lang_chosen = True
            command = definition.command
        if step.once == "privacy_seen":
            ctx.profile.privacy_seen = True
        return command


Handler = Callable[[Engine, Ctx, Outcome, str], None]
COMMANDS: dict[str, Handler] = {
    "help": Engine.cmd_help,
    "start": Engine.cmd_start,
    "assessment": Engine.cmd_assessment,
    "describe": Engine.cmd_describe,
    "practice": Engine.cmd_practice,
    "restart": Engine.cmd_restart,
    "cancel": Engine.cmd_cancel,
    "back": Engine.cmd_back,
    "language": Engine.cmd_language,
    "mine": Engine.cmd_mine,
    "delete": Engine.cmd_delete,
    "storage_setting": Engine.cmd_storage_setting,
    "privacy": Engine.cmd_privacy,
    "progress": Engine.cmd_progress,
    "stats": Engine.cmd_stats,
    "reload": Engine.cmd_reload,
}
"""Every command the engine runs, by the id ``conversations/options.yaml`` gives it (its names per
language live there, and both front ends and the menu read them from the flows); look-ups are in
:data:`LOOKUPS`."""


def code_names() -> CodeNames:
    """What the engine offers the flows, for :func:`bot.knowledge.flows.load_flows`."""
    return catalogue.code_names(frozenset(COMMANDS) | frozenset(LOOKUPS))
