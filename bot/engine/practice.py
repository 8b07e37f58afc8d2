"""Practice on cases (J4): choosing a case, grading the student's answers, reflection questions.

The flow is data (``conversations/practice.yaml``); this module holds the pieces it names:

* the condition ``case_given`` (a deep link ``/start case_<id>`` or ``/ov 12`` chose the case),
* the content blocks ``practice_case_unknown``, ``practice_case`` (picks the case and shows the
  vignette), and the graders ``practice_level_feedback``, ``practice_intervention_feedback``,
  ``practice_trap_feedback`` and ``practice_final`` (shown by ``grade`` steps),
* the option providers ``practice_cases``, ``practice_levels``, ``practice_interventions`` and
  ``practice_traps``.

Everything a grade needs is kept in ``Conversation.data`` (the case id, the options shown, the first
answer to each part), so an attempt survives a restart and a knowledge reload. The final grade asks
the service to store the finished attempt (:class:`~bot.engine.effects.SavePractice`, no free text).
Randomness is seeded from the conversation state, so the engine stays a pure function.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from bot.assessment.sats import ANSWERS
from bot.engine.context import Ctx
from bot.engine.effects import SavePractice
from bot.engine.replies import Reply
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.models import Case
from bot.language.text import fold_phrase

FLOW = "practice"
MODE_STEP, STAGE_STEP, NUMBER_STEP = "mode", "pick_stage", "pick_number"
LEVEL_STEP, INTERVENTION_STEP, TRAP_STEP = "level", "interventions", "traps"
STEPS_READ = frozenset({MODE_STEP, STAGE_STEP, NUMBER_STEP, LEVEL_STEP, INTERVENTION_STEP, TRAP_STEP})
"""The practice flow's step ids this module reads (``conversations/practice.yaml`` declares them)."""
INTERVENTION_OPTIONS = 8
"""Options at the intervention step: the case's fitting ones, topped up with ones from other stages."""
TRAP_OPTIONS = 6
MIN_DISTRACTORS = 3
GENERAL_STAGES = 2
"""Interventions and traps listed for more stages than this are never used as distractors."""
WEIGHTS = {"level": 40, "interventions": 30, "traps": 30}
"""Points of the final score (out of 100)."""
SAME_STAGE_CREDIT = 0.5
"""Credit for a level in the right IDDT stage but not the right level."""
RANDOM_WORDS = {"tilfeldig", "random", "any", "noen", "hvilken som helst", "tilfeldig kasus"}


# ----------------------------------------------------------------- the case
def stage_of(kb: KnowledgeBase, case: Case) -> str:
    return kb.levels[case.sats_level].stage


def cases_in_order(kb: KnowledgeBase) -> list[Case]:
    return sorted(kb.all("cases"), key=lambda c: c.number)


def _rng(ctx: Ctx, salt: str = "") -> random.Random:
    """Seeded from the state, so the same state gives the same pick (the engine stays pure)."""
    return random.Random(f"{ctx.profile.user_id}:{ctx.conv.seq}:{len(ctx.conv.history)}:{salt}")


def find_case(ctx: Ctx, arg: str) -> Case | None:
    """The case ``arg`` names: an id, a number, a stage ("overtalelse") or "random"; None if nothing fits."""
    from bot.engine.lookup import find_stage

    folded = fold_phrase(arg or "")
    if not folded:
        return None
    kb = ctx.kb
    cases = cases_in_order(kb)
    if not cases:
        return None
    key = folded[5:] if folded.startswith("case_") else folded
    key = key.replace(" ", "_")
    if kb.get("cases", key) is not None:
        return kb.get("cases", key)
    number = key.lstrip("#").removeprefix("nr").removeprefix("kasus").removeprefix("case").strip("_")
    if number.isdecimal() and len(number) <= 9:
        return next((c for c in cases if c.number == int(number)), None)
    if folded in RANDOM_WORDS:
        return _rng(ctx, "random").choice(cases)
    stage = find_stage(ctx, arg)
    if stage is not None:
        in_stage = [c for c in cases if stage_of(kb, c) == stage]
        return _rng(ctx, stage).choice(in_stage) if in_stage else None
    return None


