"""Look-up answers (J2): stages, interventions, traps, elements, resources, research, webinars, terms.

Every answer is built from the knowledge base; buttons open an entry (``o:<collection>:<id>``).
"""

from __future__ import annotations

from typing import Any

from bot.engine import content
from bot.engine.context import Ctx
from bot.engine.replies import Option, Reply
from bot.knowledge.models import field_value
from bot.knowledge.search import SearchHit
from bot.language.text import fold_phrase

OPEN_PREFIX = "o:"
OPEN_TOKEN = "L"
CODES = {"stages": "st", "sats_levels": "sl", "change_stages": "cs", "interventions": "iv", "traps": "tr",
         "elements": "el", "services": "sv", "resources": "rs", "research": "rf", "research_topics": "rt",
         "webinars": "wb", "chapters": "ch", "glossary": "gl", "core_questions": "cq", "screening_tools": "to",
         "articles": "ar", "fidelity_items": "fi", "risks": "rk"}
COLLECTION_OF = {code: name for name, code in CODES.items()}
MAX_BUTTONS = 6


def open_key(collection: str, item_id: str) -> str:
    return f"{OPEN_PREFIX}{CODES[collection]}:{item_id}"


def open_button(ctx: Ctx, collection: str, item_id: str) -> Option:
    entry = ctx.kb.get(collection, item_id)
    title = entry.title if isinstance(entry.title, str) else entry.title.get(ctx.lang)
    return Option(open_key(collection, item_id), title[:60])


def find_stage(ctx: Ctx, text: str) -> str | None:
    """A stage id named by ``text`` (stage names, synonyms, SATS numbers), if any."""
    folded = fold_phrase(text)
    if not folded:
        return None
    if folded.isdecimal() and len(folded) <= 9 and ctx.kb.levels.get(int(folded)):
        return ctx.kb.levels[int(folded)].stage
    _, stage, _ = ctx.kb.index._detect(text)
    if stage:
        return stage
    hits = [h for h in ctx.kb.index.search(text, ctx.lang, 3) if h.collection in ("stages", "sats_levels")]
    return hits[0].stage if hits and hits[0].score >= 80 else None


def stages_overview(ctx: Ctx) -> list[Reply]:
    lines = []
    for stage in ctx.kb.stages_in_order:
        levels = ", ".join(f"{n} {ctx.kb.levels[n].title.get(ctx.lang)}" for n in stage.sats_levels if n in ctx.kb.levels)
        lines.append(f"• {stage.title.get(ctx.lang)} (SATS {levels}): {stage.goal.get(ctx.lang)}")
    options = [open_button(ctx, "stages", s.id) for s in ctx.kb.stages_in_order]
    return [Reply(title=ctx.ui("stages_title"), text="\n".join(lines), options=options, token=OPEN_TOKEN)]


def stage_detail(ctx: Ctx, args: str) -> list[Reply]:
    stage_id = find_stage(ctx, args)
    if stage_id is None:
        return [Reply(text=ctx.ui("which_stage"))] + stages_overview(ctx)
    return entry_replies(ctx, "stages", stage_id)


def _stage_list(ctx: Ctx, args: str, collection: str, title_key: str) -> list[Reply]:
    stage_id = find_stage(ctx, args) if args else None
    if args and stage_id is None:
        return [Reply(text=ctx.ui("which_stage"))] + stages_overview(ctx)
    stages = [stage_id] if stage_id else [s.id for s in ctx.kb.stages_in_order]
    replies = []
    for sid in stages:
        entries = ctx.kb.interventions_for(sid) if collection == "interventions" else ctx.kb.traps_for(sid)
        stage_title = ctx.kb.get("stages", sid).title.get(ctx.lang)
        if collection == "interventions":
            lines = [f"• {e.title.get(ctx.lang)}: {e.summary.get(ctx.lang)}" for e in entries]
        else:
            lines = [f"• {e.title.get(ctx.lang)}: {e.looks_like.get(ctx.lang)} → {e.instead.get(ctx.lang)}" for e in entries]
        if not stage_id:
            lines = [line.split(":")[0] for line in lines]
        options = [open_button(ctx, collection, e.id) for e in entries[:MAX_BUTTONS]]
        replies.append(Reply(title=ctx.ui(title_key, stage=stage_title), text="\n".join(lines) or ctx.ui("sum_none"),
                             options=options, token=OPEN_TOKEN))
    return replies


def interventions(ctx: Ctx, args: str) -> list[Reply]:
    return _stage_list(ctx, args, "interventions", "interventions_title")


def traps(ctx: Ctx, args: str) -> list[Reply]:
    return _stage_list(ctx, args, "traps", "traps_title")


