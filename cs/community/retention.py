"""Question texts are kept only as long as BANSO_QUESTION_RETENTION_DAYS says.

The daily housekeeping blanks the text of older questions in the answer log; every row stays,
so outcomes, 👍/👎, escalations, community activity and every KPI count are unchanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.models import Question

FORGOTTEN = ""  # bot_questions.text is NOT NULL: the empty text marks a forgotten question


def forget_question_texts(session: Session, now: datetime, retention_days: int) -> int:
    """Blank texts of questions asked more than `retention_days` ago (0: keep all)."""
    if retention_days <= 0:
        return 0
    before = now - timedelta(days=retention_days)
    result = session.execute(
        update(Question).where(Question.created_at < before, Question.text != FORGOTTEN)
        .values(text=FORGOTTEN).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
