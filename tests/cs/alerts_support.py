"""Shared pieces of the alert tests: customers imported through the real importers, the Slack
stand-in, a bolt app serving signed requests over HTTP, and a clock tests move by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from banso.slack_app import build_bolt_app
from banso.web.slack_events import mount
from core.db import session_scope
from core.i18n import Lang
from core.rules_config import RulesConfig, load_rules
from core.services import Services
from core.settings import Settings
from cs.accounts.importer import import_accounts, import_contacts, import_usage
from cs.alerts.models import Alert, AlertAction, OutboxMessage
from tests.services import services_for
from tests.slack_stub import SlackStub, sign

JST = ZoneInfo("Asia/Tokyo")
# Wednesday 2026-11-25, 10:00 in Tokyo.
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
TODAY = NOW.astimezone(JST).date()  # the team's calendar day at NOW
SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
OWNER = "UOWNER"
STAFF = "USTAFF"
OUTSIDER = "UOUTSIDER"
CHANNEL = "CCSM"
DEFAULT_CHANNEL = "CDEFAULT"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alert_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "staff_users": [OWNER, STAFF], "lead_users": [STAFF], "csm_channel": DEFAULT_CHANNEL,
    })


def client_for(stub: SlackStub) -> WebClient:
    # No retry handler: the outbox's own retries are what the tests look at.
    return WebClient(token=TOKEN, base_url=stub.url)


@pytest.fixture
def card_lang() -> Lang:
    """The team's language (rules `jobs.lang`); tests parametrize it to see English cards."""
    return "ja"


def rules_in(lang: Lang, rules_file: Path | None = None) -> RulesConfig:
    rules = load_rules(rules_file)
    return rules.model_copy(update={"jobs": rules.jobs.model_copy(update={"lang": lang})})


def job_context(settings: Settings, session_factory: sessionmaker[Session],
                client: WebClient | None, now: Callable[[], datetime] = lambda: NOW,
                lang: Lang | None = None) -> Services:
    """The services a job runs with (the alert jobs take `now` as an argument); `lang`
    overrides the rules file's `jobs.lang`."""
    engine = session_factory.kw["bind"]
    rules = rules_in(lang, settings.rules_file) if lang else None
    return services_for(settings, engine, slack=client, now=now, rules=rules)


def told(stub: SlackStub) -> list[str]:
    """The ephemeral lines clickers were told, in order (through response_url or postEphemeral)."""
    calls = stub.calls_to("response_url") + stub.calls_to("chat.postEphemeral")
    return [c.args["text"] for c in sorted(calls, key=lambda c: c.at)]


def account_row(account_id: str, *, mrr: int = 600_000, owner: str | None = OWNER,
                channel: str | None = CHANNEL, start: str = "2025-01-01",
                renewal: str | None = "2027-06-30", **extra: Any) -> dict[str, Any]:
    row = {"id": account_id, "name": f"株式会社{account_id}", "mrr": mrr, "contract_start": start,
           "renewal_date": renewal, "owner_user_id": owner, "csm_channel": channel}
    return row | extra


def usage_rows(account_id: str, *, last_login_days_ago: int, today: date = NOW.date(),
               days: int = 35, active: int = 8, seats: int = 10,
               setup: int = 100) -> list[dict[str, Any]]:
    login = datetime.combine(today - timedelta(days=last_login_days_ago), datetime.min.time())
    return [
        {"account_id": account_id, "day": (today - timedelta(days=d)).isoformat(),
         "last_login_at": login.isoformat(), "active_users": active, "seats": seats,
         "setup_progress": setup, "inquiries": 0}
        for d in range(days)
    ]


def seed(session_factory: sessionmaker[Session], accounts: list[dict[str, Any]],
         usage: list[dict[str, Any]] = (), contacts: list[dict[str, Any]] = (),  # type: ignore[assignment]
         now: datetime = NOW) -> list[int]:
    """Import through the accounts engineer's importers; returns new contact-change ids."""
    with session_scope(session_factory) as session:
        for result in (import_accounts(session, accounts, now, tz=JST),
                       import_usage(session, list(usage), now, tz=JST),
                       import_contacts(session, list(contacts), now, tz=JST)):
            assert not result.errors, result.errors
        return result.contact_changes


