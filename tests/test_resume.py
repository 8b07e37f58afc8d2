"""An assessment interrupted after step 3 continues in a fresh service on the same database."""

from __future__ import annotations

from tests.conftest import ChatDriver


def test_resume_after_restart(make_service):
    first = ChatDriver(make_service(), user_id=11)
    first.send("/start")
    first.press("en")
    first.press("Assess a case")
    for answer in ("yes", "yes", "moderate", "housing", "no", "cannabis"):
        first.send(answer)
    assert "Stage for Cannabis" in first.text
    first.send("yes")
    first.service.close()

    second = ChatDriver(make_service(), user_id=11)
    second.send("/start")
    assert "Welcome back" in second.text
    assert "regular" in second.text
    for answer in ("yes", "no"):
        second.send(answer)
    assert "SATS 3" in second.text and "4/7" in second.text


def test_completed_assessment_is_kept_and_deletable(make_service):
    chat = ChatDriver(make_service(), user_id=12)
    chat.send("/start")
    chat.press("nb")
    chat.press("assess")
    for answer in ("ja", "ja", "lett", "ingen", "nei", "alkohol", "nei", "ferdig", "ferdig"):
        chat.send(answer)
    for _ in range(8):
        if any(r.document for r in chat.last):
            break
        chat.send("ferdig")
    assert any(r.document for r in chat.last)
    assert chat.service.storage.assessments(12)[0]["sats_level"] == 1
    chat.send("/slett")
    chat.press("Ja, slett alt")
    assert "slettet" in chat.text
    assert chat.service.storage.assessments(12) == []
