"""A pasted case description (J3) through the service: the estimate with its evidence, only the missing
questions, then the assessment continues at the elements step. nb and en."""

from __future__ import annotations

import json

import pytest

from bot.assessment.estimator import Estimate, estimate_per_substance
from bot.assessment.sats import walk
from bot.engine import describe
from tests.conftest import ChatDriver

NB_TWO_SUBSTANCES = (
    "Mann, 45 år. Drikker alkohol daglig og røyker hasj. Han møter fast hos oss hver uke og vi snakker åpent "
    "om drikkingen. Han har ikke redusert alkoholen, men har kuttet ned på hasj den siste måneden.")
EN_DECIDED = (
    "Woman in her thirties with bipolar disorder. She has been coming to weekly sessions with her counsellor "
    "since spring and talks openly about her drinking. She has been sober for four months and says alcohol "
    "has been a real problem for her.")
EN_OPEN = (
    "The client has been seen a couple of times by the outreach team this spring. She drinks most days and "
    "does not want to talk about it. No changes in her drinking at all over the last months.")
COVERED_NB = "4/7"
COVERED_EN = "4/7"


def ready(driver: ChatDriver, lang: str) -> None:
    """A user past the privacy note, outside any flow."""
    driver.send("/start")
    driver.press(lang)
    driver.send("/avbryt" if lang == "nb" else "/cancel")


def questions(kb) -> dict[str, str]:
    return {q.id: q for q in kb.sats_tree.questions}


def asked_question(kb, driver: ChatDriver, lang: str) -> str | None:
    """The id of the SATS question the last replies ask, if any."""
    last = driver.last[-1].text
    for qid, q in questions(kb).items():
        if q.question.get(lang) in last:
            return qid
    return None


def walk_chat(kb, driver: ChatDriver, lang: str, found: list[Estimate], say: str) -> list[str]:
    """Answer every question the chat asks with ``say``; check each was open in the estimate."""
    answers = {e.substance or "other": dict(e.answers) for e in found}
    asked = []
    for _ in range(20):
        qid = asked_question(kb, driver, lang)
        if qid is None:
            break
        substance = next(s for s, a in answers.items() if not walk(kb.sats_tree, a).finished)
        assert walk(kb.sats_tree, answers[substance]).next_question.id == qid, "only open questions are asked"
        assert qid not in next(e for e in found if (e.substance or "other") == substance).answers
        asked.append(qid)
        answers[substance][qid] = "yes" if say in ("Ja", "Yes") else "no"
        driver.send(say)
    return asked


# ----------------------------------------------------------------------------- detection
def test_what_counts_as_a_case_description():
    assert describe.looks_like_case(NB_TWO_SUBSTANCES)
    assert describe.looks_like_case(EN_DECIDED)
    assert not describe.looks_like_case("hva gjør jeg når pasienten ikke møter opp")
    assert not describe.looks_like_case("Han drikker mye og møter sjelden. Hva gjør jeg?")
    assert not describe.looks_like_case("feller i overtalelsesfasen")


# ----------------------------------------------------------------------------- nb
def test_pasted_description_nb_estimate_evidence_missing_question_then_elements(kb, driver):
    ready(driver, "nb")
    found = estimate_per_substance(NB_TWO_SUBSTANCES, kb.sats_tree, "nb", levels=kb.levels)
    driver.send(NB_TWO_SUBSTANCES)
    first = driver.last[0]
    assert first.title == "Anslag ut fra beskrivelsen"
    assert "Alkohol" in first.text and "Cannabis" in first.text
    assert "«" in first.text and "»" in first.text  # the words from the text it rests on
    for estimate in found:
        for evidence in estimate.evidence:
            if evidence.fact in {q for q, _ in walk(kb.sats_tree, estimate.answers).decided_by}:
                assert evidence.quote.split()[0] in first.text
    assert "ikke lagret" in first.text
    asked = walk_chat(kb, driver, "nb", found, "Nei")
    assert bool(asked) == any(e.sats_level is None for e in found)  # open questions asked, and only then
    assert COVERED_NB in driver.text and "hovedelementer" in driver.text


def test_describe_command_then_text_as_next_message_en(kb, driver):
    ready(driver, "en")
    driver.send("/describe")
    assert "description" in driver.text.lower()
    found = estimate_per_substance(EN_OPEN, kb.sats_tree, "en", levels=kb.levels)
    driver.send(EN_OPEN)
    assert driver.last[0].title == "Estimate from the description"
    asked = walk_chat(kb, driver, "en", found, "Yes")
    open_questions = [q for e in found for q in [walk(kb.sats_tree, e.answers).next_question] if q]
    assert (len(asked) >= 1) == bool(open_questions)
    assert COVERED_EN in driver.text and "main elements" in driver.text


