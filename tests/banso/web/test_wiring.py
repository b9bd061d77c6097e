"""`banso serve` wiring of the Slack app: /slack/events dispatches to bolt when Slack is
configured, and answers 503 with the reason when it is not."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from banso.runtime import build_runtime
from banso.web.app import create_app
from core.services import Services
from core.settings import Settings
from core.slack.client import slack_client
from retrieval.service import Retriever
from tests.services import services_for

SECRET = "test-signing-secret"


def _services(settings: Settings, engine: Engine, retriever: Retriever) -> Services:
    return services_for(settings, engine, slack=slack_client(settings), retriever=retriever)


def _signed(body: bytes, timestamp: int) -> dict[str, str]:
    base = f"v0:{timestamp}:{body.decode()}".encode()
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature,
            "Content-Type": "application/json"}


def test_slack_events_are_signature_checked_when_slack_is_on(
    web_settings: Settings, engine: Engine, retriever: Retriever
) -> None:
    settings = web_settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET),
    })
    runtime = build_runtime(settings, services=_services(settings, engine, retriever))
    body = json.dumps({"type": "url_verification", "challenge": "c-123"}).encode()

    with TestClient(create_app(runtime)) as client:
        unsigned = client.post("/slack/events", content=body,
                               headers={"Content-Type": "application/json"})
        forged = client.post("/slack/events", content=body,
                             headers={**_signed(body, int(time.time())),
                                      "X-Slack-Signature": "v0=" + "0" * 64})
        signed = client.post("/slack/events", content=body, headers=_signed(body, int(time.time())))

    assert runtime.bolt_app is not None
    assert unsigned.status_code == 401
    assert forged.status_code == 401
    assert signed.status_code == 200
    assert signed.json()["challenge"] == "c-123"


def test_socket_mode_is_prepared_when_an_app_token_is_set(
    web_settings: Settings, engine: Engine, retriever: Retriever
) -> None:
    settings = web_settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_app_token": SecretStr("xapp-test"),
    })
    http_only = web_settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET),
    })

    socket = build_runtime(settings, services=_services(settings, engine, retriever))
    http = build_runtime(http_only, services=_services(http_only, engine, retriever))

    assert socket.bolt_app is not None and socket.connect_socket_mode is not None
    assert http.bolt_app is not None and http.connect_socket_mode is None


def test_slack_route_answers_503_without_slack_settings(
    web_settings: Settings, engine: Engine, retriever: Retriever
) -> None:
    runtime = build_runtime(web_settings, services=_services(web_settings, engine, retriever))

    with TestClient(create_app(runtime)) as client:
        resp = client.post("/slack/events", json={"type": "url_verification"})

    assert runtime.bolt_app is None
    assert resp.status_code == 503 and "SLACK_SIGNING_SECRET" in resp.json()["detail"]


def test_contact_change_via_ingest_api_raises_its_alert_at_once(
    web_settings: Settings, engine: Engine, retriever: Retriever
) -> None:
    from cs.alerts.models import Alert

    settings = web_settings.model_copy(update={"api_token": SecretStr("tok")})
    services = _services(settings, engine, retriever)
    auth = {"Authorization": "Bearer tok"}
    account = {"id": "C001", "name": "株式会社さくら", "mrr": 600000,
               "contract_start": "2025-04-01", "renewal_date": "2027-04-01"}

    with TestClient(create_app(build_runtime(settings, services=services))) as client:
        assert client.post("/api/accounts", json={"rows": [account]}, headers=auth).is_success
        first = {"account_id": "C001", "name": "佐藤 花子", "email": "sato@sakura.example.jp",
                 "is_primary": True}
        second = {"account_id": "C001", "name": "鈴木 一郎", "email": "suzuki@sakura.example.jp",
                  "is_primary": True}
        client.post("/api/contacts", json={"rows": [first]}, headers=auth)
        changed = client.post("/api/contacts", json={"rows": [second]}, headers=auth).json()

    assert changed["contact_changes"], changed
    with services.session_factory() as session:
        kinds = [alert.kind for alert in session.query(Alert).filter_by(account_id="C001")]
    assert any("contact" in kind for kind in kinds), kinds