def _named(ctx: Ctx, args: str, collection: str, list_title: str) -> list[Reply]:
    """One entry of ``collection`` named by ``args``, or the list of them."""
    if args:
        hits = [h for h in ctx.kb.index.search(args, ctx.lang, 10) if h.collection == collection]
        if hits and hits[0].score >= 70:
            return entry_replies(ctx, collection, hits[0].id)
        return [Reply(text=ctx.ui("no_match", query=args[:60]))] + _named(ctx, "", collection, list_title)
    entries = ctx.kb.all(collection)
    lines = [f"• {e.title if isinstance(e.title, str) else e.title.get(ctx.lang)}" for e in entries]
    return [Reply(title=ctx.ui(list_title), text="\n".join(lines))]


def element(ctx: Ctx, args: str) -> list[Reply]:
    return _named(ctx, args, "elements", "elements_title")


def glossary(ctx: Ctx, args: str) -> list[Reply]:
    if not args:
        terms = ", ".join(sorted(t.term for t in ctx.kb.all("glossary")))
        return [Reply(title=ctx.ui("glossary_title"), text=terms)]
    return _named(ctx, args, "glossary", "glossary_title")


def resources(ctx: Ctx, args: str) -> list[Reply]:
    entries = ctx.kb.all("resources")
    if args:
        hits = ctx.kb.index.search(args, ctx.lang, 20)
        wanted = {h.id for h in hits if h.collection == "resources" and h.score >= 60}
        elements = {h.id for h in hits if h.collection == "elements" and h.score >= 70}
        entries = [r for r in entries if r.id in wanted or set(r.elements) & elements]
        if not entries:
            return [Reply(text=ctx.ui("no_match", query=args[:60]))] + resources(ctx, "")
    lines = [f"• {r.title.get(ctx.lang)}" + (f" – {r.url}" if r.url else "") for r in entries]
    return [Reply(title=ctx.ui("resources_title"), text="\n".join(lines))]


def research(ctx: Ctx, args: str) -> list[Reply]:
    topics = ctx.kb.all("research_topics")
    if not args:
        lines = [f"• {t.title.get(ctx.lang)} ({sum(1 for r in ctx.kb.all('research') if r.topic == t.id)})" for t in topics]
        return [Reply(title=ctx.ui("research_title"), text=ctx.ui("research_hint") + "\n\n" + "\n".join(lines))]
    hits = ctx.kb.index.search(args, ctx.lang, 20)
    topic_hits = [h for h in hits if h.collection == "research_topics" and h.score >= 75]
    if topic_hits:
        items = [r for r in ctx.kb.all("research") if r.topic == topic_hits[0].id]
        title = topic_hits[0].title
    else:
        items = [ctx.kb.get("research", h.id) for h in hits if h.collection == "research" and h.score >= 60]
        title = ctx.ui("research_title")
    if not items:
        return [Reply(text=ctx.ui("no_match", query=args[:60]))] + research(ctx, "")
    items = sorted(items, key=lambda r: -r.year)
    return [Reply(title=title, text="\n".join(f"• {r.title} ({r.year}) – {r.link}" for r in items))]


def webinars(ctx: Ctx, args: str) -> list[Reply]:
    entries = sorted(ctx.kb.all("webinars"), key=lambda w: (w.number, w.part))
    number = fold_phrase(args).replace(" ", "")
    if number:
        chosen = [w for w in entries if number in (str(w.number), f"{w.number}{w.part}", f"{w.number}_{w.part}")]
        if not chosen:
            return [Reply(text=ctx.ui("no_match", query=args[:60]))] + webinars(ctx, "")
        return [r for w in chosen for r in entry_replies(ctx, "webinars", w.id)]
    lines = [f"• {w.number}.{w.part} {w.title.get(ctx.lang)}" for w in entries]
    return [Reply(title=ctx.ui("webinars_title"), text="\n".join(lines))]


def core_questions(ctx: Ctx) -> list[Reply]:
    entries = sorted(ctx.kb.all("core_questions"), key=lambda q: q.number)
    lines = [f"{q.number}. {q.question.get(ctx.lang)}" for q in entries]
    return [Reply(title=ctx.ui("core_questions_title"), text="\n".join(lines))]


def _text(value: Any, lang: str) -> str | None:
    return value.get(lang) if value is not None and hasattr(value, "get") else None


DETAIL_FIELDS = ("definition", "goal", "summary", "why", "description", "looks_like", "why_harmful", "instead",
                 "contributes", "covers", "body", "question", "help", "deciding")


def entry_replies(ctx: Ctx, collection: str, item_id: str) -> list[Reply]:
    """The full text of one entry, with buttons to what it links to."""
    entry = ctx.kb.get(collection, item_id)
    if entry is None:
        return [Reply(text=ctx.ui("no_match", query=item_id[:40]))]
    if collection == "risks":  # looking up an acute risk answers with what to do now
        return content.crisis_block(ctx)
    lang = ctx.lang
    title = entry.title if isinstance(entry.title, str) else entry.title.get(lang)
    parts = []
    for name in DETAIL_FIELDS:
        value = _text(field_value(entry, name), lang)
        if value:
            parts.append(f"{ctx.ui('field_' + name)}: {value}" if name not in ("summary", "description", "definition", "body") else value)
    for name in ("picture", "find_out", "points", "reflection", "steps"):
        values = field_value(entry, name) or []
        if values:
            parts.append(ctx.ui("field_" + name) + ":\n" + "\n".join(f"• {v.get(lang)}" for v in values))
    for name in ("url", "link"):
        value = field_value(entry, name)
        if value:
            parts.append(value)
    if collection == "research":
        parts.append(f"{entry.year}" + (f" – {entry.authors}" if entry.authors else ""))
    options = related_buttons(ctx, collection, entry)
    return [Reply(title=title, text="\n\n".join(parts) or title, options=options, token=OPEN_TOKEN if options else None)]