def current_case(ctx: Ctx) -> Case | None:
    case_id = ctx.conv.data.get("case_id")
    return ctx.kb.get("cases", case_id) if case_id else None


def pick_case(ctx: Ctx) -> Case | None:
    """The case the student asked for: by the choices in the flow, else by the deep link, else random."""
    kb, answers = ctx.kb, ctx.conv.answers
    cases = cases_in_order(kb)
    mode = answers.get(MODE_STEP)
    if mode == "number":
        wanted = str(answers.get(NUMBER_STEP, "")).lstrip("c")
        found = next((c for c in cases if str(c.number) == wanted), None)
        if found is not None:
            return found
    if mode == "stage":
        in_stage = [c for c in cases if stage_of(kb, c) == answers.get(STAGE_STEP)]
        if in_stage:
            return _rng(ctx, "stage").choice(in_stage)
    if mode is None and ctx.conv.data.get("case"):
        found = find_case(ctx, str(ctx.conv.data["case"]))
        if found is not None:
            return found
    return _rng(ctx, "random").choice(cases) if cases else None


def option_ids(kb: KnowledgeBase, case: Case) -> tuple[list[str], list[str]]:
    """The interventions and traps offered for ``case``: its own plus distractors, in a fixed order.

    Distractors are never from the case's stage, and never entries listed for three or more stages
    (too general to be clearly wrong), so every option is either right or clearly not. Distracting
    traps are mostly from other stages too; a few from the same stage test the reading of the case.
    """
    rng = random.Random(case.id)
    stage = stage_of(kb, case)
    fitting = [i for i in case.interventions if kb.get("interventions", i) is not None]
    others = sorted(i.id for i in kb.all("interventions")
                    if stage not in i.stages and len(set(i.stages)) <= GENERAL_STAGES and i.id not in fitting)
    wanted = max(MIN_DISTRACTORS, INTERVENTION_OPTIONS - len(fitting))
    interventions = fitting + rng.sample(others, min(wanted, len(others)))
    rng.shuffle(interventions)

    present = [t for t in case.traps if kb.get("traps", t) is not None]
    absent = [t for t in kb.all("traps") if t.id not in present and len(set(t.stages)) <= GENERAL_STAGES]
    same = sorted(t.id for t in absent if stage in t.stages)
    other = sorted(t.id for t in absent if stage not in t.stages)
    wanted = max(MIN_DISTRACTORS, TRAP_OPTIONS - len(present))
    from_same = rng.sample(same, min(len(same), wanted // 3))
    from_other = rng.sample(other, min(len(other), wanted - len(from_same)))
    traps = present + from_same + from_other
    rng.shuffle(traps)
    return interventions, traps


def use_case(ctx: Ctx, case: Case) -> None:
    """Make ``case`` the current one; a new case starts a new attempt."""
    data = ctx.conv.data
    if data.get("case_id") == case.id and "intervention_options" in data:
        return
    interventions, traps = option_ids(ctx.kb, case)
    data.update(case_id=case.id, intervention_options=interventions, trap_options=traps, attempt={})


def case_given(ctx: Ctx) -> bool:
    """True when the practice was started for a named case (deep link or ``/ov 12``) that exists."""
    arg = ctx.conv.data.get("case")
    return bool(arg) and find_case(ctx, str(arg)) is not None


def case_unknown_block(ctx: Ctx) -> list[Reply]:
    arg = ctx.conv.data.get("case")
    if not arg or find_case(ctx, str(arg)) is not None:
        return []
    return [Reply(text=ctx.ui("practice_unknown_case", case=str(arg)[:40]))]


def vignette_reply(ctx: Ctx, case: Case) -> Reply:
    title = ctx.ui("practice_case_title", number=case.number, title=case.title.get(ctx.lang))
    return Reply(title=title, text=case.vignette.get(ctx.lang))


def case_block(ctx: Ctx) -> list[Reply]:
    case = pick_case(ctx)
    if case is None:
        return [Reply(text=ctx.ui("practice_no_cases"))]
    use_case(ctx, case)
    return [vignette_reply(ctx, case)]


def case_replies(ctx: Ctx) -> list[Reply]:
    """``/kasus``: the vignette of the case being practised, again."""
    case = current_case(ctx) if ctx.conv.flow == FLOW else None
    if case is None:
        return [Reply(text=ctx.ui("practice_no_current_case"))]
    return [vignette_reply(ctx, case)]


# ---------------------------------------------------------------- options
def case_options(ctx: Ctx) -> list[tuple[str, str, list[str]]]:
    return [(f"c{c.number}", f"{c.number}. {c.title.get(ctx.lang)}", [c.id, c.title.nb, c.title.en])
            for c in cases_in_order(ctx.kb)]


def level_label(ctx: Ctx, level: int) -> str:
    return f"SATS {level} – {ctx.kb.levels[level].title.get(ctx.lang)}"


def level_options(ctx: Ctx) -> list[tuple[str, str, list[str]]]:
    return [(f"sats_{n}", f"{n} – {lvl.title.get(ctx.lang)}", [f"sats {n}", lvl.title.nb, lvl.title.en, *lvl.synonyms])
            for n, lvl in sorted(ctx.kb.levels.items())]


def _entry_options(ctx: Ctx, collection: str, ids: list[str], prefix: str) -> list[tuple[str, str, list[str]]]:
    out = []
    for index, item_id in enumerate(ids):
        entry = ctx.kb.get(collection, item_id)
        if entry is not None:
            out.append((f"{prefix}{index}", entry.title.get(ctx.lang), [entry.title.nb, entry.title.en, *entry.synonyms]))
    return out


def intervention_options(ctx: Ctx) -> list[tuple[str, str, list[str]]]:
    return _entry_options(ctx, "interventions", ctx.conv.data.get("intervention_options") or [], "i")


def trap_options(ctx: Ctx) -> list[tuple[str, str, list[str]]]:
    return _entry_options(ctx, "traps", ctx.conv.data.get("trap_options") or [], "t")


def _chosen_ids(ctx: Ctx, step: str, listed: str, prefix: str) -> list[str]:
    ids = ctx.conv.data.get(listed) or []
    out = []
    for key in ctx.conv.answers.get(step) or []:
        index = key[len(prefix):] if isinstance(key, str) and key.startswith(prefix) else ""
        if index.isdigit() and int(index) < len(ids):
            out.append(ids[int(index)])
    return out


# ---------------------------------------------------------------- grading
def tree_path(kb: KnowledgeBase, level: int) -> list[tuple[str, str]]:
    """The yes/no answers in the SATS tree that lead to ``level`` (empty if no plain path does)."""
    tree = kb.sats_tree
    nodes = {q.id: q for q in tree.questions}

    def search(node_id: str, path: list[tuple[str, str]], seen: set[str]) -> list[tuple[str, str]] | None:
        if node_id in seen or node_id not in nodes:
            return None
        node = nodes[node_id]
        for answer in ("yes", "no"):
            branch = getattr(node, answer)
            here = [*path, (node_id, answer)]
            if branch.level == level:
                return here
            if branch.next is not None:
                found = search(branch.next, here, seen | {node_id})
                if found is not None:
                    return found
        return None

    return search(tree.root, [], set()) or []


def why_not(ctx: Ctx, gold: int, chosen: int) -> list[str]:
    """Why ``chosen`` does not fit a case at ``gold``: what that level needs, and the deciding question."""
    kb = ctx.kb
    lines = [ctx.ui("practice_level_needs", level=level_label(ctx, chosen),
                    deciding=kb.levels[chosen].deciding.get(ctx.lang))]
    gold_path, chosen_path = dict(tree_path(kb, gold)), tree_path(kb, chosen)
    questions = {q.id: q for q in kb.sats_tree.questions}
    for qid, answer in chosen_path:
        if gold_path.get(qid) not in (None, answer):
            labels = {a: ctx.ui(f"answer_{a}") for a in ANSWERS}
            lines.append(ctx.ui("practice_tree_split", question=questions[qid].question.get(ctx.lang),
                                chosen=labels[answer], gold=labels[gold_path[qid]], level=chosen))
            break
    direction = "practice_too_far" if chosen > gold else "practice_not_far_enough"
    lines.append(ctx.ui(direction))
    return lines


def level_score(kb: KnowledgeBase, gold: int, chosen: int | None) -> float:
    if chosen is None:
        return 0.0
    if chosen == gold:
        return 1.0
    return SAME_STAGE_CREDIT if kb.levels[chosen].stage == kb.levels[gold].stage else 0.0


def choice_score(right: set[str], chosen: list[str]) -> float:
    """Partial credit: (right choices − wrong choices) / all right ones, never below 0.

    With nothing to find, choosing nothing is full marks and each wrong choice costs half.
    """
    hits = len(right & set(chosen))
    wrong = len(set(chosen) - right)
    if not right:
        return max(0.0, 1.0 - 0.5 * wrong)
    return max(0.0, (hits - wrong) / len(right))


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def _percent(value: float) -> str:
    return f"{round(value * 100)} %"


def _remember(ctx: Ctx, part: str, value: Any) -> list[str]:
    """The first answer to each part counts for the score (going back to change it is for learning).

    Returns a note to show when this answer is not the one that counts.
    """
    kept = ctx.conv.data.setdefault("attempt", {}).setdefault(part, value)
    return [] if kept == value else [ctx.ui("practice_first_counts")]


def _stage_names(ctx: Ctx, stage_ids: list[str]) -> str:
    return ", ".join(ctx.title_of("stages", s) for s in stage_ids)


def level_feedback(ctx: Ctx) -> list[Reply]:
    case = current_case(ctx)
    answer = str(ctx.conv.answers.get(LEVEL_STEP, ""))
    if case is None or not answer.startswith("sats_"):
        return [Reply(text=ctx.ui("practice_no_current_case"))]
    kb, gold, chosen = ctx.kb, case.sats_level, int(answer[5:])
    note = _remember(ctx, "level", chosen)
    stage = ctx.title_of("stages", stage_of(kb, case))
    if chosen == gold:
        title = ctx.ui("practice_level_right", level=level_label(ctx, gold), stage=stage)
    else:
        title = ctx.ui("practice_level_wrong", level=level_label(ctx, gold), stage=stage)
    parts = [ctx.ui("practice_deciding_facts") + "\n" + "\n".join(f"• {f.get(ctx.lang)}" for f in case.deciding_facts)]
    if chosen != gold:
        if kb.levels[chosen].stage == kb.levels[gold].stage:
            parts.append(ctx.ui("practice_same_stage"))
        parts.append(ctx.ui("practice_you_chose", level=level_label(ctx, chosen)) + "\n" + "\n".join(why_not(ctx, gold, chosen)))
    if len(case.substances) > 1:
        parts.append(ctx.ui("practice_worst_substance"))
    return [Reply(title=title, text="\n\n".join(parts + note))]


def _graded_feedback(ctx: Ctx, collection: str, step: str, listed: str, prefix: str,
                     right_of: Callable[[Case], list[str]],
                     line_for: Callable[[Any, bool, bool], str | None],
                     ) -> tuple[list[str], list[str], float, set[str], list[str]]:
    """Shared scoring of a multi-select practice step: (chosen, lines, score, right, note).

    ``line_for(entry, chosen, right)`` writes the line for one offered option, or None to leave it out.
    """
    case = current_case(ctx)
    assert case is not None
    chosen = _chosen_ids(ctx, step, listed, prefix)
    right = {i for i in right_of(case) if ctx.kb.get(collection, i) is not None}
    score = choice_score(right, chosen)
    note = _remember(ctx, collection, score)
    lines = []
    for item_id in ctx.conv.data.get(listed) or []:
        entry = ctx.kb.get(collection, item_id)
        if entry is not None:
            line = line_for(entry, item_id in chosen, item_id in right)
            if line is not None:
                lines.append(line)
    return chosen, lines, score, right, note


def intervention_feedback(ctx: Ctx) -> list[Reply]:
    case = current_case(ctx)
    if case is None:
        return [Reply(text=ctx.ui("practice_no_current_case"))]
    kb, lang = ctx.kb, ctx.lang
    stage_id = stage_of(kb, case)
    rank = {s.id: s.order for s in kb.stages_in_order}
    left_out: list[str] = []

    def line_for(entry: Any, chosen: bool, fitting: bool) -> str | None:
        title = entry.title.get(lang)
        if chosen and fitting:
            return f"✓ {title} – {ctx.ui('practice_fits')} {_first_sentence(entry.why.get(lang))}"
        if chosen:
            later = all(rank.get(s, 0) > rank[stage_id] for s in entry.stages)
            hint = ctx.ui("practice_too_early" if later else "practice_too_late")
            return f"✗ {title} – {ctx.ui('practice_belongs_to', stages=_stage_names(ctx, entry.stages))} {hint}"
        if fitting:
            return f"○ {title} – {ctx.ui('practice_also_fits')} {_first_sentence(entry.why.get(lang))}"
        left_out.append(title)
        return None

    chosen, lines, score, fitting, note = _graded_feedback(
        ctx, "interventions", INTERVENTION_STEP, "intervention_options", "i", lambda c: c.interventions, line_for)
    text = "\n".join(lines)
    if left_out:
        text += "\n\n" + ctx.ui("practice_left_out", items="; ".join(left_out))
    text += "".join("\n\n" + n for n in note)
    title = ctx.ui("practice_intervention_score", score=_percent(score), hits=len(fitting & set(chosen)),
                   total=len(fitting), wrong=len(set(chosen) - fitting))
    return [Reply(title=title, text=text)]


def trap_feedback(ctx: Ctx) -> list[Reply]:
    if current_case(ctx) is None:
        return [Reply(text=ctx.ui("practice_no_current_case"))]
    lang = ctx.lang

    def line_for(entry: Any, chosen: bool, present: bool) -> str | None:
        title = entry.title.get(lang)
        instead = f"{ctx.ui('practice_instead')} {_first_sentence(entry.instead.get(lang))}"
        if chosen and present:
            return f"✓ {title} – {instead}"
        if chosen:
            return f"✗ {title} – {ctx.ui('practice_trap_absent')}"
        if present:
            return f"○ {title} – {ctx.ui('practice_trap_missed')} {_first_sentence(entry.why_harmful.get(lang))} {instead}"
        return None

    chosen, lines, score, present, note = _graded_feedback(
        ctx, "traps", TRAP_STEP, "trap_options", "t", lambda c: c.traps, line_for)
    if not present:
        lines.insert(0, ctx.ui("practice_no_traps"))
    title = ctx.ui("practice_trap_score", score=_percent(score), hits=len(present & set(chosen)),
                   total=len(present), wrong=len(set(chosen) - present))
    return [Reply(title=title, text="\n".join(lines + [""] * bool(note) + note))]


def total_score(kb: KnowledgeBase, gold: int, attempt: dict[str, Any]) -> int:
    level = level_score(kb, gold, attempt.get("level"))
    return round(WEIGHTS["level"] * level + WEIGHTS["interventions"] * float(attempt.get("interventions") or 0)
                 + WEIGHTS["traps"] * float(attempt.get("traps") or 0))


def final_block(ctx: Ctx) -> list[Reply]:
    case = current_case(ctx)
    if case is None:
        return [Reply(text=ctx.ui("practice_no_current_case"))]
    kb, lang = ctx.kb, ctx.lang
    attempt = dict(ctx.conv.data.get("attempt") or {})
    chosen = attempt.get("level")
    total = total_score(kb, case.sats_level, attempt)
    lines = [
        ctx.ui("practice_part_level", chosen=level_label(ctx, chosen) if chosen else "–",
               gold=level_label(ctx, case.sats_level)),
        ctx.ui("practice_part_interventions", score=_percent(float(attempt.get("interventions") or 0))),
        ctx.ui("practice_part_traps", score=_percent(float(attempt.get("traps") or 0))),
    ]
    replies = [Reply(title=ctx.ui("practice_total", score=total), text="\n".join(lines))]
    if case.questions:
        questions = "\n".join(f"{n}. {q.get(lang)}" for n, q in enumerate(case.questions, 1))
        replies.append(Reply(title=ctx.ui("practice_questions"), text=questions))
    replies.append(Reply(text=ctx.ui("practice_next")))
    ctx.effects.append(SavePractice(case.id, case.sats_level, chosen, attempt.get("interventions"),
                                    attempt.get("traps")))
    return replies


# -------------------------------------------------------------- reflection
def _webinar_groups(kb: KnowledgeBase) -> list[list[Any]]:
    """Webinars with reflection questions, the parts of one webinar together when they share them."""
    groups: dict[tuple, list[Any]] = {}
    for webinar in sorted(kb.all("webinars"), key=lambda w: (w.number, w.part)):
        if webinar.reflection:
            key = (webinar.number, tuple(q.en for q in webinar.reflection))
            groups.setdefault(key, []).append(webinar)
    return list(groups.values())


def _webinars_about(kb: KnowledgeBase, args: str) -> list[Any]:
    """The webinar whose title, topic, synonyms or questions mention the words in ``args`` most."""
    words = [w for w in fold_phrase(args).split() if len(w) > 2]
    best, best_score = [], 0
    for group in _webinar_groups(kb):
        first = group[0]
        texts = [first.title.nb, first.title.en, first.topic.nb, first.topic.en, *first.synonyms,
                 *(q.nb + " " + q.en for q in first.reflection)]
        haystack = fold_phrase(" ".join(texts))
        score = sum(3 if word in fold_phrase(" ".join(first.synonyms)) else 1 for word in words if word in haystack)
        if score > best_score:
            best, best_score = group, score
    return best


def reflection_replies(ctx: Ctx, args: str) -> list[Reply]:
    """``/refleksjon [webinar]``: the reflection questions of a webinar, for a group discussion."""
    kb, lang = ctx.kb, ctx.lang
    groups = _webinar_groups(kb)
    if not args.strip():
        lines = [f"• /{ctx.ui('reflection_command')} {g[0].number}: {g[0].topic.get(lang)} ({len(g[0].reflection)})"
                 for g in groups]
        return [Reply(title=ctx.ui("reflection_title"), text=ctx.ui("reflection_intro") + "\n\n" + "\n".join(lines))]
    wanted = fold_phrase(args).replace(" ", "").replace(".", "").replace("_", "")
    chosen = [w for w in kb.all("webinars") if wanted in (str(w.number), f"{w.number}{w.part}")]
    if not chosen:
        chosen = _webinars_about(kb, args)
    if not chosen:
        return [Reply(text=ctx.ui("no_match", query=args[:60]))] + reflection_replies(ctx, "")
    with_questions = [w for w in chosen if w.reflection]
    if not with_questions:
        names = ", ".join(str(g[0].number) for g in groups)
        return [Reply(text=ctx.ui("reflection_none", webinar=chosen[0].topic.get(lang), available=names))]
    shown: list[str] = []
    for webinar in sorted(with_questions, key=lambda w: w.part):
        for question in webinar.reflection:
            if question.get(lang) not in shown:
                shown.append(question.get(lang))
    first = with_questions[0]
    title = ctx.ui("reflection_webinar", number=first.number, topic=first.topic.get(lang))
    text = "\n".join(f"{n}. {q}" for n, q in enumerate(shown, 1)) + "\n\n" + ctx.ui("reflection_hint")
    return [Reply(title=title, text=text)]
