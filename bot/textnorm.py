"""Text normalisation shared by option matching and search.

Lower-case, punctuation stripped, white space folded; :func:`fold` also maps æ/ø/å (and ä/ö/é …)
to plain letters so "tilbakefal", "bolig" and "motiverande" still match when typed without them.
Both are cached: option labels and knowledge names are folded again on every message.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "é": "e", "è": "e"})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower-case, strip punctuation, fold white space (æøå kept)."""
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """:func:`normalise` and then æ/ø/å folded to ae/o/a."""
    return normalise(text).translate(_FOLD)
