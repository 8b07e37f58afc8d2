"""What a user sees per update, decided without a Bot API (``telegram_render.plan``), and the order
in which the rate limiter lets requests go (``telegram_send.OrderedRateLimiter``)."""

from __future__ import annotations

import asyncio

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter

from bot.channels import telegram_render as tr
from bot.channels.telegram_send import OrderedRateLimiter
from bot.engine.replies import Document, Option, Reply
from tests.botapi_server import parse_html

QUESTION = Reply(text="Har personen et rusproblem?", options=[Option("yes", "Ja"), Option("no", "Nei")], token="3")
NEXT = Reply(text="Psykiske vansker?", options=[Option("yes", "Ja"), Option("no", "Nei")], token="4")
CRISIS = Reply(title="Akutt fare", text="Ring 113 nå.", urgent=True)


def pressed(reply: Reply, key: str, html: str | None = None) -> tr.Pressed:
    """The message ``reply`` was shown as, pressed on ``key``."""
    (part,) = tr.render(reply)
    text = html if html is not None else part.html
    return tr.Pressed(text, tr.plain(text), part.keyboard, tr.callback_data(reply.token, key))


def shown(step: tr.Step) -> str:
    return parse_html(step.part.html)  # type: ignore[union-attr]


def test_a_press_shows_the_answer_in_the_question_and_the_next_question_in_the_same_message():
    (step,) = tr.plan([NEXT], pressed(QUESTION, "yes"))
    assert isinstance(step, tr.EditPressed)
    assert shown(step) == "Har personen et rusproblem?\n→ Ja\n\nPsykiske vansker?"
    assert [b.text for row in step.part.keyboard.inline_keyboard for b in row] == ["Ja", "Nei"]
    assert step.fallback == tuple(tr.render(NEXT))  # if the message cannot be edited: sent anew
    (again,) = tr.plan([QUESTION], tr.Pressed(step.part.html, shown(step), step.part.keyboard, "4|no"))
    assert shown(again).startswith("Har personen et rusproblem?\n→ Ja\n\nPsykiske vansker?\n→ Nei\n\n")


def test_an_acknowledgement_goes_into_the_closed_question():
    (step,) = tr.plan([Reply(text="Slettet.")], pressed(QUESTION, "yes"))
    assert isinstance(step, tr.EditPressed) and step.part.keyboard is None
    assert shown(step) == "Har personen et rusproblem?\n→ Ja\n\nSlettet."


def test_what_does_not_fit_is_sent_after_the_closed_question():
    long = Reply(text="ord " * 1100, options=[Option("ok", "OK")], token="5")
    steps = tr.plan([long], pressed(QUESTION, "no"))
    assert isinstance(steps[0], tr.EditPressed) and shown(steps[0]).endswith("→ Nei")
    assert steps[0].part.keyboard is None
    assert all(isinstance(s, tr.Send) for s in steps[1:]) and steps[-1].part.keyboard is not None


def test_a_crisis_answer_comes_first_in_its_own_message_and_the_question_still_closes():
    steps = tr.plan([NEXT, CRISIS], pressed(QUESTION, "yes"))
    assert isinstance(steps[0], tr.Send) and "113" in shown(steps[0]) and steps[0].part.keyboard is None
    assert "Psykiske" not in shown(steps[0])
    assert isinstance(steps[1], tr.EditPressed) and shown(steps[1]).endswith("→ Ja")
    assert isinstance(steps[2], tr.Send) and shown(steps[2]) == "Psykiske vansker?"


def test_buttons_that_open_an_entry_leave_their_menu_as_it_was():
    menu = Reply(text="Relatert:", options=[Option("o:i:mi", "Motiverende intervju")], token="L")
    entry = Reply(title="Motiverende intervju", text="MI er …")
    assert tr.plan([entry], pressed(menu, "o:i:mi")) == [tr.Send(tr.render(entry)[0])]


def test_a_forged_press_changes_nothing_it_did_not_show():
    steps = tr.plan([NEXT], tr.Pressed("x", "x", tr.render(QUESTION)[0].keyboard, "9|yes"))
    assert steps == [tr.Send(tr.render(NEXT)[0])]


def test_ticking_a_box_keeps_the_questions_answered_above_it():
    multi = Reply(text="Livsområder?", options=[Option("housing", "Bolig", selected=True), Option("done", "Ferdig")],
                  multi=True, token="6.1", edit=True)
    form = "Har personen et rusproblem?\n→ <b>Ja</b>\n\nLivsområder?"
    before = pressed(multi._replace(options=[Option("housing", "Bolig"), Option("done", "Ferdig")], token="6.0"),
                     "housing", form)
    (step,) = tr.plan([multi], before)
    assert step.part.html == form and step.part.keyboard.inline_keyboard[0][0].text == "✓ Bolig"
    done = tr.Pressed(form, tr.plain(form), step.part.keyboard, "6.1|done")
    (closed,) = tr.plan([NEXT], done)
    assert "Livsområder?\n→ Bolig\n\nPsykiske vansker?" in shown(closed)


def test_a_document_carries_its_replys_text_as_caption():
    summary = Reply(title="Oppsummering", text="Lim inn i journalen.", document=Document("s.md", "# S"))
    steps = tr.plan([Reply(text="Stadium: 4"), summary])
    assert steps == [tr.Send(tr.Part("Stadium: 4")),
                     tr.SendDocument(summary.document, "<b>Oppsummering</b>\n\nLim inn i journalen.")]
    too_long = summary._replace(text="x " * 600)
    assert tr.plan([too_long])[-1] == tr.SendDocument(summary.document, None)


def test_replies_without_buttons_merge_into_the_next_message():
    steps = tr.plan([Reply(text="Vi starter."), NEXT])
    assert len(steps) == 1 and shown(steps[0]) == "Vi starter.\n\nPsykiske vansker?"


# ------------------------------------------------------------------------------ the rate limiter


async def test_the_limiter_lets_requests_go_in_the_order_they_came():
    limiter = OrderedRateLimiter(overall_rate=2000.0)
    order: list[int] = []

    async def request(n: int) -> int:
        order.append(n)
        return n

    async def send(n: int) -> object:
        await asyncio.sleep(0)
        return await limiter.process_request(request, (n,), {}, "sendMessage", {"chat_id": n + 1}, None)

    assert await asyncio.gather(*(send(n) for n in range(300))) == list(range(300))
    assert order == list(range(300))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB's own RetryAfter.__init__ in v22
async def test_a_429_holds_back_the_requests_after_it():
    limiter = OrderedRateLimiter()

    async def flooded() -> None:
        raise RetryAfter(3)

    with pytest.raises(RetryAfter):
        await limiter.process_request(flooded, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert limiter.overall.due - asyncio.get_running_loop().time() > 3  # the next one waits its turn


def test_keyboard_buttons_are_ptb_objects():
    markup = tr.keyboard(QUESTION)
    assert isinstance(markup, InlineKeyboardMarkup)
    assert markup.inline_keyboard[0][0] == InlineKeyboardButton("Ja", callback_data="3|yes")
