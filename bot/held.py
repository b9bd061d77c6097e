"""Slack questions that met an unreachable database: held in memory, answered once it is back.

A question needs the database before its answer can be posted: the dedupe claim (one answer per
message) and the question record (what the answer's buttons point at). When either fails
because the database is unreachable, the asker is told at once (with a reference the operator
finds in the log) and the question waits here. A retry thread, alive only while something
waits, replays the oldest question every few seconds; once one goes through, the rest follow.

Memory only, by design: an outage is seconds to minutes, and a queue in the database would be
down with it. Bounded, so a long outage cannot grow the process; a restart drops what is held
(each dropped reference is in the log with its hold line).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.db import database_unavailable
from core.metrics import QUESTIONS_HELD

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
CAPACITY = 200  # questions; past this the asker gets the apology without the promise
MAX_AGE_SECONDS = 3600.0  # an answer an hour late is still useful; later it is noise
# An /ask is answered through its response_url, which Slack honours for 30 minutes: past that
# the answer has nowhere to go (a minute's margin for the last replay itself).
COMMAND_MAX_AGE_SECONDS = 29 * 60.0


@dataclass
class HeldQuestion:
    ref: str
    body: dict[str, Any]  # the Slack event envelope (or /ask command), replayed as it came
    mentioned: bool
    command: bool = False  # an /ask: `body` is the command, answered via its response_url
    claimed: bool = False  # the dedupe claim went through before the database failed
    # (channel, thread) of the answer, once the message is known to be a question for us
    reply_to: tuple[str, str | None] | None = None
    held_at: float = field(default_factory=time.monotonic)

    @property
    def max_age(self) -> float | None:
        return COMMAND_MAX_AGE_SECONDS if self.command else None

    @property
    def key(self) -> tuple[str, str]:
        if self.command:  # every /ask is its own question (Slack does not retry commands)
            return "/ask", self.ref
        event = self.body.get("event") or {}
        return str(event.get("channel", "")), str(event.get("ts", ""))


class HeldQuestions:
    """`hold()` a question; `replay` is called for each until it stops raising an outage."""

    def __init__(self, replay: Callable[[HeldQuestion], None], *,
                 retry_seconds: float = RETRY_SECONDS, capacity: int = CAPACITY,
                 max_age_seconds: float = MAX_AGE_SECONDS) -> None:
        self._replay = replay
        self._retry_seconds = retry_seconds
        self._capacity = capacity
        self._max_age = max_age_seconds
        self._held: OrderedDict[tuple[str, str], HeldQuestion] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def is_held(self, channel: str, ts: str) -> bool:
        with self._lock:
            return (channel, ts) in self._held

    def hold(self, question: HeldQuestion) -> bool:
        """False when full (nothing is promised then); a message held already stays once."""
        with self._lock:
            if question.key not in self._held and len(self._held) >= self._capacity:
                return False
            self._held.setdefault(question.key, question)
            QUESTIONS_HELD.set(len(self._held))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._retry_loop, daemon=True,
                                                name="held-questions")
                self._thread.start()
        return True

    def drain_once(self) -> int:
        """Replay held questions oldest first until one meets the outage again; returns how many
        left the queue (answered, no longer wanted, expired or failed for another reason)."""
        done = 0
        while (question := self._oldest()) is not None:
            if time.monotonic() - question.held_at > (question.max_age or self._max_age):
                log.warning("held question dropped: too old", extra={"ref": question.ref})
            else:
                try:
                    self._replay(question)
                except Exception as exc:
                    if database_unavailable(exc):
                        return done  # still down: the others wait with it
                    log.exception("held question failed", extra={"ref": question.ref})
            self._forget(question)
            done += 1
        return done

    def _oldest(self) -> HeldQuestion | None:
        with self._lock:
            return next(iter(self._held.values()), None)

    def _forget(self, question: HeldQuestion) -> None:
        with self._lock:
            self._held.pop(question.key, None)
            QUESTIONS_HELD.set(len(self._held))

    def _retry_loop(self) -> None:
        while True:
            time.sleep(self._retry_seconds)
            self.drain_once()
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
