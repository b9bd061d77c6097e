"""Fuzzing what the documented-route fuzz (test_openapi_fuzz.py) cannot reach: `/slack/events`
signed and unsigned, and the Slack payload parsers behind it.

Hypothesis generates payloads shaped like Slack's — the keys our code and bolt read, with
values of any JSON type — so most get past the JSON parser and into the shape check, the
parsers and the listeners. Bounded (a fixed number of examples, no database of examples
between runs) so the file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from banso.web.validation import strict_loads
from bot.payloads import AnswerRef, BadPayload
from core.settings import Settings
from core.slack.ids import ActionId, CommandName, ShortcutId, ViewId
from core.slack.messages import Origin
from core.slack.shape import MalformedPayload, check_shape
from cs.alerts.actions import BadClickError
from cs.alerts.listeners import SnoozeFormError, parse_click, parse_snooze_form
from retrieval.service import Retriever
from tests.bot.conftest import SECRET, Clock, Harness, make_harness
from tests.slack_stub import SlackStub

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
BOUNDED = settings(max_examples=60, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
PURE = settings(max_examples=300, deadline=None, database=None)

IDS = [str(a) for a in ActionId] + [str(v) for v in ViewId] + [str(s) for s in ShortcutId]
USERS = st.sampled_from(["USTAFF", "UCUSTOMER", "U1", ""])
CHANNELS = st.sampled_from(["CCOMMUNITY", "CINTERNAL", "DSTAFF", "C0", ""])
scalars = (st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12)
           | st.sampled_from(IDS) | USERS | CHANNELS)
SLACK_KEYS = ["type", "id", "user", "channel", "text", "ts", "thread_ts", "value", "action_id",
              "block_id", "action_ts", "selected_option", "selected_date", "callback_id",
              "private_metadata", "state", "values", "tab", "subtype", "bot_id",
              "channel_type", "channel_id", "message_ts", "is_ephemeral", "alert_id", "q", "e"]
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(SLACK_KEYS) | st.text(max_size=4), inner, max_size=5),
    max_leaves=12,
)


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return value | json_values


@st.composite
def button_values(draw: st.DrawFn) -> Any:
    return draw(st.sampled_from([json.dumps({"alert_id": 1}), json.dumps({"q": 1}),
                                 json.dumps({"q": 1, "e": "refund-policy-internal"})])
                | json_values)


@st.composite
def slack_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A payload of one of Slack's kinds, its fields often right and often any JSON at all."""
    kind = draw(st.sampled_from(["event_callback", "block_actions", "view_submission",
                                 "message_action", "view_closed", "block_suggestion",
                                 "url_verification", "shortcut"]))
    body: dict[str, Any] = {"type": kind, "team": {"id": "T0001"},
                            "user": draw(_maybe(st.fixed_dictionaries({"id": USERS})))}
    if kind == "event_callback":
        body["event"] = draw(_maybe(st.fixed_dictionaries({
            "type": st.sampled_from(["message", "app_mention", "app_home_opened"]),
            "user": _maybe(USERS), "channel": _maybe(CHANNELS),
            "text": _maybe(st.sampled_from(["パスワードを忘れました？", "<@UBOT>", "?"])),
            "ts": _maybe(st.just("1700000000.000100")),
        }, optional={"thread_ts": json_values, "channel_type": json_values,
                     "subtype": json_values, "tab": json_values})))
        body["event_id"] = f"Ev{draw(st.integers(0, 10**9))}"
    elif kind in ("block_actions", "block_suggestion"):
        body["actions"] = draw(_maybe(st.lists(st.fixed_dictionaries({
            "action_id": _maybe(st.sampled_from(IDS)), "value": button_values(),
        }, optional={"block_id": json_values, "action_ts": json_values,
                     "selected_option": json_values, "selected_date": json_values}),
            max_size=2)))
        body["channel"] = draw(_maybe(st.fixed_dictionaries({"id": CHANNELS})))
        body["container"] = draw(_maybe(st.fixed_dictionaries({
            "channel_id": CHANNELS, "message_ts": _maybe(st.just("1.1")),
            "is_ephemeral": _maybe(st.booleans())})))
    elif kind in ("view_submission", "view_closed"):
        body["view"] = draw(_maybe(st.fixed_dictionaries({
            "type": _maybe(st.just("modal")), "id": st.just("V1"),
            "callback_id": _maybe(st.sampled_from(IDS)),
            "private_metadata": button_values(),
        }, optional={"state": json_values})))
    else:
        body["callback_id"] = draw(_maybe(st.sampled_from(IDS)))
        body["message"] = draw(json_values)
        body["channel"] = draw(_maybe(st.fixed_dictionaries({"id": CHANNELS})))
    return body


