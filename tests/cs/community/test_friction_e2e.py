"""The issue's "done when", end to end: members of an account ask (signed Slack events) what
the knowledge base cannot answer and escalate; the next alert run posts one support-friction
card to the owner with links to the questions; the health falls by the documented amount
(docs/metrics.md, "Community"); 👍 on later answers raises it again."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from bot.models import Question
from core.services import Services
from core.slack.ids import ActionId
from cs.alerts.models import Alert
from jobs.alert_jobs import run_alert_job
from tests.cs.community.conftest import (
    ALICE,
    ANSWERABLE,
    BOB,
    COMMUNITY,
    CSM,
    OWNER,
    STRANGER,
    SUPPORT,
    UNANSWERABLE,
    Harness,
    ask,
    button,
    posted,
    seed_book,
)
from tests.services import services_for

PERMALINK = re.compile(r"<(https://test\.slack\.com/archives/CCOMMUNITY/p\d+)\|")


def _job_services(app: Harness) -> Services:
    client = WebClient(token="xoxb-test", base_url=app.stub.url)
    return services_for(app.settings, app.session_factory.kw["bind"], slack=client,
                        now=app.clock)


def _latest_question(app: Harness) -> Question:
    with app.session_factory() as session:
        question = session.scalars(select(Question).order_by(Question.id.desc())).first()
        assert question is not None and question.reply_ts
        return question


def _click(app: Harness, card: dict[str, Any], action: ActionId, user: str) -> None:
    question = _latest_question(app)
    app.click(button(card["blocks"], action), user=user, channel=COMMUNITY,
              message_ts=question.reply_ts, thread_ts=question.thread_ts)
    app.drain()


def _home_health(app: Harness, user: str = OWNER) -> int:
    """The account's health as its owner reads it in App Home."""
    app.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    app.drain()
    view = app.stub.calls_to("views.publish")[-1].args["view"]
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if isinstance(b.get("text"), dict))
    found = re.search(r"株式会社A1 — (\d+) /", text)
    assert found, text
    return int(found.group(1))


def _cards(app: Harness) -> list[dict[str, Any]]:
    return [c for c in posted(app.stub, CSM) if not c.get("thread_ts")]


def _card_text(card: dict[str, Any]) -> str:
    parts = []
    for block in card["blocks"]:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
    return "\n".join(parts)


def test_unanswered_escalations_post_one_friction_card_and_thumbs_up_lifts_health(
    app: Harness,
) -> None:
    seed_book(app.session_factory, app.stub)
    before = _home_health(app)

    cards = [ask(app, UNANSWERABLE[0], ALICE), ask(app, UNANSWERABLE[1], ALICE)]
    _click(app, cards[-1], ActionId.ASK_HUMAN, ALICE)
    cards.append(ask(app, UNANSWERABLE[2], BOB))
    _click(app, cards[-1], ActionId.ASK_HUMAN, BOB)
    ask(app, "宝くじの当て方は？", STRANGER)  # no contact: counts for no account

    (alice_post, _bob_post) = posted(app.stub, SUPPORT)
    meta = " ".join(e["text"] for b in alice_post["blocks"] if b["type"] == "context"
                    for e in b["elements"])
    assert "株式会社A1 · ハイタッチ · 担当 <@UOWNER> · ヘルス" in meta
    # The community channel never sees the account, its health or another member's question.
    community_posts = str(posted(app.stub, COMMUNITY))
    assert "株式会社A1" not in community_posts and "ヘルス" not in community_posts

    app.clock.advance(timedelta(hours=1))
    run_alert_job("support_friction", _job_services(app), app.clock.now)

    (card,) = _cards(app)
    text = _card_text(card)
    assert card["text"].startswith(f"<@{OWNER}>") and "サポートの困りごと" in card["text"]
    with app.session_factory() as session:
        asked = [(q.user, str(q.ts).replace(".", "")) for q in session.scalars(select(Question))]
    links = {f"https://test.slack.com/archives/{COMMUNITY}/p{ts}"
             for user, ts in asked if user != STRANGER}
    assert set(PERMALINK.findall(text)) == links and len(links) == 3
    assert all(ts not in text for user, ts in asked if user == STRANGER)
    assert "エスカレーション中" in text and "未回答" in text
    assert any(b["type"] == "actions" for b in card["blocks"])  # the usual one-click actions
    # 3 unanswered + 2 open escalations = 5 friction × 5 points, capped at 20; Alice and Bob
    # asked: 2 active members × 1 point.
    after_friction = _home_health(app)
    assert after_friction == before - 20 + 2
    assert f"{after_friction} (" in text  # the card shows the same health

    app.clock.advance(timedelta(hours=1))
    for member in (ALICE, BOB):
        answer = ask(app, ANSWERABLE, member)
        _click(app, answer, ActionId.HELPFUL, member)
    app.stub.reset()
    app.clock.advance(timedelta(hours=1))
    run_alert_job("support_friction", _job_services(app), app.clock.now)

    # 2 answered + 2 👍 = 4 × 2 points on top of the capped friction.
    assert _home_health(app) == after_friction + 8
    assert _cards(app) == []  # still one card, re-rendered in place with the new health
    (update,) = [c.args for c in app.stub.calls_to("chat.update") if c.args["channel"] == CSM]
    assert f"{after_friction + 8} (" in _card_text(update)

    # The usual one-click actions work on it: the owner acknowledges, the card updates.
    with app.session_factory() as session:
        (alert,) = session.scalars(select(Alert)).all()
    app.click(button(card["blocks"], "alert_acknowledge"), user=OWNER, channel=CSM,
              message_ts=alert.ts)
    app.drain()
    with app.session_factory() as session:
        (alert,) = session.scalars(select(Alert)).all()
    assert (alert.kind, alert.status, alert.acknowledged_by) == (
        "support_friction", "acknowledged", OWNER)
    assert not app.stub.violations
