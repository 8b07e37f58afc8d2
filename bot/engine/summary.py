"""The end of an assessment: "where to start", as messages and as a journal-ready document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.assessment.sats import TreeResult
from bot.engine.context import Ctx
from bot.engine.replies import Document, Reply
from bot.engine.suggest import (
    SubstanceResult,
    overall_level,
    ranked_interventions,
    ranked_traps,
    substance_results,
)

STEPS_READ = frozenset({"focus", "life_areas", "partners", "acute_risk", "severity", "covered"})
"""The assessment flow's step ids the summary reads by name (``conversations/assessment.yaml`` declares them)."""
MAX_RESOURCES = 6
MAX_RESEARCH = 5


@dataclass
class Section:
    title: str
    lines: list[str]

    def text(self, bullet: str = "• ") -> str:
        return "\n".join(f"{bullet}{line}" for line in self.lines)


def level_label(ctx: Ctx, result: TreeResult) -> str:
    """"SATS 3 – early persuasion (persuasion; contemplation)" or a range when undecided."""
    kb, lang = ctx.kb, ctx.lang
    if result.level is not None:
        level = kb.levels[result.level]
        stage = kb.stage_of_level(result.level)
        change = kb.get("change_stages", level.change_stage)
        return f"SATS {level.level} – {level.title.get(lang)} ({stage.title.get(lang)}; {change.title.get(lang)})"
    low, high = result.low, result.high
    stages = {kb.stage_of_level(n).title.get(lang) for n in range(low, high + 1)}
    return ctx.ui("level_range", low=low, high=high, stages=", ".join(sorted(stages)))


def decided_by_text(ctx: Ctx, result: TreeResult) -> str:
    questions = {q.id: q for q in ctx.kb.sats_tree.questions}
    labels = {"yes": ctx.ui("answer_yes"), "no": ctx.ui("answer_no"), "unsure": ctx.ui("answer_unsure")}
    return "\n".join(f"  – {questions[q].question.get(ctx.lang)} {labels[a]}" for q, a in result.decided_by)


def result_reply(ctx: Ctx, substance: str, result: TreeResult) -> Reply:
    """Shown after the tree for one substance: the level, stage, stage of change and why."""
    name = ctx.title_of("substances", substance)
    body = level_label(ctx, result) + "\n\n" + ctx.ui("decided_by") + "\n" + decided_by_text(ctx, result)
    if result.find_out is not None:
        body += "\n\n" + ctx.ui("find_out") + " " + result.find_out.find_out.get(ctx.lang)
    return Reply(title=ctx.ui("stage_result_title", substance=name), text=body)


