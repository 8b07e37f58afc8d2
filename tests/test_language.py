"""Tests for bot.language: folding, sentences and clauses, word forms, patterns and scopes."""

from __future__ import annotations

import pytest

from bot.language.forms import forms_of, forms_table
from bot.language.patterns import PatternError, PatternSet
from bot.language.scopes import ScopeRule, Scopes, SentenceScopes
from bot.language.text import MAX_SENTENCE_TOKENS, analyse, fold
from bot.paths import knowledge_dir
from bot.safety.lexicon import load_screen_rules

VARIANTS = {"ikkje": "ikke", "ae": "jeg"}
CLAUSE_WORDS = frozenset({"men", "but", "og"})


def words(text: str):
    return analyse(text, VARIANTS, CLAUSE_WORDS)


def test_folding_makes_typed_spellings_equal() -> None:
    assert fold("Dø") == fold("do") == "do"
    assert fold("Våkne") == fold("vaakne") == "vakne"
    assert fold("bløder’s") == "bloder's"


def test_sentences_do_not_end_at_abbreviations_times_or_ordinals() -> None:
    a = words("Pas. har tatt 2 tbl. kl. 22.30 i 9. klasse. Ny setning her!")
    sentences = [a.span(first, end) for first, end in a.sentence_bounds]
    assert sentences == ["Pas. har tatt 2 tbl. kl. 22.30 i 9. klasse", "Ny setning her"]


def test_clauses_end_at_commas_and_conjunctions_and_dialect_is_standardised() -> None:
    a = words("æ orke ikkje meir, men han e her og sover")
    assert list(a.norms)[:3] == ["jeg", "orke", "ikke"]
    clauses = [a.span(first, end) for first, end in a.clause_bounds]
    assert clauses == ["æ orke ikkje meir", "men han e her", "og sover"]


def test_a_run_on_text_is_cut_into_bounded_pieces() -> None:
    a = words("ord " * (3 * MAX_SENTENCE_TOKENS))
    assert len(a.sentence_bounds) == 3
    assert all(end - first <= MAX_SENTENCE_TOKENS for first, end in a.sentence_bounds)


def test_the_form_table_knows_irregular_inflections() -> None:
    assert {"tok", "tatt", "tar"} <= forms_of("ta", "nb")
    assert "drakk" in forms_of("drukket", "nb")  # a lexicon word in any form stands for its lemma
    assert "woke" in forms_of("wake", "en")
    assert "samboeren" in forms_of("samboer", "nb")  # a lemma stays itself (not "sambo")
    assert forms_table()["nb"]


def compiled(*patterns: str, lang: str = "nb", concepts=None) -> PatternSet:
    ps = PatternSet()
    for p in patterns:
        ps.add(p, lang, p, concepts or {})
    return ps


def found(ps: PatternSet, text: str) -> list[str]:
    return [m.payload for m in ps.matches(words(text))]


def test_pattern_words_match_every_form_and_one_gap() -> None:
    ps = compiled("ta pille")
    assert found(ps, "hun tok pillene") == ["ta pille"]
    assert found(ps, "hun har tatt noen piller") == ["ta pille"]
    assert found(ps, "hun tok alle de pillene") == []  # two words between: use "..."
    assert found(compiled("ta ... pille"), "hun tok alle de pillene") == ["ta ... pille"]


def test_a_plain_step_stays_in_its_clause() -> None:
    assert found(compiled("no future", lang="en"), "no plan, no intent, future oriented") == []
    assert found(compiled("no future", lang="en"), "she sees no future") == ["no future"]


def test_exact_prefix_suffix_number_and_year_elements() -> None:
    assert found(compiled("=nå"), "nå") == ["=nå"] and found(compiled("=nå"), "nåtid") == []
    assert found(compiled("selvmord*"), "selvmordstankene") == ["selvmord*"]
    assert found(compiled("*piller"), "sovepiller") == ["*piller"]
    assert found(compiled("ta #10 pille"), "tok 30 piller") == ["ta #10 pille"]
    assert found(compiled("ta #10 pille"), "tok 2 piller") == []
    assert found(compiled("ta #10 pille"), "tok tjue piller") == ["ta #10 pille"]
    assert found(compiled("=i #year"), "i 2015") == ["=i #year"] and found(compiled("=i #year"), "i 15") == []


def test_typos_match_long_words_but_not_a_changed_beginning() -> None:
    ps = compiled("selvmordstanker", "regelmessig")
    assert found(ps, "selvmrodstanker") == ["selvmordstanker"]
    assert found(ps, "uregelmessig") == []
    assert found(compiled("skjære"), "skjerpe") == []  # two edits apart
    assert found(compiled("selvmord*"), "selvmrodstanker") == ["selvmord*"]


def test_a_stem_does_not_join_a_much_shorter_word() -> None:
    assert found(compiled("nearly", lang="en"), "near the knives") == []
    assert found(compiled("breathe", lang="en"), "he is breathing") == ["breathe"]


@pytest.mark.parametrize("pattern, message", [
    ("@nothing", "unknown concept '@nothing'"), ("ab*", "shorter than three letters"), ("a||b", "empty alternative"),
])
def test_bad_patterns_say_what_is_wrong(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        compiled(pattern)


def scopes_of(text: str) -> tuple:
    negation = ScopeRule("negation", "forward", 8)
    answer = ScopeRule("negation", "backward", 6)
    past = ScopeRule("past", "clause")
    scopes = Scopes([("ikke", "nb", negation), ("=nei", "nb", answer), ("for # år siden", "nb", past),
                     ("=nå", "nb", ScopeRule("now", "clause"))], [("vet ikke", "nb")], {})
    a = words(text)
    return a, SentenceScopes(a, scopes.find(a))


def index_of(a, word: str) -> int:
    return a.norms.index(word)


def test_negation_reaches_forward_to_the_end_of_its_clause() -> None:
    a, s = scopes_of("han har ikke selvmordstanker, men har skrevet brev")
    assert s.negated((index_of(a, "selvmordstanker"),))
    assert not s.negated((index_of(a, "brev"),))


def test_a_pseudo_negation_negates_nothing() -> None:
    a, s = scopes_of("vet ikke om hun tok pillene")
    assert not s.negated((index_of(a, "pillene"),))


def test_an_answer_negates_backwards_only_where_an_answer_stands() -> None:
    a, s = scopes_of("selvmordstanker: nei")
    assert s.negated((index_of(a, "selvmordstanker"),))
    a, s = scopes_of("hun tok pillene nei hva gjør jeg nå")
    assert not s.negated((index_of(a, "pillene"),))


def test_the_nearest_time_expression_wins() -> None:
    a, s = scopes_of("han fortalte nå om overdosen for 5 år siden")
    assert s.nearest((index_of(a, "overdosen"),), ("past", "now")) == "past"
    assert s.nearest((index_of(a, "fortalte"),), ("past", "now")) == "now"


def test_the_bundled_language_rules_compile() -> None:
    rules, problems = load_screen_rules(knowledge_dir() / "lexicon")
    assert problems == [] and rules is not None
    assert rules.variants["ikkje"] == "ikke" and rules.abbreviations["NA"] != fold("nå")
