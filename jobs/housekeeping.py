"""Daily housekeeping: forget Slack event ids old enough that Slack can no longer retry them,
and question texts older than BANSO_QUESTION_RETENTION_DAYS (cs.community.retention)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.dedupe import forget_old
from core.db import session_scope
from core.services import Services
from cs.community.retention import forget_question_texts

CRON = "15 4 * * *"  # daily, in the quiet hours of the schedule's time zone


@dataclass(frozen=True)
class Housekeeping:
    slack_events_forgotten: int
    question_texts_forgotten: int = 0
    outcome: str = "ok"

    def summary(self) -> str:
        n = self.slack_events_forgotten
        texts = self.question_texts_forgotten
        line = f"housekeeping: {n} Slack event {'id' if n == 1 else 'ids'} forgotten"
        if texts:
            line += f", {texts} question {'text' if texts == 1 else 'texts'} past retention deleted"
        return line


def housekeeping(services: Services, now: datetime) -> Housekeeping:
    with session_scope(services.session_factory) as session:
        texts = forget_question_texts(session, now, services.settings.question_retention_days)
        return Housekeeping(forget_old(session, now), texts)
