"""`banso serve` as a real process: starts without Slack, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.settings import Settings
from tests.banso.web.server import ServerProcess, start_server


@pytest.fixture
def server(settings: Settings, knowledge_root: Path, engine: Engine) -> Iterator[ServerProcess]:
    # `engine`: the rows this server writes are emptied after the test, like every other test's.
    env = {
        "BANSO_DATA_DIR": str(settings.data_dir),
        "BANSO_DATABASE_URL": settings.database_url,
        "BANSO_KNOWLEDGE_DIR": str(knowledge_root),
    }
    proc = start_server(env)
    yield proc
    if proc.proc.poll() is None:
        proc.proc.kill()


def test_serve_without_slack_says_which_variables_turn_it_on(server: ServerProcess) -> None:
    assert server.get("/healthz").json() == {"status": "ok"}
    assert server.get("/readyz").status_code == 200
    status = next(line for line in server.lines if "Slack not configured" in line["msg"])
    assert "SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET" in status["msg"]
    assert "SLACK_APP_TOKEN for Socket Mode" in status["msg"]
    assert server.terminate() == 0


def test_sigterm_lets_the_in_flight_request_finish_then_exits_cleanly(
    server: ServerProcess,
) -> None:
    body = json.dumps({"question": "パスワードを忘れました"}).encode()
    head = (
        f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head + body[:5])  # the request is now in flight, its body half-sent
        assert server.get("/healthz").status_code == 200  # the server has read our headers
        server.proc.send_signal(15)
        server.wait_for("Waiting for connections to close")
        conn.sendall(body[5:])
        reply = _read_http_response(conn)

    assert reply.startswith(b"HTTP/1.1 200")
    assert "password-reset" in reply.decode()
    assert server.proc.wait(timeout=60) == 0
    server.drain()
    messages = [line["msg"] for line in server.lines]
    started = next(line for line in server.lines if line["msg"] == "background started")
    assert started["parts"] == "scheduler,watcher"
    assert "background stopped" in messages
    assert messages[-1] == "banso stopped cleanly"
    assert not [line for line in server.lines if line.get("level") in {"ERROR", "CRITICAL"}]


def _read_http_response(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest
