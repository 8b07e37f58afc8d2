"""What goes into and comes out of the engine: plain data the front ends translate.

Texts are plain (no markup); a front end escapes them and may render ``title`` in bold. Options
carry a short ``key`` that goes back to the engine as ``Incoming.button`` together with the
``token`` of the reply that showed them, so a stale or forged button can be recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from bot.callback_data import BUTTON_DATA_BYTES

__all__ = ["BUTTON_DATA_BYTES", "DONE_KEY", "Document", "Incoming", "Kind", "Option", "Reply"]

# Named tuples rather than frozen dataclasses: just as immutable, and several are built for every
# update (a frozen dataclass's __init__ costs three times as much).


class Option(NamedTuple):
    key: str
    """Short ASCII (an option key, or ``o:<code>:<id>`` to open an entry); with the token it must fit
    Telegram's 64-byte callback data, which the front end checks."""
    label: str
    selected: bool = False


class Document(NamedTuple):
    filename: str
    content: str


class Reply(NamedTuple):
    text: str
    title: str | None = None
    options: Sequence[Option] = ()
    multi: bool = False
    """A multi-select step: buttons toggle a ✓ and a "done" option finishes."""
    token: str | None = None
    """The step version the options belong to; echo it back with a button press."""
    document: Document | None = None
    edit: bool = False
    """Replace the message whose button was pressed (a toggled multi-select) instead of sending anew."""
    urgent: bool = False
    """A crisis answer: the front end must send it first and never drop it."""


Kind = Literal["text", "command", "button", "media", "edited", "failure"]
"""What a user did: typed a message or a command, pressed a button, sent something that is not text
(a photo, a sticker), edited an earlier message; ``failure`` is the front end's own: the update could
not be handled and the user is owed an apology and the open question."""
SCREENED_KINDS = frozenset({"text", "command", "edited"})
"""Kinds that carry the user's own words: the safety screen reads them before anything else."""


class Incoming(NamedTuple):
    """One user action of a typed :data:`Kind`; build it with the constructors below."""

    kind: Kind
    text: str = ""
    button: str | None = None
    token: str | None = None

    @classmethod
    def typed(cls, text: str) -> Incoming:
        """A typed message; a command when it starts with '/'."""
        return cls("command" if text.lstrip().startswith("/") else "text", text)

    @classmethod
    def pressed(cls, button: str, token: str | None) -> Incoming:
        """A button press: the option ``button`` of the reply that carried ``token``."""
        return cls("button", button=button, token=token)

    @classmethod
    def edit(cls, text: str) -> Incoming:
        """The new text of an edited earlier message: screened for safety, then answered with a note;
        it never changes an answer (the step it belonged to may be long past)."""
        return cls("edited", text)

    @classmethod
    def media(cls) -> Incoming:
        return cls("media")

    @classmethod
    def failure(cls) -> Incoming:
        return cls("failure")

    @property
    def screened(self) -> bool:
        return self.kind in SCREENED_KINDS and bool(self.text)


DONE_KEY = "done"
"""The option key that finishes a multi-select step."""
