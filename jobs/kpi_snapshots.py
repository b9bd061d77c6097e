"""The daily book snapshot job: store today's book counts, so past months keep their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db import session_scope
from core.services import Services
from cs.kpis import snapshots
from cs.kpis.service import assess_book

# Late in the day in the schedule's zone: the snapshot stands for the end of that day.
CRON = "50 23 * * *"


@dataclass(frozen=True)
class SnapshotResult:
    day: str
    accounts: int
    outcome: str = "ok"

    def summary(self) -> str:
        n = self.accounts
        return f"book snapshot of {self.day}: {n} live {'account' if n == 1 else 'accounts'}"


def snapshot_book(services: Services, now: datetime) -> SnapshotResult:
    local = now.astimezone(services.timezone)
    with session_scope(services.session_factory) as session:
        rows, _ = assess_book(session, local, services.rules, services.lang)
        stored = snapshots.take(session, local.date(), rows, now)
    return SnapshotResult(local.date().isoformat(), stored.accounts)
