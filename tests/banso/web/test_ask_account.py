"""Website chat questions count for an account only with a token the embedding site signed."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from cs.community.activity import sync_activity
from cs.community.models import CommunityQuestion
from cs.community.web import sign_account_token
from tests.cs.alerts_support import account_row, seed
from tests.services import services_for

SECRET = "chat-secret"


def _rows(factory: sessionmaker[Session]) -> list[CommunityQuestion]:
    with factory() as session:
        return list(session.scalars(select(CommunityQuestion)))


def test_a_signed_token_counts_the_question_for_its_account_and_others_are_ignored(
    make_app: Callable[..., FastAPI], session_factory: sessionmaker[Session],
    web_settings: Settings,
) -> None:
    seed(session_factory, [account_row("A1")])
    later = int(time.time()) + 3600
    tokens = {
        "forged": sign_account_token("not-the-secret", "A1", later),
        "expired": sign_account_token(SECRET, "A1", int(time.time()) - 60),
        "unknown account": sign_account_token(SECRET, "NOPE", later),
        "garbage": "v1.A1",
    }
    with TestClient(make_app(chat_account_secret=SecretStr(SECRET))) as http:
        for name, token in tokens.items():
            reply = http.post("/api/ask", json={"question": "請求書はどこ？",
                                                "account_token": token})
            assert reply.status_code == 200, name  # answered as always
        assert _rows(session_factory) == []

        good = http.post("/api/ask", json={"question": "請求書はどこ？",
                                           "account_token": sign_account_token(SECRET, "A1",
                                                                               later)})
        assert good.status_code == 200
        answer_id = good.json()["answer_id"]
        assert http.post("/api/feedback", json={"answer_id": answer_id,
                                                "helpful": True}).status_code == 200

    services = services_for(web_settings, session_factory.kw["bind"])
    sync_activity(services, services.now())  # picks up the 👍 given afterwards
    (row,) = _rows(session_factory)
    assert (row.question_id, row.account_id, row.slack_user_id) == (answer_id, "A1", None)
    assert row.outcome == "answered" and row.helpful == 1


def test_without_a_configured_secret_every_token_is_ignored(
    make_app: Callable[..., FastAPI], session_factory: sessionmaker[Session],
) -> None:
    seed(session_factory, [account_row("A1")])
    token = sign_account_token(SECRET, "A1", int(time.time()) + 3600)
    with TestClient(make_app()) as http:
        reply = http.post("/api/ask", json={"question": "請求書はどこ？", "account_token": token})
    assert reply.status_code == 200 and _rows(session_factory) == []
