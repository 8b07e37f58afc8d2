"""The bot settles its process before serving: lazy parts loaded, the long-lived heap frozen, the
collector's thresholds left alone, and a reload still lets the old knowledge go."""

from __future__ import annotations

import gc
import sys
import weakref

from bot import serving
from bot.engine.replies import Incoming
from bot.safety.model import bundled_model


def test_settling_warms_freezes_and_a_reload_frees_the_old_knowledge(make_service, monkeypatch) -> None:
    service = make_service()
    thresholds = gc.get_threshold()
    monkeypatch.setattr(serving, "_settled", False)
    try:
        serving.settle_for_serving()
        assert "bot.engine.describe" in sys.modules  # no user's first case note waits for the import
        assert bundled_model.cache_info().currsize == 1  # nor the first screened message for the model
        assert gc.get_freeze_count() > 10_000  # the knowledge is out of the collector's way
        assert gc.get_threshold() == thresholds
        old = weakref.ref(service.kb)
        ok, _ = service.reload()  # the service calls serving.refreeze_after_reload()
        assert ok and service.kb is not old()
        gc.collect()
        assert old() is None, "the knowledge replaced by a reload stayed frozen in memory"
        replies = service.handle(5, Incoming.typed("/start"))
        assert replies and replies[0].text
    finally:
        gc.unfreeze()
