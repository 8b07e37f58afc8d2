"""Settle a long-running bot process before it serves: warm what loads lazily, freeze the heap.

* The case-description estimator (``bot.engine.describe``) compiles about a hundred patterns when
  first imported, about 0.2 s, and the crisis screen's learned model loads on first use; the CLI and
  the tests load them only when needed, the bot loads them here so no user's first message waits.
* Collections run less often (:data:`GC_THRESHOLDS`).
* The loaded knowledge, its search index and the flows are about 80 000 objects that live as long as
  the process. Python's full collections walk every tracked object, so each one took about 50 ms — an
  update stalled that long now and then. ``gc.freeze()`` moves what exists now out of the
  collector's sight; after a reload the old knowledge is unfrozen first so it can be collected.

Only the Telegram bot opts in (``run_telegram``); tests and the CLI leave the collector alone.
"""

from __future__ import annotations

import gc

_frozen = False
GC_THRESHOLDS = (10_000, 20, 20)
"""Python's default (700, 10, 10) runs a young-generation collection every few updates: each update
builds hundreds of short-lived python-telegram-bot objects. Reference counting frees those anyway; the
collector is only needed for cycles, so it may run less often (the benchmark: about 5 % more updates
per second, a lower p99)."""


def settle_for_serving() -> None:
    """Import the lazily loaded parts, collect once, then freeze everything alive now."""
    global _frozen
    import bot.engine.describe  # noqa: F401  (see the module docstring)
    from bot.safety.model import bundled_model

    bundled_model()  # the crisis screen's learned model (about 10 000 weights), before the first message

    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    _frozen = True


def refreeze_after_reload() -> None:
    """After a reload: let the old knowledge go, freeze the new one (only if the process opted in)."""
    if _frozen:
        settle_for_serving()
