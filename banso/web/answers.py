"""The website chat's questions and feedback clicks, stored through the bot's service.

One table for every surface (`bot.models.Question`, surface "web"), so the curator's reports
and the KPIs see web and Slack answers alike.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot import service as bot_service
from bot.models import Surface
from retrieval.models import Decision, Hit, SearchResult, Visibility


class UnknownAnswer(LookupError):
    """Feedback for an answer id that was never given on this surface."""


def record_web_question(
    session: Session, result: SearchResult, shown: list[Hit], decision: Decision, now: datetime
) -> int:
    """Store the question with exactly what the visitor was shown; returns the answer id."""
    question = bot_service.record_question(
        session, surface=Surface.WEB, result=replace(result, hits=shown, decision=decision),
        visibility=Visibility.PUBLIC, now=now,
    )
    return question.id


def record_web_feedback(
    session: Session, answer_id: int, helpful: bool, user: str, now: datetime
) -> None:
    try:
        question = bot_service.get_question(session, answer_id)
    except bot_service.UnknownQuestion:
        raise UnknownAnswer(answer_id) from None
    # Only web answers: an anonymous visitor must not vote on Slack answers by guessing ids.
    if question.surface != Surface.WEB.value:
        raise UnknownAnswer(answer_id)
    bot_service.record_feedback(session, answer_id, user, helpful, now=now)
