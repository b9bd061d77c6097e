"""Structured logs: JSON lines with the request id; no question text or secret at INFO."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from core.logs import configure_logging
from core.settings import LogFormat, Settings


@pytest.fixture
def log_stream(web_settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging(
        web_settings.model_copy(update={"log_format": LogFormat.JSON}), stream
    )
    yield stream
    logging.getLogger().removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_question_text_never_appears_in_info_logs(
    client: TestClient, log_stream: io.StringIO
) -> None:
    question = "山田太郎の電話番号 090-1234-5678 でパスワードを忘れた"
    resp = client.post("/api/ask", json={"question": question})

    assert resp.status_code == 200
    lines = _lines(log_stream)
    assert any(line["msg"] == "answered" for line in lines)
    assert "090-1234-5678" not in log_stream.getvalue()
    assert "山田" not in log_stream.getvalue()


def test_every_line_of_a_request_carries_its_request_id(
    client: TestClient, log_stream: io.StringIO
) -> None:
    client.post("/api/ask", json={"question": "請求書"}, headers={"X-Request-ID": "req-42"})

    mine = [line for line in _lines(log_stream) if line.get("request_id") == "req-42"]
    assert {line["msg"] for line in mine} >= {"answered", "POST /api/ask 200"}
    access = next(line for line in mine if line["msg"] == "POST /api/ask 200")
    assert access["level"] == "INFO" and access["status"] == 200 and access["ms"] >= 0


def test_unhandled_error_is_logged_with_its_request_id_and_answered_as_json(
    make_app: Callable[..., FastAPI], log_stream: io.StringIO
) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app) as client:
        resp = client.get("/boom", headers={"X-Request-ID": "req-boom"})
        after = client.get("/healthz")

    assert resp.status_code == 500
    assert resp.json() == {"detail": "internal error", "request_id": "req-boom"}
    assert resp.headers["x-request-id"] == "req-boom"
    assert after.status_code == 200
    error = next(line for line in _lines(log_stream) if line["level"] == "ERROR")
    assert error["request_id"] == "req-boom" and "kaboom" in str(error["exc"])


def test_secrets_are_never_printed_at_start_up(
    web_settings: Settings, make_app: Callable[..., FastAPI], log_stream: io.StringIO
) -> None:
    secret_bits = {"slack_bot_token": "xoxb-top-secret-1", "slack_app_token": "xapp-secret-2",
                   "slack_signing_secret": "signing-secret-3", "api_token": "ingest-secret-4"}
    secrets = {k: SecretStr(v) for k, v in secret_bits.items()}
    settings = web_settings.model_copy(update=secrets)
    logging.getLogger("test").info("settings %s", settings)
    with TestClient(make_app(**secrets)) as client:
        client.get("/healthz")

    text = log_stream.getvalue()
    assert "Slack enabled via Socket Mode" in text
    for value in secret_bits.values():
        assert value not in text


def test_console_format_is_one_readable_line(web_settings: Settings) -> None:
    stream = io.StringIO()
    handler = configure_logging(
        web_settings.model_copy(update={"log_format": LogFormat.CONSOLE}), stream
    )
    try:
        logging.getLogger("banso.test").info("hello %s", "世界", extra={"count": 3})
    finally:
        logging.getLogger().removeHandler(handler)

    line = stream.getvalue().strip()
    assert line.endswith("INFO    banso.test hello 世界  count=3")


def test_auto_format_is_json_when_not_a_terminal(web_settings: Settings) -> None:
    stream = io.StringIO()  # not a TTY, as under a container or systemd
    handler = configure_logging(web_settings, stream)
    try:
        logging.getLogger("banso.test").warning("ジョブ失敗")
    finally:
        logging.getLogger().removeHandler(handler)

    assert json.loads(stream.getvalue())["msg"] == "ジョブ失敗"



def test_a_library_logging_debug_is_held_back_at_info(web_settings: Settings) -> None:
    stream = io.StringIO()
    handler = configure_logging(
        web_settings.model_copy(update={"log_format": LogFormat.JSON}), stream
    )
    chatty = logging.getLogger("some.library")
    chatty.setLevel(logging.DEBUG)
    try:
        chatty.debug("building index from tokens")
        chatty.info("index ready")
    finally:
        logging.getLogger().removeHandler(handler)
        chatty.setLevel(logging.NOTSET)

    assert [line["msg"] for line in _lines(stream)] == ["index ready"]
