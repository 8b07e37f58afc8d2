"""The engine through the service: step kinds, back, cancel, restart, re-ask, typos, stale buttons."""

from __future__ import annotations

import pytest

from bot.assessment.answers import Choice, match_many, match_one
from bot.engine.replies import Incoming
from tests.conftest import ChatDriver


def start_assessment(driver: ChatDriver) -> None:
    driver.send("/start")
    driver.press("nb")
    driver.press("assess")


def test_first_use_shows_privacy_note_and_language_choice(driver):
    driver.send("/start")
    assert "fødselsnummer" in driver.text and "identifying" in driver.text
    assert driver.options() == ["Norsk (bokmål)", "English"]


def test_choosing_english_switches_every_text(driver):
    driver.send("/start")
    driver.press("en")
    assert "What would you like to do" in driver.text
    driver.send("/hjelp")
    assert "/assessment" in driver.text and "/back" in driver.text and "/crisis" in driver.text
    assert "/vurdering" not in driver.text and "/tilbake" not in driver.text and "/hjelp" not in driver.text


def test_norwegian_help_shows_norwegian_commands(driver):
    driver.send("/start")
    driver.press("nb")
    driver.send("/help")
    assert "/vurdering" in driver.text and "/tilbake" in driver.text and "/assessment" not in driver.text


def test_a_flow_command_for_a_new_user_goes_through_the_privacy_note_first(driver):
    driver.send("/vurdering")
    assert "Velg språk" in driver.text
    driver.press("nb")
    assert "1/7" in driver.text


def test_choice_accepts_buttons_numbers_labels_and_typos(driver):
    start_assessment(driver)
    driver.send("3")
    assert "psykiske vansker" in driver.text
    driver.send("/tilbake")
    driver.send("vet ikk")
    assert "psykiske vansker" in driver.text


def test_bad_answer_is_reasked_with_the_valid_options(driver):
    start_assessment(driver)
    driver.send("blå bil i morgen")
    assert "passet ikke" in driver.text
    assert "1. Ja" in driver.text and "2. Nei" in driver.text
    assert driver.options() == ["Ja", "Nei", "Vet ikke"]


def test_multi_select_toggles_on_the_same_message_and_finishes_with_done(driver):
    start_assessment(driver)
    driver.send("ja")
    driver.send("ja")
    driver.send("moderat")
    driver.press("Bolig")
    reply = driver.last[0]
    assert reply.edit and reply.multi
    assert [o.label for o in reply.options if o.selected] == ["Bolig"]
    driver.press("Bolig")
    assert not [o for o in driver.last[0].options if o.selected]
    driver.press("Økonomi")
    driver.press("Ferdig ✔")
    assert "akutt fare" in driver.text


def test_typed_multi_selection_by_numbers(driver):
    start_assessment(driver)
    for answer in ("ja", "ja", "lett", "1, 2", "nei", "1 2"):
        driver.send(answer)
    assert "Stadium for Alkohol" in driver.text
    state = driver.service.storage.conversation(driver.user_id)
    assert state.answers["life_areas"] == ["housing", "finances"]
    assert state.answers["substances"] == ["alcohol", "cannabis"]


def test_back_goes_one_step_and_keeps_going(driver):
    start_assessment(driver)
    driver.send("ja")
    driver.send("/tilbake")
    assert "1/7" in driver.text
    driver.send("nei")
    assert "psykiske vansker" in driver.text


def test_back_inside_the_decision_tree_forgets_later_answers(driver):
    start_assessment(driver)
    for answer in ("ja", "ja", "lett", "ingen", "nei", "alkohol", "ja", "ja"):
        driver.send(answer)
    assert "redusert" in driver.text
    driver.send("/tilbake")
    assert "regelmessig" in driver.text
    driver.send("nei")
    assert "SATS 2" in driver.text


def test_cancel_and_restart(driver):
    start_assessment(driver)
    driver.send("ja")
    driver.send("/avbryt")
    assert "Avbrutt" in driver.text
    assert not driver.service.storage.conversation(driver.user_id).active
    driver.send("/vurdering")
    assert "1/7" in driver.text
    driver.send("ja")
    driver.send("/omstart")
    assert "1/7" in driver.text


def test_stale_and_forged_buttons_get_a_clear_answer(driver):
    start_assessment(driver)
    old = driver.last[-1]
    driver.send("ja")
    replies = driver.service.handle(driver.user_id, Incoming.pressed("yes", old.token))
    assert "passert" in replies[0].text
    assert "psykiske vansker" in replies[-1].text
    token = driver.last[-1].token
    replies = driver.service.handle(driver.user_id, Incoming.pressed("drop_tables", token))
    assert "passert" in replies[0].text


def test_unknown_command_gets_help_never_silence(driver):
    replies = driver.send("/finnesikke")
    assert "/finnesikke" in replies[0].text
    assert any("/vurdering" in r.text for r in replies)


def test_non_text_and_empty_messages_get_an_explanation(driver):
    driver.send("/start")
    driver.press("nb")
    assert "bare lese tekst" in driver.act(Incoming.media())[0].text
    assert "\x00" not in driver.send("\x00nontext")[0].text  # a typed NUL is text, not a photo
    assert "tom" in driver.send("   ")[0].text


