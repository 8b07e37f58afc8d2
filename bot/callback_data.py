"""A button's data as Telegram carries it: ``<token>|<option key>``, at most 64 bytes.

Shared by the flow validator (an option key must fit), the engine (the token says which step, and for
a multi-select which ticks, a button belongs to) and the front ends; it imports nothing.
"""

from __future__ import annotations

BUTTON_DATA_BYTES = 64
"""Telegram's limit for a button's data, ``<token>|<option key>``: it must stay below it."""
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def selection_token(seq: str, keys: list[str], chosen: set[str]) -> str:
    """``seq.mask``: the step version and, in base 36, which of ``keys`` are ticked.

    Every button of a multi-select carries it, so a press says which ticks its message showed: the
    answer is what the user saw even after a restart, and a toggle needs no write.
    """
    mask = sum(1 << i for i, key in enumerate(keys) if key in chosen)
    digits = ""
    while True:
        mask, digit = divmod(mask, 36)
        digits = BASE36[digit] + digits
        if not mask:
            return f"{seq}.{digits}"


def selected_keys(selection: str, keys: list[str]) -> list[str]:
    """The keys a ``selection_token`` mask ticks (unknown or malformed masks tick nothing)."""
    try:
        mask = int(selection, 36)
    except ValueError:
        return []
    return [key for i, key in enumerate(keys) if mask >> i & 1]
