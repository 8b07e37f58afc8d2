"""The crisis answer as users see it, through the real service and the console front end.

``acute``: the what-to-do-now message first and alone, then a calm line and the open question (or the
menu) — never "that answer didn't fit" or a look-up miss. ``possible``: one calm line on top of the
normal answer. A Danish client sees Denmark's numbers first, in Danish.
"""

from __future__ import annotations

import io

import pytest

from bot.channels.console import ConsoleChat
from bot.service import BotService
from tests.conftest import ChatDriver

CRISIS_NB = ["ser ingen vits i å leve lenger", "alle har det bedre uten meg", "vil bare sove og aldri våkne",
             "han har et tau på rommet", "jeg orker ikke mer, har tatt alle pillene"]


def console(service: BotService) -> tuple[ConsoleChat, io.StringIO]:
    out = io.StringIO()
    return ConsoleChat(service, out=out), out


def start_console_in(service: BotService, lang: str) -> tuple[ConsoleChat, io.StringIO]:
    chat, out = console(service)
    chat.send("/start")
    chat.send("1" if lang == "nb" else "2")  # the language buttons: norsk, English
    out.truncate(0), out.seek(0)
    return chat, out


@pytest.mark.parametrize("text", CRISIS_NB)
def test_the_console_answers_crisis_messages_first_and_offers_the_menu_after(make_service, text: str) -> None:
    service = make_service()
    chat, out = start_console_in(service, "nb")
    replies = chat.send(text)
    shown = out.getvalue()
    assert replies[0].urgent and replies[0].title == service.kb.ui("crisis_title", "nb")
    assert shown.index("113") < shown.index(service.kb.ui("crisis_continue", "nb"))
    assert "Hva vil du gjøre?" in shown.split(service.kb.ui("crisis_continue", "nb"))[1]
    assert "passet ikke" not in shown and "fant ikke noe godt svar" not in shown
    assert sum(r.urgent for r in replies) == 1


def test_an_english_user_at_the_menu_gets_no_didnt_fit(make_service) -> None:
    service = make_service()
    chat, out = start_console_in(service, "en")
    replies = chat.send("everyone would be better off without me")
    shown = out.getvalue()
    assert replies[0].urgent and "113" in replies[0].text
    assert "didn't fit" not in shown and "found no good answer" not in shown
    assert "What would you like to do?" in shown


def test_a_crisis_during_the_assessment_keeps_the_question_open(make_service) -> None:
    service = make_service()
    driver = ChatDriver(service)
    driver.send("/start")
    driver.press("nb")
    driver.send("/vurdering")
    question = driver.last[-1]
    before = service.storage.conversation(driver.user_id)
    replies = driver.send("han sier han skal hoppe fra brua i kveld")
    assert replies[0].urgent
    assert replies[-1].text == question.text and replies[-1].options == question.options
    assert service.kb.ui("crisis_continue", "nb") in [r.text for r in replies]
    after = service.storage.conversation(driver.user_id)
    assert (after.pos, after.answers) == (before.pos, before.answers)  # not taken as an answer


def test_a_possible_risk_gets_one_calm_line_then_the_normal_answer(make_service) -> None:
    service = make_service()
    driver = ChatDriver(service)
    driver.send("/start")
    driver.press("nb")
    replies = driver.send("Beboeren har kjøpt tau.")
    assert not any(r.urgent for r in replies)
    assert replies[0].text == service.kb.ui("crisis_possible", "nb")
    assert len(replies) > 1  # the normal answer follows


def test_a_danish_client_sees_denmark_first_in_danish(make_service) -> None:
    service = make_service()
    driver = ChatDriver(service, language_code="da")
    replies = driver.send("hun har taget alle sine piller og reagerer ikke")
    crisis = replies[0]
    assert crisis.urgent and crisis.title == "Akut fare – gør dette nu"
    assert crisis.text.index("Akut fare – Danmark") < crisis.text.index("Akutt fare – Norge")
    assert "ring 112 med det samme" in crisis.text


def test_a_danish_client_who_chose_english_is_still_screened_and_sees_denmark_first(make_service) -> None:
    service = make_service()
    driver = ChatDriver(service, language_code="da")
    driver.send("/start")
    driver.press("en")
    replies = driver.send("han siger han vil slå sig selv ihjel i nat")
    assert replies[0].urgent
    assert replies[0].text.index("Denmark") < replies[0].text.index("Norway")


def test_a_command_with_crisis_words_is_answered_with_the_crisis_first_and_still_runs(make_service) -> None:
    service = make_service()
    driver = ChatDriver(service)
    replies = driver.send("/beskriv Han har tatt alle pillene sine og puster nesten ikke.")
    assert replies[0].urgent
    assert len(replies) > 1


@pytest.mark.parametrize("text, kind", [
    ("Fnr 010190.12480 trenger hjelp", "fødselsnummer"), ("fnr 010190-12480", "fødselsnummer"),
    ("D-nr 41019012393", "D-nummer"), ("CPR 010190-1234", "CPR-nummer"), ("ring +45 23 45 67 89", "telefonnummer"),
])
def test_identifiers_in_every_written_form_are_refused(make_service, text: str, kind: str) -> None:
    service = make_service()
    driver = ChatDriver(service)
    replies = driver.send(text)
    assert kind in replies[0].text
    assert service.storage.export_user(driver.user_id).get("free_text", []) == []


def test_a_crisis_with_an_identifier_gets_the_crisis_first_and_the_refusal(make_service) -> None:
    service = make_service()
    driver = ChatDriver(service)
    replies = driver.send("fnr 01019012480 har tatt alle pillene")
    assert replies[0].urgent and "fødselsnummer" in replies[1].text
