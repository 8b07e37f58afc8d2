"""Named pieces of code a flow may refer to: content blocks, option providers and preselections.

Flows stay data; when a step needs real logic it names one of these. Registering a function here
also makes its name valid for ``kb check`` (see :mod:`bot.engine.flows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.engine import flows as flow_names
from bot.engine.context import Ctx
from bot.engine.replies import Option, Reply
from bot.engine.suggest import suggested_focus

ContentBlock = Callable[[Ctx], list[Reply]]
OptionProvider = Callable[[Ctx], list[tuple[str, str, list[str]]]]
Preselection = Callable[[Ctx, list[Option]], list[str]]
Condition = Callable[[Ctx], bool]
F = TypeVar("F", bound=Callable[..., Any])

CONTENT: dict[str, ContentBlock] = {}
PROVIDERS: dict[str, OptionProvider] = {}
PRESELECT: dict[str, Preselection] = {}
PURE_PROVIDERS: set[str] = set()
"""Providers whose options depend only on the knowledge, the language and the item being asked about:
the engine builds them once per loaded knowledge (a step's options are read several times per update)."""
CONDITIONS: dict[str, Condition] = {}


def _registrar(table: dict[str, Any], valid_names: set[str], name: str) -> Callable[[F], F]:
    """A decorator storing a function under ``name`` and making the name valid in flows."""
    def register(func: F) -> F:
        table[name] = func
        valid_names.add(name)
        return func
    return register


def content(name: str) -> Callable[[ContentBlock], ContentBlock]:
    return _registrar(CONTENT, flow_names.CONTENT_BLOCKS, name)


def provider(name: str, pure: bool = False) -> Callable[[OptionProvider], OptionProvider]:
    """Register an option provider; ``pure`` when it reads nothing of the user but the current item."""
    if pure:
        PURE_PROVIDERS.add(name)
    return _registrar(PROVIDERS, flow_names.OPTION_PROVIDERS, name)


def preselection(name: str) -> Callable[[Preselection], Preselection]:
    return _registrar(PRESELECT, flow_names.PRESELECTIONS, name)


def condition(name: str) -> Callable[[Condition], Condition]:
    """A named test a step's ``skip_if`` may use (the step is skipped when it returns True)."""
    return _registrar(CONDITIONS, flow_names.CONDITIONS, name)


def bullet_list(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


@content("screening")
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


@content("crisis")
def crisis_block(ctx: Ctx) -> list[Reply]:
    title, body = crisis_text(ctx.kb, ctx.lang)
    return [Reply(title=title, text=body, urgent=True)]


@provider("element_partners", pure=True)
def element_partners(ctx: Ctx) -> list[tuple[str, str, list[str]]]:
    """Partner services for the focus element being asked about (typical partners first)."""
    element = ctx.kb.get("elements", ctx.item_key())
    partner_ids = list(element.partners) if element is not None else []
    return [(sid, ctx.title_of("services", sid), list(ctx.kb.get("services", sid).synonyms))
            for sid in partner_ids if ctx.kb.get("services", sid) is not None]


@preselection("focus_suggestions")
def preselect_focus(ctx: Ctx, options: list[Option]) -> list[str]:
    keys = {o.key for o in options}
    return [e for e in suggested_focus(ctx.kb, ctx.conv.answers) if e in keys]


@preselection("all")
def preselect_all(ctx: Ctx, options: list[Option]) -> list[str]:
    return [o.key for o in options]


from bot.engine import practice  # noqa: E402,F401 - registers the practice blocks (kept last: it uses the decorators)
