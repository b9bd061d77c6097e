"""Recording what the bot did: questions and answers, feedback, escalations, knowledge gaps.

Shared with the web surface (/api/ask, /api/feedback: surface "web") and read by the curation
report. Functions add and flush; the caller owns the transaction (`core.db.session_scope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.blocks import Candidate
from bot.models import Escalation, Feedback, Question, Surface
from core.metrics import ANSWERS, ESCALATIONS, FEEDBACK
from retrieval.models import Decision, SearchResult, Visibility

CANDIDATES_KEPT = 5


class UnknownQuestion(LookupError):
    """No stored question has this id (stale button, wrong /api/feedback body)."""


@dataclass(frozen=True)
class SlackPlace:
    """Where a Slack question was asked and where its answer thread is."""

    channel: str | None = None
    user: str | None = None
    ts: str | None = None
    thread_ts: str | None = None


def record_question(
    session: Session,
    *,
    surface: Surface | str,
    result: SearchResult,
    visibility: Visibility,
    now: datetime,
    text: str | None = None,
    place: SlackPlace | None = None,
) -> Question:
    """Store one answered question (abstains included: they are the knowledge gaps)."""
    place = place or SlackPlace()
    top = result.top if result.decision is not Decision.ABSTAIN else None
    question = Question(
        surface=str(Surface(surface)),
        channel=place.channel,
        user=place.user,
        ts=place.ts,
        thread_ts=place.thread_ts,
        text=text if text is not None else result.query,
        lang=result.lang,
        visibility=str(visibility),
        decision=str(result.decision),
        top_entry_id=top.entry.id if top else None,
        candidates=[Candidate.from_hit(h).to_dict() for h in result.hits[:CANDIDATES_KEPT]],
        created_at=now,
    )
    session.add(question)
    session.flush()
    ANSWERS.labels(question.surface, question.decision).inc()
    return question


def get_question(session: Session, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None:
        raise UnknownQuestion(f"no question with id {question_id}")
    return question


def candidates(question: Question) -> list[Candidate]:
    return [Candidate.from_dict(c) for c in question.candidates or []]


def set_reply(
    session: Session, question_id: int, reply_ts: str | None, *, thread_ts: str | None = None,
) -> None:
    """Remember the bot's answer message; a question without a thread gets the answer's."""
    question = get_question(session, question_id)
    question.reply_ts = reply_ts
    question.thread_ts = thread_ts or question.thread_ts or reply_ts
    session.flush()


def record_feedback(
    session: Session, question_id: int, user: str, helpful: bool, *,
    entry_id: str | None = None, now: datetime | None = None,
) -> Feedback:
    """Keep the latest click of `user` on this answer (a second click replaces the first)."""
    question = get_question(session, question_id)
    now = now or datetime.now(UTC)
    entry_id = entry_id or question.top_entry_id
    FEEDBACK.labels(question.surface, str(helpful).lower()).inc()
    existing = _feedback_of(session, question_id, user)
    if existing is None:
        try:
            with session.begin_nested():
                existing = Feedback(question_id=question_id, user=user, helpful=helpful,
                                    entry_id=entry_id, updated_at=now)
                session.add(existing)
            return existing
        except IntegrityError:
            # The same user's other click (another replica) inserted first: update that row.
            existing = _feedback_of(session, question_id, user)
            if existing is None:
                raise
    existing.helpful = helpful
    existing.entry_id = entry_id
    existing.updated_at = now
    session.flush()
    return existing


def _feedback_of(session: Session, question_id: int, user: str) -> Feedback | None:
    return session.scalars(
        select(Feedback).where(Feedback.question_id == question_id, Feedback.user == user)
    ).one_or_none()


def feedback_counts(session: Session, question_id: int) -> tuple[int, int]:
    """(helpful, not helpful) over the latest click of each user."""
    row = session.execute(
        select(
            func.coalesce(func.sum(case((Feedback.helpful.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((Feedback.helpful.is_(False), 1), else_=0)), 0),
        ).where(Feedback.question_id == question_id)
    ).one()
    return int(row[0]), int(row[1])


def record_escalation(
    session: Session, question_id: int, requested_by: str, support_channel: str, now: datetime,
) -> Escalation | None:
    """Store the hand-off to humans; None if this question was already escalated."""
    get_question(session, question_id)
    escalation = Escalation(question_id=question_id, requested_by=requested_by,
                            support_channel=support_channel, created_at=now)
    try:
        with session.begin_nested():
            session.add(escalation)
    except IntegrityError:
        return None
    ESCALATIONS.inc()
    return escalation


def set_escalation_post(session: Session, escalation_id: int, support_ts: str | None) -> None:
    session.get_one(Escalation, escalation_id).support_ts = support_ts
    session.flush()


def cancel_escalation(session: Session, escalation_id: int) -> None:
    """The support post failed: drop the record so the question can be escalated again."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is not None:
        session.delete(escalation)
        session.flush()


def is_bot_thread(session: Session, channel: str, thread_ts: str) -> bool:
    """Did the bot answer in this thread (so follow-ups there need no mention)?"""
    found = session.scalars(
        select(Question.id)
        .where(Question.channel == channel, Question.thread_ts == thread_ts,
               Question.reply_ts.is_not(None))
        .limit(1)
    ).first()
    return found is not None


def knowledge_gaps(
    session: Session, since: datetime, until: datetime | None = None,
) -> list[Question]:
    """Questions the bot could not answer in [since, until), oldest first."""
    query = select(Question).where(
        Question.decision == str(Decision.ABSTAIN), Question.created_at >= since
    )
    if until is not None:
        query = query.where(Question.created_at < until)
    return list(session.scalars(query.order_by(Question.created_at, Question.id)))
