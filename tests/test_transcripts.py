"""Whole dialogues as transcripts (YAML: user turns and expected reply fragments), through the service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ChatDriver

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


def seen(driver: ChatDriver) -> str:
    labels = " | ".join(driver.options())
    docs = "\n".join(r.document.content for r in driver.last if r.document)
    return f"{driver.text}\n{labels}\n{docs}"


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path, make_service):
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    driver = ChatDriver(make_service(), user_id=script.get("user", 7), language_code=script.get("language_code"))
    for number, turn in enumerate(script["turns"], 1):
        if "until_document" in turn:
            for _ in range(12):
                driver.send(str(turn["until_document"]))
                if any(r.document for r in driver.last):
                    break
        elif "send" in turn:
            driver.send(str(turn["send"]))
        else:
            driver.press(str(turn["press"]))
        shown = seen(driver)
        for fragment in turn.get("expect", []):
            assert fragment in shown, f"turn {number} ({turn}): expected {fragment!r} in:\n{shown}"
        for fragment in turn.get("expect_not", []):
            assert fragment not in shown, f"turn {number} ({turn}): did not expect {fragment!r} in:\n{shown}"
        if turn.get("document"):
            assert any(r.document for r in driver.last), f"turn {number}: expected a document"
