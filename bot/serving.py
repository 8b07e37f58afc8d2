"""Settle a long-running bot process before it serves, so no user's message waits for housekeeping.

* The case-description estimator (``bot.engine.describe``) compiles about a hundred patterns when
  first imported, about 0.2 s, and the crisis screen's learned model (about 10 000 weights) loads on
  first use. The CLI and the tests load them only when needed; the bot loads them here.
* What is alive then (the knowledge, its index, the lexicons: the long-lived heap) is frozen out of
  the garbage collector's sight with ``gc.freeze()``. Without it, Python's full collections walk that
  heap now and then, and the screen of a long pasted note took 26–38 ms at the 99th percentile instead
  of 7–10 ms (``benchmarks/README.md``, "End to end"). The collector's thresholds keep Python's
  defaults: changing them as well gained nothing measurable.

Only the Telegram bot opts in (``run_telegram``); after a reload the old knowledge is unfrozen first so
it can be collected (:func:`refreeze_after_reload`).
"""

from __future__ import annotations

import gc

_settled = False


def settle_for_serving() -> None:
    """Load what loads lazily, then freeze everything alive now."""
    global _settled
    import bot.engine.describe  # noqa: F401  (see the module docstring)
    from bot.safety.model import bundled_model

    bundled_model()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _settled = True


def refreeze_after_reload() -> None:
    """After a reload: let the old knowledge go and freeze the new one (only if the process settled)."""
    if _settled:
        settle_for_serving()
