"""Socket Mode: the same App answers events that arrive over the socket (no signature), while
HTTP requests to an app without a signing secret are refused (fail closed)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from slack_bolt import BoltRequest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy.orm import Session, sessionmaker

from banso.slack_app import build_bolt_app
from banso.socket_mode import ShapeCheckedSocketModeHandler, start_socket_mode
from banso.web.slack_events import mount
from core.services import Services
from core.settings import Settings
from core.slack.client import slack_client
from retrieval.service import Retriever
from tests.bot.conftest import RANDOM, Clock, DrainableExecutor, event_envelope, message, posted
from tests.services import services_for
from tests.slack_stub import SlackStub, sign


def _services(settings: Settings, session_factory: sessionmaker[Session], retriever: Retriever,
              clock: Clock) -> Services:
    return services_for(settings, session_factory.kw["bind"], slack=slack_client(settings),
                        retriever=retriever, now=clock)


def test_socket_mode_events_are_answered_without_a_signing_secret(
    bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
    retriever: Retriever, clock: Clock,
) -> None:
    settings = bot_settings.model_copy(update={"slack_signing_secret": None})
    executor = DrainableExecutor()
    app = build_bolt_app(_services(settings, session_factory, retriever, clock),
                         listener_executor=executor)
    body = json.dumps(event_envelope(message("<@UBOT> パスワードを忘れました", channel=RANDOM,
                                             kind="app_mention")))
    # What bolt's SocketModeHandler does with each envelope it receives.
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    web = FastAPI()
    mount(web, app, settings.slack_signing_secret)
    over_http = TestClient(web).post("/slack/events", content=body, headers={
        "Content-Type": "application/json", **sign("", body)})
    executor.drain()
    executor.shutdown()
    assert over_http.status_code == 401
    (reply,) = posted(stub)
    assert "パスワード" in reply["text"]


def test_socket_mode_needs_an_app_level_token(
    bot_settings: Settings, session_factory: sessionmaker[Session], retriever: Retriever,
) -> None:
    app = build_bolt_app(_services(bot_settings, session_factory, retriever, Clock()))
    with pytest.raises(ValueError, match="xapp-"):
        start_socket_mode(app, "xoxb-a-bot-token")


class _SlackSocket:
    """Slack's end of the socket: records the acknowledgements the handler sends back."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("tests.socket")
        self.acks: list[SocketModeResponse] = []

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.acks.append(response)


@pytest.mark.parametrize("payload", [
    {"type": "event_callback", "event": "not an object"},
    {"type": "event_callback", "event": {"type": "app_mention", "user": 7, "text": ["x"]}},
    {"type": "block_actions", "user": {"id": "U1> <!here"}, "actions": None},
])
def test_a_malformed_socket_mode_envelope_is_acknowledged_and_dropped_with_one_info_line(
    bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
    retriever: Retriever, clock: Clock, caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
) -> None:
    executor = DrainableExecutor()
    app = build_bolt_app(_services(bot_settings, session_factory, retriever, clock),
                         listener_executor=executor)
    handler = ShapeCheckedSocketModeHandler(app, "xapp-test")  # never connected
    socket = _SlackSocket()
    good = event_envelope(message("<@UBOT> パスワードを忘れました", channel=RANDOM,
                                  kind="app_mention"))
    with caplog.at_level(logging.INFO):
        handler.handle(socket, SocketModeRequest("events_api", "env-bad", payload))  # type: ignore[arg-type]
        handler.handle(socket, SocketModeRequest("events_api", "env-good", good))  # type: ignore[arg-type]
        executor.drain()
    handler.client.close()
    executor.shutdown()

    assert [a.envelope_id for a in socket.acks] == ["env-bad", "env-good"]
    dropped = [r for r in caplog.records if r.getMessage().startswith("socket mode envelope")]
    assert len(dropped) == 1 and dropped[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    (reply,) = posted(stub)  # the service keeps answering the well-formed one
    assert "パスワード" in reply["text"]
