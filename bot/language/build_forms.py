"""Regenerate ``word_forms.json``: the inflected forms of every lemma the lexicons use.

Run after adding words to a lexicon (``knowledge/lexicon/*.yaml``)::

    iddt-bot kb forms

It needs simplemma (installed with the ``dev`` extra); the bot itself does not. A test fails when the
committed table lacks a lemma the lexicons use, so a forgotten run shows in CI.
"""

from __future__ import annotations

import json
from collections import defaultdict

from bot.language.forms import FORMS_FILE, LANGUAGES


def build(lemmas: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """{lang: {word: sorted forms}} from simplemma's dictionaries.

    A word written in an inflected form ("tatt") stands for its lemma ("ta"): it gets every form of
    that lemma ("tar", "tok", "tatt").
    """
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    table: dict[str, dict[str, list[str]]] = {}
    for lang in LANGUAGES:
        dictionary = factory.get_dictionary(lang)
        words = set(lemmas.get(lang, ()))
        known_lemmas = set(dictionary.values())
        # a word that is itself a lemma ("samboer") stays one, even where simplemma also reads it as
        # a form of another ("sambo"); only an inflected word ("tatt") stands for its lemma ("ta")
        lemma_of = {word: word.lower() if word.lower() in known_lemmas else dictionary.get(word.lower(), word.lower())
                    for word in words}
        wanted = set(lemma_of.values())
        inverse: dict[str, set[str]] = defaultdict(set)
        for form, lemma in dictionary.items():
            if lemma in wanted:
                inverse[lemma].add(form)
        table[lang] = {word: sorted((inverse.get(lemma_of[word], set()) | {lemma_of[word]}) - {word})
                       for word in sorted(words)}
    return table


def write(table: dict[str, dict[str, list[str]]]) -> None:
    """Save the table where :func:`bot.language.forms.forms_table` reads it."""
    FORMS_FILE.write_text(json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
