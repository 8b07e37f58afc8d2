"""Keep the garbage collector off the knowledge base.

The loaded knowledge, its search index and the flows are about 80 000 objects that live as long as
the process. Python's full collections walk every tracked object, so each one took about 50 ms — an
update stalled that long now and then. ``gc.freeze()`` moves what exists at start-up out of the
collector's sight; after a reload the old knowledge is unfrozen first so it can be collected.
Only the long-running bot opts in (``run_telegram``); tests and the CLI leave the collector alone.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_long_lived() -> None:
    """Collect once, then freeze everything alive now (call when the service is loaded)."""
    global _frozen
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _frozen = True


def refreeze_after_reload() -> None:
    """After a reload: let the old knowledge go, freeze the new one (only if the process opted in)."""
    if _frozen:
        freeze_long_lived()


def is_frozen() -> bool:
    return _frozen