def test_describe_with_the_text_on_the_command_line_en(kb, driver):
    ready(driver, "en")
    found = estimate_per_substance(EN_DECIDED, kb.sats_tree, "en", levels=kb.levels)
    driver.send("/describe " + EN_DECIDED)
    assert driver.last[0].title == "Estimate from the description"
    assert "Alcohol" in driver.last[0].text
    walk_chat(kb, driver, "en", found, "Yes")
    assert COVERED_EN in driver.text


def test_a_new_user_sees_the_privacy_note_and_keeps_the_estimate(kb, driver):
    driver.send("/beskriv " + NB_TWO_SUBSTANCES)
    assert driver.last[0].title == "Anslag ut fra beskrivelsen"
    assert "Velg språk" in driver.text
    driver.press("nb")
    found = estimate_per_substance(NB_TWO_SUBSTANCES, kb.sats_tree, "nb", levels=kb.levels)
    walk_chat(kb, driver, "nb", found, "Nei")
    assert COVERED_NB in driver.text


def test_a_description_pasted_at_a_button_question_is_read_as_a_description(driver):
    driver.send("/start")
    driver.press("nb")  # now at the welcome menu (a choice)
    driver.send(NB_TWO_SUBSTANCES)
    assert driver.last[0].title == "Anslag ut fra beskrivelsen"


# ----------------------------------------------------------------------------- only the missing questions
OPEN_GOAL_NB = ("Hun har møtt fast hos oss hver uke i et år og snakker åpent om drikkingen. "
                "Hun har drukket mindre de siste to månedene.")
NO_SUBSTANCE_EN = "He has never been in contact with any service. He uses every day."


def test_only_the_questions_the_text_left_open_are_asked(kb, driver):
    ready(driver, "nb")
    driver.send("/beskriv " + OPEN_GOAL_NB)
    text = driver.last[0].text
    assert "«hver uke»" in text and "«drukket mindre de siste to månedene»" in text
    assert asked_question(kb, driver, "nb") == "own_goal"
    driver.send("Ja")
    assert "SATS 5" in driver.text and COVERED_NB in driver.text


def test_no_substance_named_is_assessed_as_other_substances(kb, driver):
    ready(driver, "en")
    driver.send("/describe " + NO_SUBSTANCE_EN)
    assert "Other substances" in driver.last[0].text
    assert COVERED_EN in driver.text


def test_a_description_typed_mid_assessment_does_not_replace_it(driver):
    ready(driver, "nb")
    driver.send("/vurdering")
    driver.send(NB_TWO_SUBSTANCES)
    assert "/beskriv" in driver.text and "1/7" in driver.text
    assert driver.service.storage.conversation(driver.user_id).pos.step == "co_substance"


def test_the_description_is_not_stored(kb, driver):
    ready(driver, "nb")
    driver.send(NB_TWO_SUBSTANCES)
    db = driver.service.storage.db
    state = json.dumps(db.execute("SELECT state FROM conversations").fetchall(), ensure_ascii=False)
    events = json.dumps(db.execute("SELECT kind, name FROM events").fetchall(), ensure_ascii=False)
    for words in ("møter fast", "kuttet ned", "hasj den siste", "Mann, 45"):
        assert words not in state and words not in events
    assert driver.service.storage.conversation(driver.user_id).answers["substances"] == ["alcohol", "cannabis"]
    assert ("describe",) in {(k,) for k, _ in db.execute("SELECT kind, name FROM events").fetchall()}


def test_personal_data_in_a_description_is_refused_before_estimating(driver):
    ready(driver, "nb")
    driver.send(NB_TWO_SUBSTANCES + " Ring ham på 91234567 hvis noe skjer.")
    assert all(r.title != "Anslag ut fra beskrivelsen" for r in driver.last)


def test_a_short_question_is_still_a_search(driver):
    ready(driver, "nb")
    driver.send("hva gjør jeg når pasienten ikke møter opp")
    assert all(r.title != "Anslag ut fra beskrivelsen" for r in driver.last)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_prefill_has_the_assessment_answers(kb, lang):
    from bot.engine.context import Ctx
    from bot.engine.state import Conversation, Profile

    ctx = Ctx(kb, None, Profile(1, lang), Conversation())
    found = estimate_per_substance(NB_TWO_SUBSTANCES, kb.sats_tree, lang, levels=kb.levels)
    answers = describe.prefill(ctx, found)
    assert answers["co_substance"] == answers["co_mental"] == "yes"
    assert answers["substances"] == ["alcohol", "cannabis"]
    assert set(answers["stage"]) == {"alcohol", "cannabis"}
    assert all(v in ("yes", "no") for a in answers["stage"].values() for v in a.values())
