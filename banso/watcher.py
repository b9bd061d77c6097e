"""Reloads the knowledge index when knowledge files change (`banso serve`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

from core.metrics import INDEX_BUILT_AT

log = logging.getLogger(__name__)


class KnowledgeWatcher:
    """Reloads the index when knowledge files change; also checks every `poll_seconds`.

    The periodic check is the retriever's cheap one (file mtimes), for file systems where
    change events never arrive (network mounts, some container volumes).
    """

    def __init__(self, root: Path, reload: Callable[[], bool], poll_seconds: float = 30.0):
        self._root = root
        self._reload = reload
        self._poll_ms = int(poll_seconds * 1000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="knowledge-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._root.is_dir():
                log.warning("knowledge folder missing, polling", extra={"path": str(self._root)})
                self._stop.wait(self._poll_ms / 1000)
                self._check()
                continue
            for _changes in watch(
                self._root, stop_event=self._stop, rust_timeout=self._poll_ms,
                yield_on_timeout=True, raise_interrupt=False,
            ):
                self._check()

    def _check(self) -> None:
        try:
            if self._reload():
                INDEX_BUILT_AT.set_to_current_time()
                log.info("knowledge index reloaded")
        except Exception:
            # A broken file must never stop the watcher: the last good index keeps serving.
            log.exception("knowledge reload failed; the previous index keeps serving")
