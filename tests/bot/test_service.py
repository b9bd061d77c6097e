"""What is stored for every answer, click and escalation (also used by /api/ask and reports)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.dedupe import claim_message, forget_old
from bot.models import Feedback, Question, SlackEventSeen, Surface
from bot.service import (
    SlackPlace,
    UnknownQuestion,
    feedback_counts,
    is_bot_thread,
    knowledge_gaps,
    record_escalation,
    record_feedback,
    record_question,
    set_reply,
)
from core.db import session_scope
from retrieval.models import Decision, Hit, SearchResult, Visibility
from tests.bot.conftest import NOW
from tests.bot.kb import INVOICE, PASSWORD


def _result(decision: Decision = Decision.ANSWER) -> SearchResult:
    hits = [Hit(PASSWORD, 0.91234), Hit(INVOICE, 0.5)]
    if decision is Decision.ABSTAIN:
        hits = [Hit(INVOICE, 0.3)]
    return SearchResult("パスワードを忘れた", decision, hits, "ja")


def _ask(factory: sessionmaker[Session], decision: Decision = Decision.ANSWER, *,
         when: timedelta = timedelta(0), surface: Surface = Surface.WEB) -> int:
    with session_scope(factory) as session:
        return record_question(session, surface=surface, result=_result(decision),
                               visibility=Visibility.PUBLIC, now=NOW + when).id


def test_question_is_stored_with_decision_top_entry_and_candidates(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as session:
        question = record_question(
            session, surface=Surface.SLACK, result=_result(), visibility=Visibility.INTERNAL,
            now=NOW, place=SlackPlace(channel="C1", user="U1", ts="1.1", thread_ts="1.1"))
        qid = question.id
    with session_factory() as session:
        stored = session.get_one(Question, qid)
        assert (stored.surface, stored.decision, stored.top_entry_id, stored.visibility) == (
            "slack", "answer", "password-reset", "internal")
        assert stored.candidates[0] == {"id": "password-reset", "title": PASSWORD.title,
                                        "score": 0.9123, "visibility": "public"}
        assert stored.created_at == NOW and stored.lang == "ja"


def test_latest_click_per_user_wins_and_counts_per_user(
    session_factory: sessionmaker[Session],
) -> None:
    qid = _ask(session_factory)
    with session_scope(session_factory) as session:
        record_feedback(session, qid, "U1", True, now=NOW)
        record_feedback(session, qid, "U2", True, now=NOW)
    with session_scope(session_factory) as session:
        record_feedback(session, qid, "U1", False, now=NOW + timedelta(minutes=1))
    with session_factory() as session:
        rows = session.scalars(select(Feedback).order_by(Feedback.user)).all()
        assert [(r.user, r.helpful) for r in rows] == [("U1", False), ("U2", True)]
        assert rows[0].updated_at == NOW + timedelta(minutes=1)
        assert rows[0].entry_id == "password-reset"
        assert feedback_counts(session, qid) == (1, 1)


def test_feedback_on_unknown_question_is_a_clear_error(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, pytest.raises(UnknownQuestion, match="no question"):
        record_feedback(session, 999_999, "U1", True, now=NOW)


def test_a_question_is_escalated_once(session_factory: sessionmaker[Session]) -> None:
    qid = _ask(session_factory)
    with session_scope(session_factory) as session:
        assert record_escalation(session, qid, "U1", "CSUP", NOW) is not None
    with session_scope(session_factory) as session:
        assert record_escalation(session, qid, "U2", "CSUP", NOW) is None


def test_knowledge_gaps_are_the_abstained_questions_in_the_period(
    session_factory: sessionmaker[Session],
) -> None:
    _ask(session_factory, Decision.ANSWER)
    early = _ask(session_factory, Decision.ABSTAIN, when=timedelta(days=-10))
    gap = _ask(session_factory, Decision.ABSTAIN, when=timedelta(hours=1))
    with session_factory() as session:
        assert [q.id for q in knowledge_gaps(session, NOW)] == [gap]
        assert [q.id for q in knowledge_gaps(session, NOW - timedelta(days=30), NOW)] == [early]


def test_a_thread_is_the_bots_once_it_answered_there(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as session:
        qid = record_question(session, surface=Surface.SLACK, result=_result(),
                              visibility=Visibility.PUBLIC, now=NOW,
                              place=SlackPlace(channel="C1", user="U1", ts="5.5",
                                               thread_ts="5.5")).id
        assert not is_bot_thread(session, "C1", "5.5")
        set_reply(session, qid, "6.6")
        assert is_bot_thread(session, "C1", "5.5")
        assert not is_bot_thread(session, "C2", "5.5")


def test_a_message_is_claimed_once(session_factory: sessionmaker[Session]) -> None:
    assert claim_message(session_factory, "C1", "1.1", NOW, "Ev1")
    assert not claim_message(session_factory, "C1", "1.1", NOW, "Ev2")
    assert claim_message(session_factory, "C2", "1.1", NOW)
    with session_scope(session_factory) as session:
        assert forget_old(session, NOW + timedelta(days=8)) == 2
        assert session.scalars(select(SlackEventSeen)).all() == []
