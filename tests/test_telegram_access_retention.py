"""The Telegram bot's daily retention job, and inline mode behind the allowlist."""

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


async def test_inline_search_is_refused_to_users_outside_the_allowlist(make_service):
    from telegram import Update

    from bot.channels.telegram import build_application
    from tests.telegram_fakes import RecordingRequest

    service = make_service(allowed_ids=frozenset({1}))
    request = RecordingRequest()
    app = build_application(service, "123456:TEST-token-abc", request=request, rate_limiter=False)
    await app.initialize()
    for user, expect_results in ((1, True), (2, False)):
        data = {"update_id": user, "inline_query": {"id": str(user), "from": {"id": user, "is_bot": False,
                "first_name": "x"}, "query": "motiverende intervju", "offset": ""}}
        await app.process_update(Update.de_json(data, app.bot))
        answered = [c for c in request.calls if c.method == "answerInlineQuery"][-1].params
        assert bool(answered["results"]) is expect_results
        assert answered.get("is_personal") in (True, "true")
    await app.shutdown()
