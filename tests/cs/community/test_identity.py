"""Who a member is: an explicit slack_user_id from the contacts import or API, else the
contact's email looked up with users.lookupByEmail and cached for the refresh age."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import select
from typer.testing import CliRunner

from banso.cli.imports import register
from banso.web.ingest import router
from core.services import Services
from cs.community.activity import sync_activity
from cs.community.identity import member_for
from cs.community.models import CommunityQuestion, LinkSource
from tests.cs.community.conftest import ALICE, BOB, BOB_EMAIL, NOW, Harness, ask, seed_book
from tests.services import services_for


def _services(app: Harness) -> Services:
    client = WebClient(token="xoxb-test", base_url=app.stub.url)
    return services_for(app.settings, app.session_factory.kw["bind"], slack=client,
                        now=app.clock)


def _counted_for(app: Harness) -> dict[str, str]:
    with app.session_factory() as session:
        return {str(row.slack_user_id): row.account_id
                for row in session.scalars(select(CommunityQuestion))}


def test_contacts_csv_links_a_member_by_its_optional_slack_user_id_column(
    app: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL", app.settings.resolved_database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "var"))
    cli = typer.Typer()
    cli.command("noop")(lambda: None)
    register(cli)
    runner = CliRunner()
    (tmp_path / "a.csv").write_text("id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n")
    (tmp_path / "c.csv").write_text("account_id,name,email,slack_user_id\n"
                                    "C1,山田 太郎,yamada@example.jp,UYAMADA\n")
    (tmp_path / "c2.csv").write_text("account_id,name,email\nC1,山田 太郎,yamada@example.jp\n")
    (tmp_path / "bad.csv").write_text("account_id,name,email,slack_user_id\n"
                                      "C1,佐藤,sato@example.jp,not an id\n")
    assert runner.invoke(cli, ["import", "accounts", str(tmp_path / "a.csv")]).exit_code == 0
    assert runner.invoke(cli, ["import", "contacts", str(tmp_path / "c.csv")]).exit_code == 0
    # A later file without the column keeps the link; a malformed id is a clear row error.
    assert runner.invoke(cli, ["import", "contacts", str(tmp_path / "c2.csv")]).exit_code == 0
    bad = runner.invoke(cli, ["import", "contacts", str(tmp_path / "bad.csv")])
    assert bad.exit_code != 0 and "slack_user_id" in bad.output

    ask(app, "今日の天気はどうですか？", "UYAMADA")
    sync_activity(_services(app), NOW)

    assert _counted_for(app) == {"UYAMADA": "C1"}
    with app.session_factory() as session:
        member = member_for(session, "UYAMADA")
    assert member is not None and member.source is LinkSource.EXPLICIT


def test_contacts_api_takes_slack_user_id(app: Harness) -> None:
    web = FastAPI()
    web.include_router(router)
    web.state.services = services_for(
        app.settings.model_copy(update={"api_token": SecretStr("tok")}),
        app.session_factory.kw["bind"], now=app.clock)
    http = TestClient(web)
    auth = {"Authorization": "Bearer tok"}
    account = {"id": "C9", "name": "Nine", "mrr": 100, "contract_start": "2025-01-01"}
    assert http.post("/api/accounts", json={"rows": [account]}, headers=auth).status_code == 200
    contact = {"account_id": "C9", "name": "N", "email": "n@nine.example", "slack_user_id": "UN"}
    reply = http.post("/api/contacts", json={"rows": [contact]}, headers=auth)
    assert reply.json()["inserted"] == 1, reply.json()
    with app.session_factory() as session:
        member = member_for(session, "UN")
    assert member is not None and member.account_id == "C9"


def test_email_lookup_is_cached_for_the_refresh_age_and_an_unknown_member_stays_unlinked(
    app: Harness,
) -> None:
    seed_book(app.session_factory, app.stub)
    services = _services(app)
    sync_activity(services, NOW)  # Alice is explicit: only Bob's email is looked up
    (call,) = app.stub.calls_to("users.lookupByEmail")
    assert call.args["email"] == BOB_EMAIL
    with app.session_factory() as session:
        bob = member_for(session, BOB)
        assert bob is not None and (bob.account_id, bob.source) == ("A1", LinkSource.EMAIL)
        assert member_for(session, "UNOBODY") is None

    sync_activity(services, NOW + timedelta(days=6))
    assert len(app.stub.calls_to("users.lookupByEmail")) == 1  # still fresh

    del app.stub.members_by_email[BOB_EMAIL]  # Bob left the workspace
    sync_activity(services, NOW + timedelta(days=8))  # stale: asked again, "users_not_found"
    with app.session_factory() as session:
        assert member_for(session, BOB) is None
        alice = member_for(session, ALICE)
        assert alice is not None and alice.source is LinkSource.EXPLICIT


def test_a_rate_limited_lookup_caches_nothing_and_is_tried_again(app: Harness) -> None:
    seed_book(app.session_factory, app.stub)
    app.stub.fail_next("users.lookupByEmail", status=429)
    services = _services(app)
    sync_activity(services, NOW)
    with app.session_factory() as session:
        assert member_for(session, BOB) is None
    sync_activity(services, NOW + timedelta(minutes=15))
    with app.session_factory() as session:
        assert member_for(session, BOB) is not None
