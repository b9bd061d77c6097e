"""Daily housekeeping: forget Slack event ids old enough that Slack can no longer retry them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.dedupe import forget_old
from core.db import session_scope
from core.services import Services

CRON = "15 4 * * *"  # daily, in the quiet hours of the schedule's time zone


@dataclass(frozen=True)
class Housekeeping:
    slack_events_forgotten: int
    outcome: str = "ok"

    def summary(self) -> str:
        n = self.slack_events_forgotten
        return f"housekeeping: {n} Slack event {'id' if n == 1 else 'ids'} forgotten"


def housekeeping(services: Services, now: datetime) -> Housekeeping:
    with session_scope(services.session_factory) as session:
        return Housekeeping(forget_old(session, now))