def build_sections(ctx: Ctx) -> tuple[list[Section], dict[str, Any]]:
    """The summary's sections and the structured record stored for the user (no free text)."""
    kb, lang, answers = ctx.kb, ctx.lang, ctx.conv.answers
    results = substance_results(kb, answers)
    low, high = overall_level(results)
    level = low if low is not None else 1
    stage = kb.stage_of_level(level)
    focus = list(answers.get("focus") or [])
    affected = list(answers.get("life_areas") or [])
    sections: list[Section] = []
    sections.append(Section(ctx.ui("sum_stage"), [f"{ctx.title_of('substances', r.substance)}: {level_label(ctx, r.result)}"
                                                  for r in results] or [ctx.ui("sum_no_stage")]))
    sections.append(Section(ctx.ui("sum_goal", stage=stage.title.get(lang)), [stage.goal.get(lang)]))
    others = other_stage_lines(ctx, results, stage.id)
    if others:
        sections.append(Section(ctx.ui("sum_other_stages"), others))
    interventions = ranked_interventions(kb, stage.id, focus, affected)
    sections.append(Section(ctx.ui("sum_interventions"),
                            [f"{i.title.get(lang)}: {i.summary.get(lang)}" for i in interventions]))
    traps = ranked_traps(kb, stage.id, focus)
    sections.append(Section(ctx.ui("sum_traps"),
                            [f"{t.title.get(lang)}: {t.instead.get(lang)}" for t in traps]))
    partners = answers.get("partners") or {}
    partner_lines = []
    for element_id in focus:
        chosen = partners.get(element_id) or []
        if chosen:
            names = ", ".join(ctx.title_of("services", s) for s in chosen)
            partner_lines.append(f"{ctx.title_of('elements', element_id)}: {names}")
    sections.append(Section(ctx.ui("sum_partners"), partner_lines or [ctx.ui("sum_none")]))
    sections.append(Section(ctx.ui("sum_resources"), resource_lines(ctx, interventions, focus)))
    sections.append(Section(ctx.ui("sum_research"), research_lines(ctx, interventions, focus)))
    if answers.get("acute_risk") in ("yes", "unsure"):
        sections.insert(0, Section(ctx.ui("sum_acute"), [ctx.ui("sum_acute_text")]))
    record = {
        "stage": stage.id if low is not None else None,
        "sats_level": low if low == high else None,
        "sats_range": [low, high] if low is not None else None,
        "substances": {r.substance: {"low": r.result.low, "high": r.result.high, "answers": dict(r.result.decided_by)}
                       for r in results},
        "severity": answers.get("severity"),
        "life_areas": affected,
        "acute_risk": answers.get("acute_risk"),
        "covered": list(answers.get("covered") or []),
        "focus": focus,
        "partners": {k: list(v) for k, v in partners.items()},
        "interventions": [i.id for i in interventions],
        "traps": [t.id for t in traps],
    }
    return sections, record


def other_stage_lines(ctx: Ctx, results: list[SubstanceResult], stage_id: str) -> list[str]:
    """Substances further along than the one the plan is built on: where to look for their interventions."""
    lines = []
    for r in results:
        if r.result.level is None:
            continue
        other = ctx.kb.stage_of_level(r.result.level)
        if other.id != stage_id:
            command = "/tiltak" if ctx.lang == "nb" else "/interventions"
            lines.append(ctx.ui("sum_other_stage_line", substance=ctx.title_of("substances", r.substance),
                                stage=other.title.get(ctx.lang), command=f"{command} {other.title.get(ctx.lang)}"))
    return lines


def resource_lines(ctx: Ctx, interventions, focus: list[str]) -> list[str]:
    ids: list[str] = []
    for owner in [*interventions, *(ctx.kb.get("elements", e) for e in focus)]:
        for rid in getattr(owner, "resources", []) or []:
            if rid not in ids:
                ids.append(rid)
    lines = []
    for rid in ids[:MAX_RESOURCES]:
        res = ctx.kb.get("resources", rid)
        if res is not None:
            lines.append(f"{res.title.get(ctx.lang)}" + (f" – {res.url}" if res.url else ""))
    return lines or [ctx.ui("sum_none")]


def research_lines(ctx: Ctx, interventions, focus: list[str]) -> list[str]:
    topics: list[str] = []
    for owner in [*(ctx.kb.get("elements", e) for e in focus), *interventions]:
        for tid in getattr(owner, "research_topics", []) or []:
            if tid not in topics:
                topics.append(tid)
    lines = []
    for tid in topics:
        items = ctx.kb.research_by_topic.get(tid)
        if items:
            item = items[0]
            lines.append(f"{item.title} ({item.year}) – {item.link}")
        if len(lines) >= MAX_RESEARCH:
            break
    return lines or [ctx.ui("sum_none")]


def summary_replies(ctx: Ctx) -> tuple[list[Reply], dict[str, Any]]:
    sections, record = build_sections(ctx)
    replies = [Reply(title=s.title, text=s.text()) for s in sections]
    header = ctx.ui("sum_title")
    doc_lines = [f"# {header}", "", ctx.ui("sum_disclaimer"), ""]
    for section in sections:
        doc_lines += [f"## {section.title}", "", section.text("- "), ""]
    document = Document(filename=ctx.ui("sum_filename") + ".md", content="\n".join(doc_lines))
    replies.append(Reply(title=header, text=ctx.ui("sum_document_note"), document=document))
    return replies, record
