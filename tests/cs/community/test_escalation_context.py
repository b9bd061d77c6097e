"""Support knows who is asking even for a member linked only by email and not synced yet: the
escalation links them on the spot (users.info), and the next sync does not ask Slack again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.slack.ids import ActionId
from cs.community.activity import sync_activity
from cs.community.models import CommunityLink
from tests.cs.community.conftest import (
    BOB,
    BOB_EMAIL,
    NOW,
    STRANGER,
    SUPPORT,
    UNANSWERABLE,
    Harness,
    ask,
    posted,
    seed_book,
)
from tests.cs.community.test_activity import _click, _services


def _meta(post: dict[str, Any]) -> str:
    return " ".join(e["text"] for b in post["blocks"] if b["type"] == "context"
                    for e in b["elements"])


def test_an_email_only_member_escalating_before_any_sync_gets_the_account_line(
    app: Harness,
) -> None:
    seed_book(app.session_factory, app.stub)  # Bob: a contact by email only, never looked up
    with app.session_factory() as session:
        assert session.scalars(select(CommunityLink)).all() == []

    card = ask(app, UNANSWERABLE[0], BOB)
    _click(app, card, ActionId.ASK_HUMAN, BOB)

    (post,) = posted(app.stub, SUPPORT)
    assert "株式会社A1 · ハイタッチ · 担当 <@UOWNER> · ヘルス" in _meta(post)
    with app.session_factory() as session:
        (link,) = session.scalars(select(CommunityLink)).all()
    assert (link.email, link.slack_user_id) == (BOB_EMAIL, BOB)

    app.stub.reset()
    sync_activity(_services(app), NOW)  # the cached link is fresh: Slack is not asked again
    assert app.stub.calls_to("users.lookupByEmail") == []
    assert not app.stub.violations


def test_a_member_with_no_contact_escalates_without_an_account_line(app: Harness) -> None:
    seed_book(app.session_factory, app.stub)
    card = ask(app, UNANSWERABLE[0], STRANGER)
    _click(app, card, ActionId.ASK_HUMAN, STRANGER)

    (post,) = posted(app.stub, SUPPORT)
    assert "🏢" not in _meta(post)
    with app.session_factory() as session:
        assert session.scalars(select(CommunityLink)).all() == []