@st.composite
def slack_bodies(draw: st.DrawFn, response_url: str = "https://hooks.example/r"
                 ) -> tuple[bytes, str]:
    """The raw body and content type: JSON, a form with `payload=`, or a slash command
    (`response_url` is where a well-formed one answers: the stand-in, in HTTP tests)."""
    form = "application/x-www-form-urlencoded"
    how = draw(st.sampled_from(["json", "payload", "command"]))
    if how == "command":
        fields = draw(st.fixed_dictionaries({
            "command": st.sampled_from([str(c) for c in CommandName] + ["/other"]),
            "text": st.text(max_size=40), "user_id": USERS, "channel_id": CHANNELS,
        }, optional={"response_url": st.sampled_from(["x", "https://", response_url])}))
        return urlencode(fields).encode(), form
    payload = draw(slack_payloads())
    if how == "json":
        return json.dumps(payload).encode(), "application/json"
    return urlencode({"payload": json.dumps(payload)}).encode(), form


# --- the parsers, as pure functions ---------------------------------------------------------


@PURE
@given(payload=slack_payloads())
def test_every_payload_is_shaped_or_refused_as_malformed(payload: dict[str, Any]) -> None:
    try:
        check_shape(payload)
    except MalformedPayload:
        return
    Origin.of_action(payload)  # what every click reads first never raises on a shaped body


@PURE
@given(payload=slack_payloads())
def test_alert_click_parser_raises_only_bad_click(payload: dict[str, Any]) -> None:
    try:
        check_shape(payload)
    except MalformedPayload:
        return
    with contextlib.suppress(BadClickError):
        parse_click(payload, NOW, "Asia/Tokyo")


@PURE
@given(payload=slack_payloads())
def test_snooze_form_parser_raises_only_its_own_errors(payload: dict[str, Any]) -> None:
    try:
        check_shape(payload)
    except MalformedPayload:
        return
    with contextlib.suppress(SnoozeFormError, BadClickError):
        parse_snooze_form(payload, NOW, "Asia/Tokyo")


@PURE
@given(value=st.none() | st.text() | json_values.map(json.dumps))
def test_answer_button_values_decode_or_raise_bad_payload(value: str | None) -> None:
    try:
        ref = AnswerRef.decode(value)
    except BadPayload:
        return
    assert 1 <= ref.q < 2**31


@PURE
@given(body=st.binary(max_size=64) | json_values.map(lambda v: json.dumps(v).encode())
       | st.sampled_from([b"NaN", b"[1e999]", b'"\\ud800"', b'{"a": -Infinity}']))
def test_strict_json_reads_rfc_json_or_raises_value_error(body: bytes) -> None:
    try:
        value = strict_loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


# --- /slack/events over HTTP ---------------------------------------------------------------


@pytest.fixture
def harness(bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
            retriever: Retriever) -> Iterator[Harness]:
    h = make_harness(bot_settings, session_factory, stub, retriever, Clock())
    yield h
    h.drain()
    h.executor.shutdown(wait=True)
    h.http.close()


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def test_signed_fuzzed_slack_requests_never_answer_5xx_or_log_an_error(
    harness: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    statuses: list[int] = []

    @BOUNDED
    @given(request=slack_bodies(f"{harness.stub.base}/response/fuzz"))
    def run(request: tuple[bytes, str]) -> None:
        body, content_type = request
        reply = harness.http.post("/slack/events", content=body, headers={
            "Content-Type": content_type, **_signed(body)})
        statuses.append(reply.status_code)
        assert reply.status_code in (200, 400, 404), reply.text

    run()
    harness.drain()
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert len(statuses) >= 30 and 200 in statuses and 400 in statuses


def test_unsigned_fuzzed_slack_requests_are_all_401(harness: Harness) -> None:
    @BOUNDED
    @given(request=slack_bodies(), noise=st.binary(max_size=40),
           timestamp=st.text(max_size=14), signature=st.text(max_size=70))
    def run(request: tuple[bytes, str], noise: bytes, timestamp: str, signature: str) -> None:
        body, content_type = request
        headers = {b"content-type": content_type.encode(),
                   b"x-slack-request-timestamp": timestamp.encode("utf-8", "replace"),
                   b"x-slack-signature": signature.encode("utf-8", "replace")}
        for sent in (body, noise, body + noise):
            forged = {**headers, **{k.lower().encode(): v.encode() for k, v in
                                    _signed(sent, secret="not-the-secret").items()}}
            for reply in (harness.http.post("/slack/events", content=sent, headers=headers),
                          harness.http.post("/slack/events", content=sent, headers=forged)):
                assert reply.status_code == 401, reply.text

    run()
    assert not harness.stub.calls  # nothing unsigned ever reached a listener
