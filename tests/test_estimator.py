"""The free-text SATS estimator (bot/estimator.py): labelled accuracy, durations, negation, evidence,
missing facts, substances, and robustness on arbitrary text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.assessment.estimator import Estimate, detect_language, estimate, estimate_per_substance
from bot.assessment.estimator_rules import durations, fold_text
from bot.knowledge.models import SatsTree
from bot.knowledge.validate import EXPECTED_STAGE_OF_LEVEL
from bot.knowledge.yamlfile import read_yaml
from bot.paths import knowledge_dir

DATA = Path(__file__).parent / "data"
ORDER = ["contact", "regular", "reduced", "own_goal", "abstinent", "six_months", "remission"]


@pytest.fixture(scope="module")
def tree() -> SatsTree:
    # Built straight from sats.yaml so these tests do not depend on the rest of the knowledge base.
    return SatsTree.model_validate(read_yaml(knowledge_dir() / "sats.yaml")["sats_tree"])


def _cases(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["cases"]


def _score(tree: SatsTree, cases: list[dict]) -> tuple[float, float, list[str]]:
    stage_right = exact_right = 0
    misses = []
    for case in cases:
        result = estimate(case["text"], tree, case["lang"])
        want = case["sats_level"]
        exact_right += result.sats_level == want
        stage_right += result.stage == EXPECTED_STAGE_OF_LEVEL[want]
        if result.sats_level != want:
            misses.append(f"{case['id']}: want {want}, got {result.sats_level} "
                          f"[{result.low}-{result.high}] missing={result.missing} "
                          f"evidence={[(e.fact, e.answer, e.quote) for e in result.evidence]}")
    n = len(cases)
    return stage_right / n, exact_right / n, misses


# --------------------------------------------------------------------------------- labelled data


def test_labelled_set_shape():
    cases = _cases("case_descriptions.yaml")
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate ids"
    core = [c for c in cases if "source" not in c]
    assert len(core) >= 64
    per_level = Counter((c["sats_level"], c["lang"]) for c in core)
    for level in range(1, 9):
        assert per_level[(level, "nb")] >= 4 and per_level[(level, "en")] >= 4, level
    for case in cases:
        assert case["lang"] in ("nb", "en")
        assert 1 <= case["sats_level"] <= 8
        if "per_substance" in case:
            assert min(case["per_substance"].values()) == case["sats_level"], case["id"]
    assert sum("per_substance" in c for c in core) >= 6


def test_holdout_shape():
    cases = _cases("case_descriptions_holdout.yaml")
    assert len(cases) == 16
    assert Counter(c["sats_level"] for c in cases) == {level: 2 for level in range(1, 9)}
    main_texts = {c["text"] for c in _cases("case_descriptions.yaml")}
    assert not main_texts & {c["text"] for c in cases}


def test_labelled_accuracy(tree):
    stage_acc, exact_acc, misses = _score(tree, _cases("case_descriptions.yaml"))
    print(f"\nlabelled set: stage accuracy {stage_acc:.3f}, exact SATS accuracy {exact_acc:.3f}")
    for miss in misses:
        print("  MISS", miss)
    assert stage_acc >= 0.90
    assert exact_acc >= 0.80


def test_holdout_accuracy(tree):
    """The held-out set is never tuned on; a looser bar guards against gross regressions only."""
    stage_acc, exact_acc, misses = _score(tree, _cases("case_descriptions_holdout.yaml"))
    print(f"\nheld-out set: stage accuracy {stage_acc:.3f}, exact SATS accuracy {exact_acc:.3f}")
    for miss in misses:
        print("  MISS", miss)
    assert stage_acc >= 0.75
    assert exact_acc >= 0.60


def test_per_substance_labels(tree):
    cases = [c for f in ("case_descriptions.yaml", "case_descriptions_holdout.yaml") for c in _cases(f)
             if "per_substance" in c]
    wrong = []
    for case in cases:
        got = {e.substance: e.sats_level for e in estimate_per_substance(case["text"], tree, case["lang"])}
        if got != case["per_substance"]:
            wrong.append((case["id"], got, case["per_substance"]))
    print(f"\nper-substance: {len(cases) - len(wrong)}/{len(cases)} right", *wrong, sep="\n  ")
    assert len(wrong) <= len(cases) * 0.2


def test_decided_estimates_are_rarely_wrong(tree):
    """Undecided is fine (the chat asks); a confidently wrong level is the costly error."""
    cases = _cases("case_descriptions.yaml") + _cases("case_descriptions_holdout.yaml")
    wrong = [c["id"] for c in cases
             if estimate(c["text"], tree, c["lang"]).sats_level not in (None, c["sats_level"])]
    assert len(wrong) <= len(cases) * 0.05, wrong


# ------------------------------------------------------------------------------------ durations


def _days(phrase: str, lang: str | None = None) -> tuple[float, float]:
    found = durations(fold_text(phrase).text, lang)
    assert found, phrase
    return found[0].min_days, found[0].max_days


@pytest.mark.parametrize(("phrase", "lang", "days"), [
    ("i fire måneder", "nb", 120), ("de siste tre ukene", "nb", 21), ("i 3 mnd", "nb", 90),
    ("i ett år", "nb", 365), ("i halvannet år", "nb", 547.5), ("et halvt år", "nb", 182.5),
    ("i åtte uker", "nb", 56), ("i sju måneder", "nb", 210), ("i syv måneder", "nb", 210),
    ("i elleve måneder", "nb", 330), ("i tolv dager", "nb", 12), ("i to år", "nb", 730),
    ("for fire år siden", "nb", 1460), ("i ni maneder", "nb", 270), ("siste halvår", "nb", 182.5),
    ("for 8 months", "en", 240), ("for the past 6 weeks", "en", 42), ("for three years", "en", 1095),
    ("two weeks ago", "en", 14), ("a year and a half", "en", 547.5), ("for a couple of weeks", "en", 14),
    ("for ten days", "en", 10), ("18 months ago", "en", 540), ("for twelve months", "en", 360),
    ("for two and a half years", "en", 912.5), ("the past month", "en", 30),
])
def test_durations_exact(phrase, lang, days):
    assert _days(phrase, lang) == (pytest.approx(days), pytest.approx(days))


def test_durations_qualified_and_vague():
    lo, hi = _days("i over ett år", "nb")
    assert lo > 365 and hi > lo
    lo, hi = _days("for almost a year", "en")
    assert lo > 180 and hi < 365
    lo, hi = _days("for about eight months", "en")
    assert 180 < lo < 240 < hi
    lo, hi = _days("for several weeks", "en")  # 2-6 weeks: cannot decide "at least a month"
    assert lo < 28 < hi
    # holidays and seasons: a few months, date unknown
    for phrase in ("siden påske", "since Christmas", "since the summer", "siden jul"):
        found = durations(fold_text(phrase).text)
        assert found and found[0].vague, phrase
        assert found[0].at_least(28) is True and found[0].at_least(180) is None and found[0].at_least(365) is False
    last_summer = durations(fold_text("siden i fjor sommer").text)[0]
    assert last_summer.at_least(180) is True and last_summer.at_least(365) is None


def test_durations_ignore_ages_and_frequencies():
    assert durations(fold_text("Kvinne 52 år med PTSD").text, "nb") == []
    assert durations(fold_text("drikker 4-5 dager i uka").text, "nb") == []
    assert durations(fold_text("about once a month").text, "en") == []
    assert durations(fold_text("a 29-year-old man").text, "en") == []


def test_reduction_under_a_month_is_not_reduced(tree):
    result = estimate("Vi møtes hver uke. Han har redusert de siste tre ukene.", tree, "nb")
    assert result.sats_level == 3
    assert result.answers["reduced"] == "no"
    ev = next(e for e in result.evidence if e.fact == "reduced")
    assert "tre ukene" in ev.quote
    longer = estimate("Vi møtes hver uke. Han har redusert de siste seks ukene, men vil ikke slutte.", tree, "nb")
    assert longer.answers["reduced"] == "yes" and longer.sats_level == 4


def test_abstinence_thresholds(tree):
    base = "Møter fast hver uke og er fortsatt i behandling. Erkjenner problemet. "
    assert estimate(base + "Rusfri i fem måneder.", tree, "nb").sats_level == 6
    assert estimate(base + "Rusfri i seks måneder.", tree, "nb").sats_level == 7
    assert estimate(base + "Rusfri i over to år.", tree, "nb").sats_level == 7  # still in treatment
    out = "Han har vært rusfri i over to år og avsluttet rusbehandlingen for ett år siden."
    assert estimate(out, tree, "nb").sats_level == 8
    recent = "Sober for 10 months; she finished her substance treatment in May."
    assert estimate(recent, tree, "en").sats_level == 7  # out of treatment, but not a year yet


def test_holiday_durations_ask_instead_of_guessing(tree):
    result = estimate("He has been sober since March and sees his counsellor weekly.", tree, "en")
    assert result.sats_level is None
    assert (result.low, result.high) == (6, 7)
    assert result.missing == ["six_months"]
    reduced = estimate("Han drikker mindre siden påske og møter fast hver uke.", tree, "nb")
    assert reduced.answers["reduced"] == "yes"  # a few months is surely more than one
    assert (reduced.low, reduced.high) == (4, 5) and reduced.missing == ["own_goal"]


# ------------------------------------------------------------------------------------- negation


@pytest.mark.parametrize(("text", "lang", "fact", "answer"), [
    ("Han har ikke hatt kontakt med noen i hjelpeapparatet.", "nb", "contact", "no"),
    ("No contact with services in the last six months.", "en", "contact", "no"),
    ("She has not been in touch with any services.", "en", "contact", "no"),
    ("Vi har jevnlig kontakt. Han har ikke redusert bruken.", "nb", "reduced", "no"),
    ("Weekly sessions. He has not cut down on alcohol.", "en", "reduced", "no"),
    ("Møter fast. Ingen endring i drikkingen.", "nb", "reduced", "no"),
    ("There is no working relationship yet.", "en", "regular", "no"),
    ("Vi har ingen allianse ennå.", "nb", "regular", "no"),
    ("Hun har ikke noe eget mål om å slutte.", "nb", "own_goal", "no"),
    ("She does not want to quit.", "en", "own_goal", "no"),
    ("Han ønsker selv å slutte.", "nb", "own_goal", "yes"),
    ("He says he does not want to go back to drinking.", "en", "own_goal", "yes"),
    ("Han er ikke rusfri.", "nb", "abstinent", "no"),
])
def test_negation(tree, text, lang, fact, answer):
    result = estimate(text, tree, lang)
    assert result.answers.get(fact) == answer, (result.answers, result.evidence)
    ev = next(e for e in result.evidence if e.fact == fact)
    if answer == "no" and any(w in text.lower() for w in (" ikke ", " not ", " no ", "ingen ")):
        assert any(w in ev.quote.lower() for w in ("ikke", "not", "no", "ingen")), ev.quote


def test_goal_is_not_achievement(tree):
    """"har satt seg som mål å bli rusfri" is a goal, not abstinence."""
    result = estimate("Han møter fast og har satt seg som mål å bli rusfri.", tree, "nb")
    assert result.answers.get("own_goal") == "yes"
    assert "abstinent" not in result.answers or result.answers["abstinent"] == "no"
    assert estimate("She wants to be drug-free.", tree, "en").answers.get("abstinent") is None


@pytest.mark.parametrize(("text", "lang", "absent"), [
    # medication, work, contact and other objects are not substance use
    ("Han møter fast hver uke. Han har ikke tatt medisinene sine på to uker.", "nb", "abstinent"),
    ("Han har sluttet med medisinene for tre måneder siden. Møter ukentlig.", "nb", "abstinent"),
    ("Weekly sessions. He has been off work for 3 months.", "en", "abstinent"),
    ("She quit her job 2 years ago. Weekly contact.", "en", "abstinent"),
    ("Weekly visits. He has kept to himself for 2 months.", "en", "reduced"),
    ("Weekly sessions. His mood went down for two months.", "en", "reduced"),
    ("Møter fast. Han bruker fortsatt medisinene sine.", "nb", "abstinent"),
    # a passing state is not abstinence over time
    ("Han møtte edru til timen i dag. Vi møtes ukentlig.", "nb", "abstinent"),
    ("Weekly visits. The flat is clean and tidy. He was sober when we met.", "en", "abstinent"),
    # frequency of use is not frequency of meetings
    ("He has met the case manager twice. He drinks regularly.", "en", "regular"),
    ("Hun har møtt to ganger. Bruker amfetamin hver uke.", "nb", "regular"),
    # "nå" (now) folds to "na" but is not Narcotics Anonymous
    ("Han er rusfri nå, i fire måneder.", "nb", "regular"),
])
def test_false_positives_are_guarded(tree, text, lang, absent):
    result = estimate(text, tree, lang)
    assert absent not in result.answers, (result.answers, result.evidence)


def test_family_contact_is_not_helper_contact(tree):
    result = estimate("Han har ikke god kontakt med familien, men møter fast hos oss.", tree, "nb")
    assert result.answers == {"contact": "yes", "regular": "yes"}
    assert estimate("She has no contact with her family.", tree, "en").answers.get("contact") is None


def test_lapsed_contact_is_not_no_contact(tree):
    assert estimate("Hun har ikke møtt siden mars. Drikker daglig.", tree, "nb").sats_level == 2
    assert estimate("Han har aldri møtt til avtalene hos oss. Drikker tungt.", tree, "nb").sats_level == 1
    assert estimate("He has never turned up. Drinks heavily.", tree, "en").sats_level == 1


def test_attempt_is_not_fact(tree):
    result = estimate("We have tried to set up regular meetings, but he has not turned up to any of them. "
                      "We met him once at the shelter.", tree, "en")
    assert result.sats_level == 2


def test_single_lapse_allowed_days_of_use_not(tree):
    lapse = estimate("Møter ukentlig. Rusfri i ni måneder, men hadde en sprekk i julen. Fortsatt i behandling.",
                     tree, "nb")
    assert lapse.sats_level == 7
    binges = estimate("Weekly sessions. She wants to stop and has cut down for two months, "
                      "but still has binges at weekends.", tree, "en")
    assert binges.sats_level == 5


# ------------------------------------------------------------------------------------- evidence


def test_evidence_quotes_are_substrings_at_their_offsets(tree):
    for case in _cases("case_descriptions.yaml") + _cases("case_descriptions_holdout.yaml"):
        for result in [estimate(case["text"], tree, case["lang"]),
                       *estimate_per_substance(case["text"], tree, case["lang"])]:
            for ev in result.evidence:
                assert ev.quote, (case["id"], ev)
                assert case["text"][ev.start:ev.end] == ev.quote, (case["id"], ev)
                assert ev.fact in ORDER and ev.answer in ("yes", "no")
            assert {e.fact: e.answer for e in result.evidence} == result.answers


def test_quotes_survive_folding_and_typos(tree):
    text = "Pasienten har vaert rusfir i 3 mnd. Han moter jevnlig pa poliklinikken."
    result = estimate(text, tree, "nb")
    assert result.sats_level == 6
    ev = next(e for e in result.evidence if e.fact == "abstinent")
    assert ev.quote == "rusfir i 3 mnd" and text[ev.start:ev.end] == ev.quote
    text = "Han møter sjelden til avtaler, og vi har ingen allianse – han bytter tema."
    result = estimate(text, tree, "nb")
    assert result.sats_level == 2
    for ev in result.evidence:
        assert text[ev.start:ev.end] == ev.quote


def test_inferred_facts_are_marked(tree):
    result = estimate("Møter fast hver uke. Han har vært rusfri i fire måneder og erkjenner problemet.", tree, "nb")
    assert result.sats_level == 6
    by_fact = {e.fact: e for e in result.evidence}
    assert by_fact["reduced"].inferred and by_fact["own_goal"].inferred
    assert not by_fact["abstinent"].inferred and not by_fact["regular"].inferred
    assert "rusfri i fire måneder" in by_fact["reduced"].quote
    # confidence = explicit share of the path contact..six_months: 4 of 6 (reduced, own_goal inferred)
    assert result.confidence == pytest.approx(0.67)


def test_abstinence_without_engagement_does_not_invent_contact(tree):
    result = estimate("Han har vært rusfri i fire måneder.", tree, "nb")
    assert "contact" not in result.answers and "regular" not in result.answers
    assert result.sats_level is None and result.missing[:2] == ["contact", "regular"]
    assert (result.low, result.high) == (1, 6)


# -------------------------------------------------------------------------------- missing facts


def test_missing_facts_for_undecided_text(tree):
    result = estimate("Vi har hatt jevnlig kontakt med ham.", tree, "nb")
    assert result.sats_level is None
    assert result.missing == ["reduced", "own_goal", "abstinent", "six_months", "remission"]
    assert (result.low, result.high) == (3, 8)
    assert result.answers == {"contact": "yes", "regular": "yes"}
    assert result.stage is None and result.stage_of_change is None
    assert 0 < result.confidence < 1


def test_empty_text_is_fully_open(tree):
    result = estimate("", tree)
    assert result.sats_level is None and (result.low, result.high) == (1, 8)
    assert result.missing == ORDER and result.confidence == 0.0 and result.evidence == []


def test_range_within_one_stage_names_the_stage(tree):
    result = estimate("Han møter fast hver uke og har drukket mindre de siste to månedene.", tree, "nb")
    assert (result.low, result.high) == (4, 5)  # own goal unknown; reduction means still using
    assert result.missing == ["own_goal"]
    result = estimate("Han møter fast hver uke og er fortsatt i behandling. Rusfri siden i fjor sommer.", tree, "nb")
    assert result.sats_level == 7  # last summer is 7-18 months: at least six; still in treatment
    result = estimate("Rusfri siden i fjor sommer og har avsluttet behandlingen.", tree, "nb")
    assert (result.low, result.high) == (7, 8) and result.missing == ["remission"]
    assert result.stage == "relapse_prevention" and result.stage_of_change == "maintenance"


def test_answers_feed_walk_so_chat_can_ask_the_rest(tree):
    from bot.assessment.sats import walk

    result = estimate("Vi har hatt jevnlig kontakt med ham.", tree, "nb")
    step = walk(tree, result.answers)
    assert step.next_question is not None and step.next_question.id == result.missing[0]
    finished = walk(tree, {**result.answers, "reduced": "no"})
    assert finished.level == 3


def test_to_json_shape(tree):
    data = estimate("Møter fast hver uke. Rusfri i fire måneder, erkjenner problemet.", tree, "nb").to_json()
    assert {"sats_level", "stage", "stage_of_change", "confidence", "evidence", "missing", "range"} <= set(data)
    assert data["sats_level"] == 6 and data["stage"] == "active_treatment" and data["stage_of_change"] == "action"
    assert data["range"] == [6, 6] and data["missing"] == []
    assert all({"fact", "answer", "quote"} <= set(e) for e in data["evidence"])


def test_stage_names_from_knowledge_base(tree):
    try:
        from bot.knowledge import load_or_raise

        kb = load_or_raise(knowledge_dir())
    except Exception as exc:  # knowledge is edited by others; the estimator does not need it
        pytest.skip(f"knowledge base does not load: {exc}")
    for level in range(1, 9):
        assert kb.levels[level].stage == EXPECTED_STAGE_OF_LEVEL[level]
    result = estimate("Møter fast hver uke. Ingen endring i bruken.", kb.sats_tree, "nb", levels=kb.levels)
    assert (result.sats_level, result.stage, result.stage_of_change) == (3, kb.levels[3].stage, kb.levels[3].change_stage)


# ---------------------------------------------------------------------------------- substances


def test_per_substance_estimates(tree):
    text = ("Han møter fast hver uke. Han har vært rusfri fra amfetamin i åtte måneder og sier at det var et "
            "problem, men drikker fortsatt daglig og ser ikke noe problem med alkoholen.")
    per = {e.substance: e for e in estimate_per_substance(text, tree, "nb")}
    assert set(per) == {"amphetamine", "alcohol"}
    assert per["amphetamine"].sats_level == 7
    assert per["alcohol"].sats_level == 3
    overall = estimate(text, tree, "nb")
    assert overall.sats_level == 3 and overall.substance == "alcohol"
    for est in per.values():
        for ev in est.evidence:
            assert text[ev.start:ev.end] == ev.quote


def test_per_substance_general_sentence_counts_for_all(tree):
    text = "Rusfri i 3 mnd etter avrusning. Han sier selv at cannabis og alkohol har vært et problem. Møter jevnlig."
    per = {e.substance: e.sats_level for e in estimate_per_substance(text, tree, "nb")}
    assert per == {"cannabis": 6, "alcohol": 6}


def test_no_substance_named_gives_one_estimate(tree):
    per = estimate_per_substance("Vi møtes hver uke og har god allianse.", tree, "nb")
    assert len(per) == 1 and per[0].substance is None


@pytest.mark.parametrize(("word", "substance"), [
    ("hasj", "cannabis"), ("weed", "cannabis"), ("speed", "amphetamine"), ("kokain", "cocaine"),
    ("heroin", "opioids"), ("metadon", "opioids"), ("Sobril", "benzodiazepines"), ("benzo", "benzodiazepines"),
    ("GHB", "ghb"), ("øl", "alcohol"), ("Antabus", "alcohol"),
])
def test_substance_words(tree, word, substance):
    per = estimate_per_substance(f"Han bruker {word}.", tree, "nb")
    assert [e.substance for e in per] == [substance]


# ---------------------------------------------------------------------------------- robustness


def test_language_detection():
    assert detect_language("Han har ikke hatt kontakt med noen på lenge.") == "nb"
    assert detect_language("He has not been in touch with any services since the summer.") == "en"
    assert detect_language("Moter fast og har vaert rusfri i 3 mnd") == "nb"


def _check(result: Estimate, text: str) -> None:
    assert 1 <= result.low <= result.high <= 8
    assert result.sats_level in (None, result.low)
    assert (result.sats_level is not None) == (result.low == result.high and not result.missing)
    assert 0.0 <= result.confidence <= 1.0
    assert result.missing == [q for q in ORDER if q in result.missing]
    for ev in result.evidence:
        assert text[ev.start:ev.end] == ev.quote


_VOCABULARY = (
    "har ikke hatt kontakt med møter fast hver uke jevnlig rusfri i fire måneder siden påske redusert de "
    "siste tre ukene drikker fortsatt ønsker selv å slutte avsluttet behandlingen over ett år no contact "
    "sober for weeks months years not cut down wants to quit still uses since Christmas a couple of "
    "several kept to with no problems alkohol cannabis amfetamin heroin . , ; – \n 3 12 1,5 æøå")
_WORDS = st.sampled_from(_VOCABULARY.split(" "))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), st.lists(_WORDS, max_size=120).map(" ".join)),
       st.sampled_from([None, "nb", "en", "xx"]))
def test_never_raises_on_arbitrary_text(tree, text, lang):
    result = estimate(text, tree, lang)
    _check(result, text)
    for per in estimate_per_substance(text, tree, lang):
        _check(per, text)