RELATED_FIELDS = {"elements": "elements", "partners": "services", "resources": "resources", "stages": "stages",
                  "chapters": "chapters", "research_topics": "research_topics"}


def related_buttons(ctx: Ctx, collection: str, entry: Any) -> list[Option]:
    buttons: list[Option] = []
    for name, target in RELATED_FIELDS.items():
        for ref in field_value(entry, name) or []:
            if ctx.kb.get(target, ref) is not None and len(buttons) < MAX_BUTTONS:
                buttons.append(open_button(ctx, target, ref))
    if collection == "stages":
        for sub in (ctx.kb.interventions_for(entry.id)[:2] + ctx.kb.traps_for(entry.id)[:2]):
            kind = "interventions" if hasattr(sub, "summary") else "traps"
            buttons.append(open_button(ctx, kind, sub.id))
    return buttons


def open_entry(ctx: Ctx, key: str) -> list[Reply]:
    code, _, item_id = key[len(OPEN_PREFIX):].partition(":")
    collection = COLLECTION_OF.get(code)
    if collection is None or ctx.kb.get(collection, item_id) is None:
        return [Reply(text=ctx.ui("moved_on"))]
    return entry_replies(ctx, collection, item_id)


CLEAR_MATCH_SCORE = 75.0
"""Inside a flow, typed text that answers no option is looked up only when it matches this well."""


def _listing_query(ctx: Ctx, query: Any) -> bool:
    """ "feller i overtalelsesfasen", "tiltak engasjement": asks for the list of a kind (at a stage)."""
    return bool(query.kinds) and not query.has_content and query.kinds[0] in ("trap", "intervention")


def _stage_list_replies(ctx: Ctx, query: Any) -> list[Reply]:
    """The list for that stage, as /feller or /tiltak gives it."""
    stage = ctx.kb.get("stages", query.stage).title.get(ctx.lang) if query.stage else ""
    collection = "traps" if query.kinds[0] == "trap" else "interventions"
    return _stage_list(ctx, stage, collection, f"{collection}_title")


def clear_answer(ctx: Ctx, text: str) -> list[Reply] | None:
    """Free text inside a flow: the answer when the knowledge answers it clearly, else None."""
    index = ctx.kb.index
    query = index.analyse(text)
    if _listing_query(ctx, query):
        return _stage_list_replies(ctx, query)
    hits = index.search(query, ctx.lang, SEARCH_HITS)
    if not hits or hits[0].score < CLEAR_MATCH_SCORE:
        return None
    return _hit_replies(ctx, hits)


def _hit_button(ctx: Ctx, hit: SearchHit) -> Option:
    """A button to open a search hit, its kind in brackets ("Motiverende intervju (ordliste)")."""
    kind = ctx.ui(f"kind_{hit.kind}")
    label = hit.title if kind.startswith("kind_") else f"{hit.title[:60 - len(kind) - 3]} ({kind})"
    return Option(open_key(hit.collection, hit.id), label)


SEARCH_HITS = 5


def search_answer(ctx: Ctx, text: str) -> tuple[list[Reply], str | None]:
    """Free text outside a flow: the best matches, or a clear "no good match" with nearby topics.

    Second: when no good answer was found, the nearest entry ("collection:id", or "-") for the usage
    statistics — never the query itself, statistics hold no free text. One search serves both.
    """
    index = ctx.kb.index
    query = index.analyse(text)
    if _listing_query(ctx, query):
        return _stage_list_replies(ctx, query), None
    hits: list[SearchHit] = index.search(query, ctx.lang, SEARCH_HITS)
    if not index.is_good(hits):
        options = [_hit_button(ctx, h) for h in hits[:3]]
        miss = f"{hits[0].collection}:{hits[0].id}" if hits else "-"
        return [Reply(text=ctx.ui("search_no_good", query=text[:60]), options=options, token=OPEN_TOKEN)], miss
    return _hit_replies(ctx, hits), None


def _hit_replies(ctx: Ctx, hits: list[SearchHit]) -> list[Reply]:
    """The top hit in full, and buttons to the other good ones."""
    top = hits[0]
    replies = entry_replies(ctx, top.collection, top.id)
    others = [_hit_button(ctx, h) for h in hits[1:] if h.score >= 60]
    if others:
        replies.append(Reply(text=ctx.ui("search_more"), options=others, token=OPEN_TOKEN))
    return replies
