"""Watch the knowledge and flow folders and report changes (``iddt-bot telegram --watch``).

Polling file modification times is portable (no inotify dependency) and cheap for a few hundred
YAML files. A change is reported once the files have stopped changing for one interval, so an
editor's save-in-several-writes or a ``git pull`` causes one reload, not several.

Use it from a thread (:meth:`KnowledgeWatcher.start`) or from an existing scheduler such as
python-telegram-bot's JobQueue (call :meth:`KnowledgeWatcher.check` every ``interval`` seconds).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("iddt_bot.watch")

SUFFIXES = (".yaml", ".yml")
Snapshot = dict[Path, tuple[int, int]]


def snapshot(folders: Iterable[Path]) -> Snapshot:
    """(modification time in ns, size) of every YAML file below ``folders``."""
    state: Snapshot = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.suffix in SUFFIXES:
                try:
                    stat = path.stat()
                except OSError:  # removed while we looked
                    continue
                state[path] = (stat.st_mtime_ns, stat.st_size)
    return state


def changed_paths(before: Snapshot, after: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class KnowledgeWatcher:
    """Calls ``on_change(changed_paths)`` when YAML files under ``paths`` change.

    ``on_change`` runs in the watcher's thread (or in the caller of :meth:`check`); an exception in
    it is logged and does not stop the watching.
    """

    def __init__(self, paths: Iterable[Path], on_change: Callable[[list[Path]], object],
                 interval: float = 2.0) -> None:
        self.paths = [Path(p) for p in paths]
        self.on_change = on_change
        self.interval = interval
        self._known = snapshot(self.paths)
        self._pending: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[Path]:
        """Poll once; returns the changed files when a settled change was reported, else []."""
        current = snapshot(self.paths)
        if current == self._known:
            self._pending = None
            return []
        if self._pending != current:  # still changing (or first sight): wait one more interval
            self._pending = current
            return []
        changed = changed_paths(self._known, current)
        self._known, self._pending = current, None
        log.info("knowledge changed files=%d", len(changed))
        try:
            self.on_change(changed)
        except Exception:  # noqa: BLE001 - the watcher must survive a failing callback
            log.exception("knowledge watcher callback failed")
        return changed

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - e.g. a folder unmounted for a moment
                log.exception("knowledge watcher poll failed")

    def start(self) -> KnowledgeWatcher:
        """Poll in a daemon thread until :meth:`stop`."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="knowledge-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 1)
            self._thread = None


def reload_notifier(service, notify: Callable[[str], object]) -> Callable[[list[Path]], None]:
    """An ``on_change`` that reloads ``service`` and passes the outcome (ok or the problems) to ``notify``.

    ``notify`` receives the text for the admins, for example a function that sends it to every
    configured admin id.
    """

    def on_change(changed: list[Path]) -> None:
        ok, message = service.reload()
        names = ", ".join(p.name for p in changed[:5]) + (" …" if len(changed) > 5 else "")
        log.info("watch reload ok=%s", ok)
        notify(f"{message}\n({names})")

    return on_change
