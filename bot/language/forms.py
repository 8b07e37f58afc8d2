"""Word forms: which written words count as the same word as a lexicon's lemma.

Two sources, both cheap at run time:

* a table of inflected forms per lemma (``word_forms.json`` beside this file), generated at build
  time from simplemma's nb/da/en dictionaries by ``python -m bot.language.build_forms`` — it knows the
  irregular forms ("drakk", "tok", "hengt", "woke") that no suffix rule finds; loading simplemma
  itself at run time would cost over a second and 150 MB (see ``../shared/ARCHITECTURE.md``);
* Snowball stemmers (PyStemmer) for the regular forms the table lacks ("cutting", "overdoserte").
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

import Stemmer

from bot.language.text import fold

LANGUAGES = ("nb", "da", "en")
FORMS_FILE = Path(__file__).with_name("word_forms.json")
_STEMMER_NAMES = {"nb": "norwegian", "da": "danish", "en": "english"}


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMER_NAMES[lang])


@lru_cache(maxsize=131072)
def stem(word: str, lang: str) -> str:
    """The folded Snowball stem of ``word`` (folded or not) in ``lang``."""
    return fold(_stemmer(lang).stemWord(word))


@cache
def forms_table() -> dict[str, dict[str, list[str]]]:
    """{lang: {lemma: [forms]}} as generated; empty when the file is missing (stems still work)."""
    if not FORMS_FILE.is_file():
        return {lang: {} for lang in LANGUAGES}
    return json.loads(FORMS_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=16384)
def forms_of(lemma: str, lang: str) -> frozenset[str]:
    """Folded forms of ``lemma`` in ``lang``: the lemma itself and its inflections from the table."""
    return frozenset({fold(lemma), *(fold(form) for form in forms_table().get(lang, {}).get(lemma, ()))})
