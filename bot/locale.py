"""The one mapping from a client's language code (Telegram's ``language_code``, ``--lang``) to the
language the bot answers in. Every front end and the service use :func:`lang_of`."""

from __future__ import annotations

SCANDINAVIAN = {"nb": "nb", "no": "nb", "nn": "nb", "sv": "nb", "da": "da"}
"""Norwegian in any written form, and Swedish, which reads bokmål easily; Danish gets Danish texts
where they exist and bokmål elsewhere."""


def lang_of(language_code: str | None, default: str = "nb") -> str:
    """``nb``, ``da`` or ``en`` for a code such as "nb", "da-DK", "en-GB" or "de".

    No code at all gives ``default`` (the deployment's language); any other language gets English,
    the language a German or Polish colleague is likelier to read than bokmål.
    """
    if not language_code:
        return default
    return SCANDINAVIAN.get(language_code.strip().lower()[:2], "en")
