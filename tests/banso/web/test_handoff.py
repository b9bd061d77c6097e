"""The web chat's hand-off to a person: validated, rate-limited, stored, posted to the support
channel through Slack (the stand-in) or, without Slack, listed for staff by API and CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from typer.testing import CliRunner

from banso.cli.app import app as cli
from banso.runtime import Runtime
from banso.web.app import create_app
from core.db import Base
from core.i18n import t
from core.settings import Settings
from core.slack.client import slack_client
from retrieval.service import Retriever
from tests.banso.web.conftest import FakeClock
from tests.services import services_for
from tests.slack_stub import SlackStub

TOKEN = "staff-token"
REQUEST = {"question": "請求書の宛名を変更したい", "name": "佐藤 花子",
           "email": "hanako@example.co.jp", "consent": True, "lang": "ja"}


def _staff(client: TestClient) -> list[dict[str, Any]]:
    resp = client.get("/api/handoffs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200
    return list(resp.json()["handoffs"])


def test_without_slack_the_request_is_stored_and_listed_for_staff(
    make_app: Callable[..., FastAPI], web_settings: Settings
) -> None:
    with TestClient(make_app(api_token=SecretStr(TOKEN))) as client:
        asked = client.post("/api/ask", json={"question": "宇宙旅行の予約はできますか"}).json()
        resp = client.post("/api/handoff", json=REQUEST | {"answer_id": asked["answer_id"]})

        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "stored"
        assert body["message"] == t("handoff.received", "ja", email="hanako@example.co.jp")
        [stored] = _staff(client)
        assert stored["name"] == "佐藤 花子" and stored["email"] == "hanako@example.co.jp"
        assert stored["answer_id"] == asked["answer_id"] and stored["error"]
        assert client.get("/api/handoffs").status_code == 401  # staff only

    env = {"BANSO_DATABASE_URL": web_settings.resolved_database_url,
           "BANSO_DATA_DIR": str(web_settings.data_dir)}
    listed = CliRunner().invoke(cli, ["handoffs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert f"#{body['id']}" in listed.stdout and "stored" in listed.stdout
    assert "佐藤 花子 <hanako@example.co.jp>  請求書の宛名を変更したい" in listed.stdout
    as_json = CliRunner().invoke(cli, ["handoffs", "list", "--json"], env=env)
    assert json.loads(as_json.stdout.splitlines()[0])["question"] == "請求書の宛名を変更したい"


def test_with_slack_the_request_reaches_the_support_channel(
    web_settings: Settings, engine: Engine, retriever: Retriever, stub: SlackStub
) -> None:
    settings = web_settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_api_url": stub.url,
        "support_channel": "CSUPPORT", "api_token": SecretStr(TOKEN)})
    services = services_for(settings, engine, slack=slack_client(settings), retriever=retriever)

    with TestClient(create_app(Runtime(services=services), clock=FakeClock())) as client:
        resp = client.post("/api/handoff", json=REQUEST)
        [post] = stub.calls_to("chat.postMessage")
        listed = _staff(client)

    assert resp.json()["status"] == "sent"
    assert post.args["channel"] == "CSUPPORT"
    card = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "請求書の宛名を変更したい" in card and "hanako@example.co.jp" in card
    assert listed[0]["status"] == "sent" and listed[0]["channel"] == "CSUPPORT"


def test_a_slack_failure_keeps_the_request_for_staff(
    web_settings: Settings, engine: Engine, retriever: Retriever, stub: SlackStub
) -> None:
    settings = web_settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_api_url": stub.url,
        "support_channel": "CSUPPORT", "api_token": SecretStr(TOKEN)})
    services = services_for(settings, engine, slack=slack_client(settings), retriever=retriever)
    stub.fail_next("chat.postMessage", status=500, times=3)

    with TestClient(create_app(Runtime(services=services), clock=FakeClock())) as client:
        resp = client.post("/api/handoff", json=REQUEST)
        [stored] = _staff(client)

    assert resp.status_code == 200 and resp.json()["status"] == "stored"
    assert stored["status"] == "stored" and "SlackApiError" in stored["error"]


def test_bad_requests_are_refused_with_the_field_named(make_app: Callable[..., FastAPI]) -> None:
    client = TestClient(make_app(handoff_rate_limit_per_minute=100))
    for change, field in ((("consent", False), "consent"), (("email", "hanako@"), "email"),
                          (("name", "   "), "name"), (("question", ""), "question"),
                          # PostgreSQL cannot store a NUL: refused before it reaches the table
                          (("email", "ha\x00nako@example.co.jp"), "email"),
                          (("name", "佐藤\x1b[2J"), "name")):
        resp = client.post("/api/handoff", json=REQUEST | dict([change]))

        assert resp.status_code == 422, change
        assert resp.json()["detail"][0]["loc"] == ["body", field]


def test_hand_offs_are_rate_limited_per_client(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(handoff_rate_limit_per_minute=2)) as client:
        answers = [client.post("/api/handoff", json=REQUEST) for _ in range(3)]

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_examples_are_public_faq_titles_in_the_language(client: TestClient) -> None:
    ja = client.get("/api/examples", params={"lang": "ja"}).json()["questions"]
    en = client.get("/api/examples", params={"lang": "en"}).json()["questions"]

    assert "パスワードを忘れました" in ja and "解約防止の値引き上限はいくらですか" not in ja
    assert en == ["How do I export data to CSV?"]


def test_the_hand_off_table_matches_its_migration(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "web_handoffs" in repr(d)] == []
