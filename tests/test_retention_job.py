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
    insert = "INSERT INTO assessments (user_id, created, stage, sats_level, record) VALUES (5, ?, ?, 1, ?)"
    service.storage.db.execute(insert, [old, "engagement", '{"stage": "engagement"}'])
    service.storage.db.execute(insert, [time.time(), "persuasion", '{"stage": "persuasion"}'])
    stop = asyncio.Event()
    job = asyncio.create_task(purge_daily(service, stop, interval=0.05))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(job, 2)
    stages = [a["stage"] for a in service.storage.assessments(5)]
    assert stages == ["persuasion"]
