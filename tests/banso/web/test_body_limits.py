"""Every route caps its body before reading it; anonymous callers are refused on headers alone.

The refusals are checked against a real uvicorn over raw sockets: the request declares a
200 MB body and sends none of it, so an answer at all proves the server never read it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.banso.web.conftest import SLACK_SECRET
from tests.banso.web.live import raw_request, serving
from tests.slack_stub import sign

TOKEN = "ingest-secret"
HUGE = 200_000_000
INGEST = ["/api/accounts", "/api/contacts", "/api/usage"]


@pytest.fixture
def port(make_slack_app: Callable[..., FastAPI]) -> Iterator[int]:
    app = make_slack_app(api_token=SecretStr(TOKEN), ingest_max_body_bytes=1_000_000)
    with serving(app) as bound:
        yield bound


def _head(path: str, length: int, *headers: str) -> str:
    return "\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1",
                        "Content-Type: application/json", f"Content-Length: {length}", *headers])


@pytest.mark.parametrize("path", INGEST)
def test_ingest_without_the_token_is_refused_before_its_body_arrives(
    port: int, path: str
) -> None:
    missing = raw_request(port, _head(path, HUGE))
    wrong = raw_request(port, _head(path, HUGE, "Authorization: Bearer guess"))

    for reply in (missing, wrong):
        assert reply.status == 401
        assert reply.headers["www-authenticate"] == "Bearer"
        assert json.loads(reply.body) == {"detail": "missing or wrong bearer token"}


def test_ingest_with_the_token_but_too_large_a_body_is_413_before_it_arrives(port: int) -> None:
    reply = raw_request(port, _head("/api/accounts", HUGE, f"Authorization: Bearer {TOKEN}"))

    assert reply.status == 413
    assert json.loads(reply.body) == {"detail": "request body larger than 1000000 bytes"}


def test_ingest_with_the_token_within_the_limit_still_stores_rows(port: int) -> None:
    body = json.dumps({"rows": [{"id": "C001", "name": "株式会社サンプル", "mrr": 120000,
                                 "contract_start": "2025-04-01"}]}).encode()
    reply = raw_request(port, _head("/api/accounts", len(body), f"Authorization: Bearer {TOKEN}"),
                        body)

    assert reply.status == 200
    assert json.loads(reply.body)["inserted"] == 1


def test_unsigned_slack_post_is_401_before_its_body_arrives(port: int) -> None:
    unsigned = raw_request(port, _head("/slack/events", HUGE))
    stale = raw_request(port, _head("/slack/events", HUGE, "X-Slack-Signature: v0=00",
                                    f"X-Slack-Request-Timestamp: {int(time.time()) - 3600}"))
    garbled = raw_request(port, _head("/slack/events", HUGE, "X-Slack-Signature: v0=00",
                                      "X-Slack-Request-Timestamp: 1e9"))

    for reply in (unsigned, stale, garbled):
        assert reply.status == 401
        assert json.loads(reply.body) == {"error": "invalid request"}


def test_slack_post_with_fresh_signature_headers_but_2_mb_is_413(port: int) -> None:
    headers = sign(SLACK_SECRET, "", int(time.time()))
    reply = raw_request(port, _head("/slack/events", 2_000_000,
                                    *(f"{k}: {v}" for k, v in headers.items())))

    assert reply.status == 413


def test_a_large_ask_is_413_before_its_body_arrives(port: int) -> None:
    reply = raw_request(port, _head("/api/ask", HUGE))

    assert reply.status == 413
    assert "request body larger than" in json.loads(reply.body)["detail"]


def test_a_path_without_a_body_of_its_own_caps_it_too(port: int) -> None:
    assert raw_request(port, _head("/healthz", HUGE)).status == 413
    assert raw_request(port, _head("/no-such-page", HUGE)).status == 413


def test_a_chunked_ask_without_a_length_is_cut_off_at_the_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(100):
            yield b"a" * 10_000
        yield b'"}'

    resp = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})

    assert resp.status_code == 413


def test_a_thousand_json_escaped_emoji_are_not_refused_as_too_large(client: TestClient) -> None:
    # json.dumps escapes each emoji as a surrogate pair: 12 bytes for one character.
    body = json.dumps({"question": "😀" * 1000})
    longer = json.dumps({"question": "😀" * 1001})

    resp = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    too_long = client.post("/api/ask", content=longer,
                           headers={"Content-Type": "application/json"})

    assert len(body) > 12_000
    assert resp.status_code == 200, resp.text
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["type"] == "string_too_long"
