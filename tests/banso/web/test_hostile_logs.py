"""No request body is ever logged: a forged or unsigned Slack request leaves one short line.

Bolt's own verifier logs the whole body of a badly signed request at INFO; one unsigned
200 MB POST used to be a 258 MB log line. The operator's log here is the real JSON logging at
the default level.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from slack_bolt import BoltRequest
from sqlalchemy import Engine

from banso.slack_app import build_bolt_app
from core.logs import configure_logging
from core.settings import LogFormat, Settings
from core.slack.client import slack_client as slack_sdk_client
from tests.banso.web.conftest import SLACK_SECRET
from tests.services import services_for
from tests.slack_stub import sign

MARKER = "hostile-body-marker"
LONGEST_LINE = 300


@pytest.fixture
def log_stream(web_settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging(
        web_settings.model_copy(update={"log_format": LogFormat.JSON}), stream
    )
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def slack_client(make_slack_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_slack_app()) as client:
        yield client


def _forged(size: int) -> tuple[bytes, dict[str, str]]:
    """A body of `size` bytes with fresh Slack headers signed by the wrong secret."""
    body = ('{"type": "event_callback", "pad": "' + MARKER * (size // len(MARKER)) + '"}')
    headers = {"Content-Type": "application/json", **sign("not-the-secret", body)}
    return body.encode(), headers


def _assert_short_lines(stream: io.StringIO) -> None:
    lines = stream.getvalue().splitlines()
    assert lines, "the request should leave its access line"
    assert max(len(line) for line in lines) <= LONGEST_LINE, max(lines, key=len)[:400]
    assert MARKER not in stream.getvalue()


def test_a_forged_2_mb_slack_request_writes_no_long_log_line(
    slack_client: TestClient, log_stream: io.StringIO
) -> None:
    body, headers = _forged(2_000_000)

    resp = slack_client.post("/slack/events", content=body, headers=headers)

    assert resp.status_code == 413
    _assert_short_lines(log_stream)


def test_a_forged_slack_request_under_the_cap_is_401_with_one_short_line(
    slack_client: TestClient, log_stream: io.StringIO
) -> None:
    body, headers = _forged(900_000)

    resp = slack_client.post("/slack/events", content=body, headers=headers)

    assert resp.status_code == 401
    _assert_short_lines(log_stream)
    assert "bad signature" in log_stream.getvalue()


def test_an_unsigned_slack_request_is_401_with_short_lines(
    slack_client: TestClient, log_stream: io.StringIO
) -> None:
    body, _ = _forged(900_000)

    resp = slack_client.post("/slack/events", content=body,
                             headers={"Content-Type": "application/json"})

    assert resp.status_code == 401
    _assert_short_lines(log_stream)


def test_bolts_own_verifier_refuses_without_logging_the_body(
    web_settings: Settings, engine: Engine, log_stream: io.StringIO
) -> None:
    # Past the route's own check (as if it ever let one through), bolt's verifier refuses:
    # it must not write the body either.
    settings = web_settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SLACK_SECRET),
    })
    bolt = build_bolt_app(services_for(settings, engine, slack=slack_sdk_client(settings)))
    body, headers = _forged(100_000)

    reply = bolt.dispatch(BoltRequest(body=body.decode(), headers=dict(headers.items())))

    assert reply.status == 401
    assert MARKER not in log_stream.getvalue()


def test_a_signed_request_is_still_served(
    slack_client: TestClient, log_stream: io.StringIO
) -> None:
    body = '{"type": "url_verification", "challenge": "c-1"}'
    headers = {"Content-Type": "application/json", **sign(SLACK_SECRET, body, int(time.time()))}

    resp = slack_client.post("/slack/events", content=body.encode(), headers=headers)

    assert resp.status_code == 200
    assert resp.json()["challenge"] == "c-1"


def test_a_refused_request_is_logged_with_its_route_and_status(
    slack_client: TestClient, log_stream: io.StringIO
) -> None:
    slack_client.post("/slack/events", content=b"{}", headers={"Content-Type": "application/json"})
    slack_client.post("/api/accounts", content=b"{}", headers={"Content-Type": "application/json"})

    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    access = [line["msg"] for line in lines if line["logger"] == "banso.http"]
    assert access == ["POST /slack/events 401", "POST /api/accounts 403"]
