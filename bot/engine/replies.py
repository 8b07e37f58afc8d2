"""What goes into and comes out of the engine: plain data the front ends translate.

Texts are plain (no markup); a front end escapes them and may render ``title`` in bold. Options
carry a short ``key`` that goes back to the engine as ``Incoming.button`` together with the
``token`` of the reply that showed them, so a stale or forged button can be recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

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


class Incoming(NamedTuple):
    """One user action: typed text (a command is text starting with '/') or a button press."""

    text: str | None = None
    button: str | None = None
    token: str | None = None
    edited: bool = False
    """The text of an edited earlier message: screened for safety, then answered with a note; it never
    changes an answer (the step it belonged to may be long past)."""

BUTTON_DATA_BYTES = 64
"""Telegram's limit for a button's data, ``<token>|<option key>``: it must stay below it."""


def selection_token(seq: str, keys: list[str], chosen: set[str]) -> str:
    """``seq.mask``: the step version and, in base 36, which of ``keys`` are ticked.

    Every button of a multi-select carries it, so a press says which ticks its message showed: the
    answer is what the user saw even after a restart, and a toggle needs no write.
    """
    mask = sum(1 << i for i, key in enumerate(keys) if key in chosen)
    digits = ""
    while True:
        mask, digit = divmod(mask, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not mask:
            return f"{seq}.{digits}"


def selected_keys(selection: str, keys: list[str]) -> list[str]:
    """The keys a ``selection_token`` mask ticks (unknown or malformed masks tick nothing)."""
    try:
        mask = int(selection, 36)
    except ValueError:
        return []
    return [key for i, key in enumerate(keys) if mask >> i & 1]


DONE_KEY = "done"
"""The option key that finishes a multi-select step."""
