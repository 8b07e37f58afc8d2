"""The Telegram bot's daily retention job deletes expired data at start-up."""

from __future__ import annotations

import asyncio
import time

from bot.channels.telegram import purge_daily
from tests.conftest import ChatDriver


async def test_purge_job_removes_expired_assessments_and_stops_on_request(make_service):
    service = make_service(retention_days=30)
    chat = ChatDriver(service, user_id=5)
    chat.send("/start")
    chat.press("nb")
    old = time.time() - 40 * 86400
    service.storage.db.execute(
        "INSERT INTO assessments (user_id, created, stage, sats_level, record) VALUES (5, ?, 'engagement', 1, '{"stage": "engagement"}')", [old])
    service.storage.db.execute(
        "INSERT INTO assessments (user_id, created, stage, sats_level, record) VALUES (5, ?, 'persuasion', 3, '{"stage": "persuasion"}')",
        [time.time()])
    stop = asyncio.Event()
    job = asyncio.create_task(purge_daily(service, stop, interval=0.05))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(job, 2)
    stages = [a["stage"] for a in service.storage.assessments(5)]
    assert stages == ["persuasion"]
