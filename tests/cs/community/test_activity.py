"""Per-account community activity: stored per question, read by account and by week; a staff
✅ on the escalation post closes the escalation; tech-touch friction goes to the digest and
healthy engagement counts as a touch."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from bot.models import Escalation, Question
from core.services import Services
from core.slack.ids import ActionId
from cs.accounts.service import facts_for
from cs.alerts.models import Alert
from cs.community.activity import sync_activity, weekly_activity, window_activity
from cs.community.models import CommunityQuestion
from cs.rules.rules import Assessor
from jobs.alert_jobs import run_alert_job
from jobs.housekeeping import housekeeping
from tests.cs.alerts_support import seed
from tests.cs.community.conftest import (
    ALICE,
    ANSWERABLE,
    BOB,
    COMMUNITY,
    CSM,
    NOW,
    STAFF,
    SUPPORT,
    UNANSWERABLE,
    Harness,
    ask,
    button,
    posted,
    seed_book,
)
from tests.services import services_for


def _services(app: Harness) -> Services:
    client = WebClient(token="xoxb-test", base_url=app.stub.url)
    return services_for(app.settings, app.session_factory.kw["bind"], slack=client,
                        now=app.clock)


def _click(app: Harness, card: dict[str, Any], action: ActionId, user: str) -> Question:
    with app.session_factory() as session:
        question = session.scalars(select(Question).order_by(Question.id.desc())).first()
        assert question is not None
    app.click(button(card["blocks"], action), user=user, channel=COMMUNITY,
              message_ts=question.reply_ts, thread_ts=question.thread_ts)
    app.drain()
    return question


def _react(app: Harness, user: str, ts: str, reaction: str = "white_check_mark") -> None:
    app.event({"type": "reaction_added", "user": user, "reaction": reaction,
               "item": {"type": "message", "channel": SUPPORT, "ts": ts},
               "item_user": "UBOT", "event_ts": "1700009999.000100"})
    app.drain()


def test_activity_is_stored_per_question_and_read_by_week(app: Harness) -> None:
    seed_book(app.session_factory, app.stub)
    ask(app, UNANSWERABLE[0], ALICE)
    answer = ask(app, ANSWERABLE, BOB)
    _click(app, answer, ActionId.NOT_HELPFUL, BOB)
    app.clock.advance(timedelta(days=7))  # the next week
    answer = ask(app, ANSWERABLE, ALICE)
    _click(app, answer, ActionId.HELPFUL, ALICE)
    sync_activity(_services(app), app.clock.now)

    with app.session_factory() as session:
        rows = list(session.scalars(select(CommunityQuestion)
                                    .order_by(CommunityQuestion.question_id)))
        weeks = weekly_activity(session, "A1", date(2026, 11, 1))
    assert [(r.slack_user_id, r.outcome, r.helpful, r.unhelpful) for r in rows] == [
        (ALICE, "abstained", 0, 0), (BOB, "answered", 0, 1), (ALICE, "answered", 1, 0)]
    assert all(r.permalink and r.account_id == "A1" for r in rows)
    assert [(w.week, w.questions, w.answered, w.unanswered, w.helpful, w.unhelpful, w.members)
            for w in weeks] == [(date(2026, 11, 23), 2, 1, 1, 0, 1, 2),
                                (date(2026, 11, 30), 1, 1, 0, 1, 0, 1)]
    with app.session_factory() as session:
        bob = weekly_activity(session, "A1", date(2026, 11, 1), contact_id=rows[1].contact_id)
    assert [(w.week, w.questions, w.unhelpful) for w in bob] == [(date(2026, 11, 23), 1, 1)]


def test_a_staff_check_mark_on_the_support_post_closes_the_escalation(app: Harness) -> None:
    seed_book(app.session_factory, app.stub)
    card = ask(app, UNANSWERABLE[0], ALICE)
    _click(app, card, ActionId.ASK_HUMAN, ALICE)
    assert len(posted(app.stub, SUPPORT)) == 1
    with app.session_factory() as session:
        escalation = session.scalars(select(Escalation)).one()
        ts = str(escalation.support_ts)

    _react(app, ALICE, ts)  # a customer's ✅ means nothing
    _react(app, STAFF, ts, reaction="eyes")  # nor does another reaction
    sync_activity(_services(app), app.clock.now)
    with app.session_factory() as session:
        row = session.scalars(select(CommunityQuestion)).one()
        assert row.escalated_at is not None and row.escalation_closed_at is None

    app.clock.advance(timedelta(hours=2))
    _react(app, STAFF, ts)
    with app.session_factory() as session:
        row = session.scalars(select(CommunityQuestion)).one()
        weeks = weekly_activity(session, "A1", date(2026, 11, 23))
    assert row.escalation_closed_at == NOW + timedelta(hours=2)
    assert row.escalation_closed_by == STAFF
    assert (weeks[0].escalations, weeks[0].escalations_closed) == (1, 1)
    assert weeks[0].hours_open == 2.0


def test_tech_touch_friction_goes_to_the_digest_not_a_card(app: Harness) -> None:
    seed_book(app.session_factory, app.stub, mrr=30_000)  # tech-touch
    for text in (*UNANSWERABLE, "宝くじの当て方は？"):
        ask(app, text, ALICE)
    run_alert_job("support_friction", _services(app), app.clock.now)
    run_alert_job("digest", _services(app), app.clock.now)

    with app.session_factory() as session:
        (alert,) = session.scalars(select(Alert)).all()
    assert (alert.kind, alert.delivery) == ("support_friction", "digest")
    (digest,) = posted(app.stub, CSM)
    assert "株式会社A1" in str(digest["blocks"])
    # The newest three questions as whole links (a digest line is clipped at 500 characters).
    assert str(digest["blocks"]).count("https://test.slack.com/archives/") == 3
    # Question texts are never written into alerts or digests, only links to the threads.
    assert not any(text in str(digest) for text in UNANSWERABLE)


def test_tech_touch_members_engaged_after_a_contact_change_end_its_alert(app: Harness) -> None:
    seed_book(app.session_factory, app.stub, mrr=30_000)  # tech-touch; Alice is primary
    later = NOW + timedelta(hours=1)
    seed(app.session_factory, [], contacts=[{"account_id": "A1", "name": "Carol",
                                            "email": "carol@a1.example.com"}], now=later)
    services = _services(app)
    run_alert_job("contact_changes", services, later)
    with app.session_factory() as session:
        (alert,) = session.scalars(select(Alert)).all()
    assert (alert.kind, alert.status) == ("contact_change", "open")

    app.clock.advance(timedelta(hours=2))
    answer = ask(app, ANSWERABLE, BOB)  # Bob, still a member, gets an answer and says 👍
    _click(app, answer, ActionId.HELPFUL, BOB)
    run_alert_job("contact_changes", services, app.clock.now)

    with app.session_factory() as session:
        (alert,) = session.scalars(select(Alert)).all()
    assert alert.status == "resolved" and alert.resolved_by is None


def test_healthy_engagement_counts_as_a_touch_for_tech_touch_only(app: Harness) -> None:
    seed_book(app.session_factory, app.stub, mrr=30_000)
    answer = ask(app, ANSWERABLE, ALICE)
    _click(app, answer, ActionId.HELPFUL, ALICE)
    services = _services(app)
    sync_activity(services, NOW)
    with app.session_factory() as session:
        activity = window_activity(session, NOW, services.rules.health.measures.community)
        facts = facts_for(session, "A1", NOW, activity.get("A1"))
    tech = Assessor(services.rules)(facts, NOW)
    assert tech.community_touch_at == NOW and tech.touched_since(NOW - timedelta(days=1))
    high = Assessor(services.rules)(replace(facts, mrr=600_000), NOW)
    assert high.community_touch_at is None
    assert not high.touched_since(NOW - timedelta(days=1))


def test_retention_deletes_old_question_texts_and_keeps_the_counts(app: Harness) -> None:
    seed_book(app.session_factory, app.stub)
    ask(app, UNANSWERABLE[0], ALICE)
    app.clock.advance(timedelta(days=20))
    ask(app, UNANSWERABLE[1], ALICE)
    services = _services(app)
    sync_activity(services, app.clock.now)
    kept = services_for(app.settings.model_copy(update={"question_retention_days": 14}),
                        app.session_factory.kw["bind"], now=app.clock)

    done = housekeeping(kept, app.clock.now)

    assert done.question_texts_forgotten == 1
    assert "1 question text past retention deleted" in done.summary()
    with app.session_factory() as session:
        texts = [q.text for q in session.scalars(select(Question).order_by(Question.id))]
        weeks = weekly_activity(session, "A1", date(2026, 11, 1))
    assert texts == ["", UNANSWERABLE[1]]
    assert sum(w.questions for w in weeks) == 2 and sum(w.unanswered for w in weeks) == 2
    assert housekeeping(kept, app.clock.now).question_texts_forgotten == 0  # once