def test_lookup_during_a_flow_keeps_the_question(driver):
    start_assessment(driver)
    driver.send("/stadier")
    assert "Stadiene i IDDT" in driver.text
    assert driver.last[-1].options and "1/7" in driver.last[-1].text


def test_language_switch_mid_flow_rerenders_the_question(driver):
    start_assessment(driver)
    driver.send("/sprak en")
    assert "1/7 Co-occurrence" in driver.text


def test_matching_tolerates_typos_and_missing_letters():
    choices = [Choice("housing", ("Bolig",)), Choice("finances", ("Økonomi",)), Choice("work", ("Arbeid og aktivitet",))]
    assert match_one("okonomi", choices) == "finances"
    assert match_one("bollig", choices) == "housing"
    assert match_one("2", choices) == "finances"
    assert match_one("xyz", choices) is None
    assert match_many("bolig og økonomi", choices) == (["housing", "finances"], [])
    assert match_many("bolig, tull", choices) == (["housing"], ["tull"])


def test_looking_up_an_acute_risk_answers_with_what_to_do_now(driver):
    driver.send("/start")
    driver.press("nb")
    driver.send("/avbryt")
    driver.send("selvmordsfare")
    assert "113" in driver.text and "116 123" in driver.text


def _life_areas_question(driver):
    start_assessment(driver)
    for answer in ("ja", "ja", "moderat"):
        driver.send(answer)
    (question,) = [r for r in driver.last if r.multi]
    return question


def test_ticking_a_box_edits_the_question_and_its_buttons_carry_the_ticks(driver):
    question = _life_areas_question(driver)
    driver.press("Bolig")
    driver.press("Økonomi")
    ticked = driver.last[0]
    assert ticked.edit and [o.label for o in ticked.options if o.selected] == ["Bolig", "Økonomi"]
    assert ticked.token.partition(".")[0] == question.token.partition(".")[0]
    assert ticked.token != question.token  # the selection travels with the buttons
    driver.press("Ferdig ✔")
    assert driver.service.storage.conversation(driver.user_id).answers["life_areas"] == ["housing", "finances"]


def test_done_after_a_restart_answers_the_ticks_the_message_showed(make_service):
    first = ChatDriver(make_service(), user_id=77)
    _life_areas_question(first)
    first.press("Bolig")
    first.press("Arbeid")
    on_screen = first.last[0]
    first.service.close()  # killed before "done": the ticks were never written

    second = ChatDriver(make_service(), user_id=77)
    second.last = [on_screen]  # the message is still in the chat
    second.press("Ferdig ✔")
    assert "akutt fare" in second.text
    answers = second.service.storage.conversation(77).answers
    assert sorted(answers["life_areas"]) == sorted(o.key for o in on_screen.options if o.selected)
    assert len(answers["life_areas"]) == 2


def test_each_copy_of_a_multi_select_answers_its_own_ticks(driver):
    _life_areas_question(driver)
    driver.press("Bolig")
    first_copy = driver.last[0]
    driver.send("/ordliste ROP")  # a look-up repeats the question as a new message
    (second_copy,) = [r for r in driver.last if r.multi]
    driver.last = [second_copy]
    driver.press("Økonomi")
    driver.last = [first_copy]  # back to the older message, which shows only "Bolig"
    driver.press("Ferdig ✔")
    assert driver.service.storage.conversation(driver.user_id).answers["life_areas"] == ["housing"]


def test_forged_selection_in_a_token_ticks_only_real_options(driver):
    question = _life_areas_question(driver)
    step = question.token.partition(".")[0]
    for forged in ("zzzzzzzz", "not-base36!", ""):
        driver.last = [question]
        driver.service.handle(driver.user_id, Incoming.pressed("done", f"{step}.{forged}"))
        stored = driver.service.storage.conversation(driver.user_id).answers.get("life_areas")
        keys = {o.key for o in question.options}
        assert stored is not None and set(stored) <= keys - {"done", "none"}
        driver.send("/tilbake")


def _at_the_regular_contact_question(driver: ChatDriver) -> None:
    start_assessment(driver)
    for answer in ("ja", "ja", "lett", "ingen", "nei", "alkohol", "ja"):
        driver.send(answer)
    assert "regelmessig" in driver.text


@pytest.mark.parametrize("typed", [
    "han kommer innom av og til, men ikke fast", "nei ikke regelmessig", "absolutt ikke",
    "no, he drops in now and then but not regularly", "no not at all", "nej, kun når det passer ham",
])
def test_a_typed_no_is_read_as_no_not_as_unsure(make_service, typed):
    """Issue 15: a clear no at «Er kontakten regelmessig…?» used to become "not sure" (SATS 2–8)."""
    driver = ChatDriver(make_service())
    _at_the_regular_contact_question(driver)
    driver.send(typed)
    assert "SATS 2" in driver.text and "uavklart" not in driver.text


@pytest.mark.parametrize(("typed", "level_words"), [
    ("vet ikke helt, må sjekke med teamet", "uavklart"),
    ("ja, hver uke, og vi kan snakke om drikkingen", "redusert"),
])
def test_typed_unsure_and_yes_at_a_tree_question(make_service, typed, level_words):
    driver = ChatDriver(make_service())
    _at_the_regular_contact_question(driver)
    driver.send(typed)
    assert level_words in driver.text
