"""The one wrapper every scheduled or hand-started job run goes through.

`recorded` times the run, counts it in /metrics by outcome (`banso_job_runs_total{job,
outcome}`, `banso_job_seconds{job}`) and writes one "job finished" log line; an error is
counted and logged as such and then raised, so the scheduler (which logs and goes on) and the
CLI (which exits non-zero) each decide what a failure means for them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from core.metrics import JOB_RUNS, JOB_SECONDS

log = logging.getLogger(__name__)


class Outcome(Protocol):
    """What a job's run returns."""

    @property
    def outcome(self) -> str:
        """"ok", "partial" (some accounts failed) or "skipped" (nothing to do here)."""
        ...

    def summary(self) -> str:
        """One line for a person (`banso jobs run`)."""
        ...


R = TypeVar("R", bound=Outcome)


def recorded(name: str, work: Callable[[], R]) -> R:
    started = time.monotonic()
    outcome = "error"
    try:
        result = work()
        outcome = result.outcome
        return result
    finally:
        seconds = time.monotonic() - started
        JOB_RUNS.labels(name, outcome).inc()
        JOB_SECONDS.labels(name).observe(seconds)
        log.info("job finished", extra={"job": name, "outcome": outcome,
                                        "seconds": round(seconds, 3)})
