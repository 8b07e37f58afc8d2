"""The content blocks and option helpers of the assessment flow, named in ``conversations/``.

Which name a flow may use for which function is listed in :mod:`bot.engine.catalogue`.
"""

from __future__ import annotations

from bot.engine.context import Ctx
from bot.engine.replies import Option, Reply
from bot.engine.suggest import suggested_focus


def bullet_list(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def screening_block(ctx: Ctx) -> list[Reply]:
    """Screening and assessment suggestions when co-occurrence is uncertain."""
    lines = []
    for tool in ctx.kb.all("screening_tools"):
        line = f"{tool.title.get(ctx.lang)}: {tool.description.get(ctx.lang)}"
        if tool.who is not None:
            line += f" ({tool.who.get(ctx.lang)})"
        lines.append(line)
    return [Reply(title=ctx.ui("screening_title"), text=ctx.ui("screening_intro") + "\n\n" + bullet_list(lines))]


def crisis_text(kb, lang: str, denmark_first: bool = False) -> tuple[str, str]:
    """Title and body of the what-to-do-now message in ``lang``: Norway first, then Denmark (Denmark
    first for a Danish reader, or when ``denmark_first``)."""
    parts = []
    locales = kb.all("crisis")
    if denmark_first or lang == "da":
        locales = sorted(locales, key=lambda locale: locale.id != "dk")
    for locale in locales:
        steps = bullet_list([s.get(lang) for s in locale.steps])
        numbers = "\n".join(f"☎ {n.number} – {n.name.get(lang)}: {n.when.get(lang)}" for n in locale.numbers)
        parts.append(f"{locale.title.get(lang)}\n{steps}\n\n{numbers}")
    return kb.ui("crisis_title", lang), "\n\n".join(parts)


def crisis_block(ctx: Ctx) -> list[Reply]:
    title, body = crisis_text(ctx.kb, ctx.lang)
    return [Reply(title=title, text=body, urgent=True)]


def element_partners(ctx: Ctx) -> list[tuple[str, str, list[str]]]:
    """Partner services for the focus element being asked about (typical partners first)."""
    element = ctx.kb.get("elements", ctx.item_key())
    partner_ids = list(element.partners) if element is not None else []
    return [(sid, ctx.title_of("services", sid), list(ctx.kb.get("services", sid).synonyms))
            for sid in partner_ids if ctx.kb.get("services", sid) is not None]


def preselect_focus(ctx: Ctx, options: list[Option]) -> list[str]:
    keys = {o.key for o in options}
    return [e for e in suggested_focus(ctx.kb, ctx.conv.answers) if e in keys]


def preselect_all(ctx: Ctx, options: list[Option]) -> list[str]:
    return [o.key for o in options]