def count(session_factory: sessionmaker[Session], model: type[Any], *where: Any) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def alerts(session_factory: sessionmaker[Session]) -> list[Alert]:
    with session_factory() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def outbox(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def actions(session_factory: sessionmaker[Session]) -> list[AlertAction]:
    with session_factory() as session:
        return list(session.scalars(select(AlertAction).order_by(AlertAction.id)))


@dataclass
class SlackApp:
    """A bolt app with the alert listeners, served over HTTP like POST /slack/events."""

    http: TestClient
    services: Services
    listeners: ThreadPoolExecutor
    stub: SlackStub

    def settle(self) -> None:
        """Wait until every listener started so far has finished (they run one at a time)."""
        self.listeners.submit(lambda: None).result(timeout=30)

    def click(self, user: str, action: dict[str, Any], *, channel: str = CHANNEL,
              message_ts: str = "1.0", signed: bool = True, trigger_id: str | None = None) -> Any:
        payload = {
            "type": "block_actions", "user": {"id": user, "team_id": "T0001"},
            "team": {"id": "T0001"}, "api_app_id": "A1",
            "trigger_id": trigger_id or f"trig-{time.time_ns()}",
            "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel,
                                                      "message_ts": message_ts},
            "message": {"ts": message_ts}, "actions": [action],
            "response_url": f"{self.stub.base}/response/{time.time_ns()}",
        }
        reply = self.post(urlencode({"payload": json.dumps(payload)}), signed=signed)
        self.settle()  # the listener goes on after the ack; wait for what it sends
        return reply

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any],
               view_id: str = "V0001") -> Any:
        """Submit a modal the app opened (`view` as sent to views.open) with these inputs."""
        payload = {
            "type": "view_submission", "user": {"id": user, "team_id": "T0001"},
            "team": {"id": "T0001"}, "api_app_id": "A1", "trigger_id": f"trig-{time.time_ns()}",
            "view": view | {"id": view_id, "team_id": "T0001", "hash": f"h-{time.time_ns()}",
                            "state": {"values": values}},
            "response_urls": [],
        }
        reply = self.post(urlencode({"payload": json.dumps(payload)}))
        self.settle()
        return reply

    def command(self, user: str, text: str) -> Any:
        body = urlencode({"command": "/banso-alerts", "text": text, "user_id": user,
                          "team_id": "T0001", "channel_id": CHANNEL, "trigger_id": "t1",
                          "response_url": "http://127.0.0.1:9/response"})
        return self.post(body)

    def post(self, body: str, signed: bool = True) -> Any:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers |= sign(SECRET, body)
        return self.http.post("/slack/events", content=body, headers=headers)


def button(action_id: str, alert_id: int, action_ts: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "block_id": f"alert:{alert_id}",
            "value": json.dumps({"alert_id": alert_id}), "action_ts": action_ts}


def select_option(action_id: str, alert_id: int, value: str, action_ts: str) -> dict[str, Any]:
    return {"type": "static_select", "action_id": action_id, "block_id": f"alert:{alert_id}",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
            "action_ts": action_ts}


def snooze_values(choice: str | None = None, day: str | None = None,
                  note: str | None = None) -> dict[str, Any]:
    """view.state.values of the snooze modal as Slack sends them (unset inputs stay empty)."""
    option = {"value": choice, "text": {"type": "plain_text", "text": choice}} if choice else None
    return {
        "snooze_choice": {"snooze_choice": {"type": "radio_buttons", "selected_option": option}},
        "snooze_date": {"snooze_date": {"type": "datepicker", "selected_date": day}},
        "snooze_note": {"snooze_note": {"type": "plain_text_input", "value": note}},
    }


@pytest.fixture
def slack_app(alert_settings: Settings, engine: Any, session_factory: sessionmaker[Session],
              stub: SlackStub, clock: Clock, card_lang: Lang) -> Iterator[SlackApp]:
    """The bot's own bolt app (all rooms' listeners) on POST /slack/events, as `banso serve`."""
    settings = alert_settings.model_copy(update={
        "slack_bot_token": SecretStr(TOKEN), "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": stub.url})
    services = services_for(settings, engine, slack=client_for(stub), now=clock,
                            rules=rules_in(card_lang, settings.rules_file))
    # One listener thread: clicks are handled in order and `settle()` can wait for them.
    listeners = ThreadPoolExecutor(max_workers=1)
    web = FastAPI()
    mount(web, build_bolt_app(services, listener_executor=listeners),
          settings.slack_signing_secret)
    with TestClient(web) as http:
        yield SlackApp(http=http, services=services, listeners=listeners, stub=stub)
    listeners.shutdown(wait=True)  # before the database is emptied under a running listener
