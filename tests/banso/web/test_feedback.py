"""POST /api/feedback: the chat page's helpful / not-helpful buttons land in the bot's tables."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Feedback, Question
from tests.banso.web.conftest import FakeClock


def test_web_question_is_stored_with_its_candidates(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    answer_id = client.post("/api/ask", json={"question": "請求書がほしい"}).json()["answer_id"]

    with session_factory() as session:
        question = session.get(Question, answer_id)
        assert question is not None
        assert question.surface == "web"
        assert question.text == "請求書がほしい"
        assert question.visibility == "public"
        assert question.top_entry_id == "invoice-download"
        assert question.candidates[0]["id"] == "invoice-download"


def test_helpful_click_is_stored_and_a_second_click_replaces_it(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    answer_id = client.post("/api/ask", json={"question": "パスワードを忘れた"}).json()["answer_id"]

    first = client.post("/api/feedback", json={"answer_id": answer_id, "helpful": True})
    second = client.post("/api/feedback", json={"answer_id": answer_id, "helpful": False})

    assert first.status_code == second.status_code == 200
    with session_factory() as session:
        rows = session.scalars(select(Feedback).where(Feedback.question_id == answer_id)).all()
    assert [(r.helpful, r.entry_id) for r in rows] == [(False, "password-reset")]


def test_feedback_for_an_unknown_answer_is_404(client: TestClient) -> None:
    resp = client.post("/api/feedback", json={"answer_id": 987654, "helpful": True})

    assert resp.status_code == 404
    assert resp.json() == {"detail": "no such answer_id"}


def test_feedback_cannot_vote_on_a_slack_answer(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    from datetime import UTC, datetime

    with session_factory() as session:
        slack_q = Question(surface="slack", channel="C1", user="U1", text="x", lang="ja",
                           visibility="internal", decision="answer", candidates=[],
                           created_at=datetime(2026, 1, 1, tzinfo=UTC))
        session.add(slack_q)
        session.commit()
        slack_id = slack_q.id

    resp = client.post("/api/feedback", json={"answer_id": slack_id, "helpful": False})

    assert resp.status_code == 404


def test_malformed_feedback_is_refused(client: TestClient) -> None:
    for body in ({"answer_id": "abc", "helpful": True}, {"answer_id": 1}, {"helpful": True},
                 {"answer_id": 0, "helpful": True}, {"answer_id": 2**31, "helpful": True}):
        assert client.post("/api/feedback", json=body).status_code == 422, body


def test_feedback_has_its_own_rate_limit_with_retry_after(
    make_app: Callable[..., FastAPI], clock: FakeClock, session_factory: sessionmaker[Session]
) -> None:
    with TestClient(make_app(feedback_rate_limit_per_minute=3)) as client:
        answer_id = client.post("/api/ask", json={"question": "請求書がほしい"}).json()["answer_id"]
        vote = {"answer_id": answer_id, "helpful": True}
        codes = [client.post("/api/feedback", json=vote).status_code for _ in range(4)]
        limited = client.post("/api/feedback", json=vote)
        asked = client.post("/api/ask", json={"question": "請求書がほしい"})
        clock.now += 20  # 3 per minute: one back every 20 s
        again = client.post("/api/feedback", json=vote)

    assert codes == [200, 200, 200, 429]
    assert int(limited.headers["retry-after"]) in range(1, 21)
    assert "too many feedback clicks" in limited.json()["detail"]
    assert asked.status_code == 200  # questions have their own bucket
    assert again.status_code == 200
    with session_factory() as session:
        assert len(session.scalars(select(Feedback)).all()) == 1  # one vote per visitor anyway
