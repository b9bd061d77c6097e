"""User and customer text reaches Slack only escaped: its mentions never fire, its links are text.

One hostile string — every Slack control sequence a visitor or a customer record could carry —
goes in through every door (the web chat, a Slack question, /ask, a thread saved as a draft,
the ingest API for account and contact names) and out through every message that can quote it:
answer cards and their shared copies, the hand-off to support, alert cards and the tech-touch
digest, App Home, the CS and curation digests. Every message the Slack stand-in received is
then searched for the raw sequences.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from banso.runtime import Runtime
from banso.slack_app import build_bolt_app
from banso.web.app import create_app
from core.settings import Settings
from core.slack.blocks import escape
from core.slack.client import slack_client
from core.slack.ids import ActionId, ShortcutId
from jobs.alert_jobs import run_alert_job
from jobs.digests import send_cs_digest, send_curation_digest
from retrieval.service import Retriever
from tests.bot.conftest import (
    COMMUNITY,
    CURATORS,
    CUSTOMER,
    INTERNAL,
    SECRET,
    STAFF,
    SUPPORT,
    DrainableExecutor,
    button,
    event_envelope,
    message,
)
from tests.cs.alerts_support import Clock
from tests.services import services_for
from tests.slack_stub import SlackStub, sign

RAW = ["<!here>", "<!channel>", "<@U123>", "<!subteam^S1>", "<https://evil.example|bank>"]
HOSTILE = " ".join(RAW)
TOKEN = "ingest-token"
CSM = "CCSMROOM"


@pytest.fixture
def app(bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
        retriever: Retriever, clock: Clock) -> Iterator[tuple[TestClient, DrainableExecutor]]:
    settings = bot_settings.model_copy(update={
        "api_token": SecretStr(TOKEN), "csm_channel": CSM, "ask_rate_limit_per_minute": 1000,
    })
    services = services_for(settings, session_factory.kw["bind"], slack=slack_client(settings),
                            retriever=retriever, now=clock)
    executor = DrainableExecutor()
    runtime = Runtime(services=services,
                      bolt_app=build_bolt_app(services, listener_executor=executor))
    with TestClient(create_app(runtime)) as http:
        yield http, executor
    executor.drain()
    executor.shutdown()


def _slack(http: TestClient, body: str, content_type: str) -> Any:
    reply = http.post("/slack/events", content=body.encode(),
                      headers={"Content-Type": content_type, **sign(SECRET, body)})
    assert reply.status_code == 200, reply.text
    return reply


def _interact(http: TestClient, payload: dict[str, Any]) -> Any:
    return _slack(http, urlencode({"payload": json.dumps(payload)}),
                  "application/x-www-form-urlencoded")


def _click(http: TestClient, stub: SlackStub, element: dict[str, Any], *, user: str,
           channel: str, message_ts: str | None = None, ephemeral: bool = False) -> None:
    container: dict[str, Any] = {"type": "message", "channel_id": channel,
                                 "is_ephemeral": ephemeral}
    if message_ts:
        container["message_ts"] = message_ts
    _interact(http, {
        "type": "block_actions", "team": {"id": "T0001"}, "user": {"id": user},
        "channel": {"id": channel}, "container": container, "trigger_id": "t.1",
        "response_url": f"{stub.base}/response/{user}-{element['action_id']}",
        "actions": [{"type": "button", "action_id": element["action_id"], "block_id": "b",
                     "value": element.get("value", ""), "action_ts": "1700000000.5"}],
    })


def _ingest(http: TestClient, kind: str, rows: list[dict[str, Any]]) -> None:
    reply = http.post(f"/api/{kind}", json={"rows": rows},
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200 and not reply.json()["errors"], reply.text


def _texts(stub: SlackStub) -> dict[str, list[str]]:
    """Everything each Web API method (and response_url) was sent, as JSON text."""
    sent: dict[str, list[str]] = {}
    for call in stub.calls:
        sent.setdefault(call.method, []).append(json.dumps(call.args, ensure_ascii=False))
    return sent


def _to(stub: SlackStub, method: str, channel: str) -> str:
    return "\n".join(json.dumps(c.args, ensure_ascii=False) for c in stub.calls_to(method)
                     if c.args.get("channel") == channel)


def test_hostile_text_reaches_slack_only_escaped_on_every_path(
    app: tuple[TestClient, DrainableExecutor], stub: SlackStub, clock: Clock,
) -> None:
    http, listeners = app
    today = clock.now.date()

    # Customer records: an account and its new primary contact named with the string.
    _ingest(http, "accounts", [
        {"id": "A1", "name": HOSTILE, "mrr": 600_000, "contract_start": "2025-01-01",
         "owner_user_id": STAFF, "csm_channel": CSM},
        {"id": "A2", "name": HOSTILE, "mrr": 10_000, "contract_start": "2025-01-01",
         "owner_user_id": STAFF, "csm_channel": CSM},
    ])
    login = (clock.now - timedelta(days=45)).isoformat()
    _ingest(http, "usage", [
        {"account_id": a, "day": (today - timedelta(days=d)).isoformat(),
         "last_login_at": login, "active_users": 1, "seats": 10, "setup_progress": 20,
         "inquiries": 0} for a in ("A1", "A2") for d in range(35)])
    _ingest(http, "contacts", [{"account_id": "A1", "name": "前任 太郎",
                                "email": "p1@example.com", "is_primary": True}])
    clock.advance(days=1)
    _ingest(http, "contacts", [{"account_id": "A1", "name": HOSTILE, "email": "p2@example.com",
                                "is_primary": True, "moved_to": HOSTILE}])
    run_alert_job("at_risk", http.app.state.services, clock.now)  # type: ignore[attr-defined]
    run_alert_job("digest", http.app.state.services, clock.now)  # type: ignore[attr-defined]

    # A visitor's question on the website chat (nothing matches: a gap for the curators).
    asked = http.post("/api/ask", json={"question": HOSTILE})
    assert asked.status_code == 200 and asked.json()["decision"] == "abstain"

    # A customer's question in a community channel, then "Ask a human" on its card.
    question = message(f"{HOSTILE} パスワードを忘れました？", channel=COMMUNITY, user=CUSTOMER)
    _slack(http, json.dumps(event_envelope(question)), "application/json")
    listeners.drain()
    card = stub.wait_for("chat.postMessage")[-1].args
    _click(http, stub, button(card["blocks"], ActionId.ASK_HUMAN), user=CUSTOMER,
           channel=COMMUNITY, message_ts="1700000001.000100")
    listeners.drain()

    # /ask in an internal channel by staff, then "Share in channel".
    _slack(http, urlencode({"command": "/ask", "text": f"{HOSTILE} パスワードを忘れました",
                            "user_id": STAFF, "channel_id": INTERNAL, "team_id": "T0001",
                            "response_url": f"{stub.base}/response/ask", "trigger_id": "t"}),
           "application/x-www-form-urlencoded")
    listeners.drain()
    ephemeral = stub.wait_for("response_url")[-1].args
    _click(http, stub, button(ephemeral["blocks"], ActionId.SHARE), user=STAFF,
           channel=INTERNAL, ephemeral=True)
    listeners.drain()

    # A thread whose question is the string, saved as a FAQ draft by staff: as mentions, and
    # typed literally (Slack sends those escaped; the draft turns them back into text).
    asked_in_thread = f"{HOSTILE} {escape(HOSTILE)} 請求書はどこ？"
    stub.threads[(COMMUNITY, "1700000050.000100")] = [
        {"ts": "1700000050.000100", "user": CUSTOMER, "text": asked_in_thread},
        {"ts": "1700000051.000100", "user": STAFF, "text": "設定の請求から。"},
    ]
    _interact(http, {"type": "message_action", "callback_id": str(ShortcutId.SAVE_DRAFT),
                     "team": {"id": "T0001"}, "user": {"id": STAFF},
                     "channel": {"id": COMMUNITY}, "trigger_id": "t.2",
                     "response_url": f"{stub.base}/response/draft",
                     "message": {"ts": "1700000050.000100", "user": CUSTOMER,
                                 "text": asked_in_thread}})
    listeners.drain()

    # App Home of the account owner, then the weekly digests (the next day: a digest covers
    # the days before the one it is sent on).
    _slack(http, json.dumps(event_envelope({"type": "app_home_opened", "user": STAFF,
                                            "tab": "home"})), "application/json")
    listeners.drain()
    services = http.app.state.services  # type: ignore[attr-defined]
    clock.advance(days=1)
    assert send_cs_digest(services, clock.now).sent
    assert send_curation_digest(services, clock.now).sent

    everything = "\n".join(text for texts in _texts(stub).values() for text in texts)
    for raw in RAW:
        assert raw not in everything, f"{raw} reached Slack unescaped"
    # …and each path did carry the string, escaped (or the test proves nothing).
    reached = {
        "alert cards": _to(stub, "chat.postMessage", CSM),
        "hand-off to support": _to(stub, "chat.postMessage", SUPPORT),
        "shared answer": _to(stub, "chat.postMessage", INTERNAL),
        "curators (draft, digest)": _to(stub, "chat.postMessage", CURATORS),
        "App Home": "\n".join(_texts(stub).get("views.publish", [])),
    }
    for path, text in reached.items():
        # (A Slack question arrives without its mentions: the bot strips them from questions.)
        assert any(escape(raw) in text for raw in RAW), f"nothing of the string reached {path}"
    # The visitor's question, whole, among the curation digest's gaps.
    assert escape(HOSTILE) in reached["curators (draft, digest)"]
    assert stub.violations == []
