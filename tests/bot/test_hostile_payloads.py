"""Signed but malformed Slack requests: each is a 400 or a polite ignore, never a 500.

Slack itself never sends these, but a signature only proves who sent a request, not that it
is well formed (a replayed, truncated or hand-made request from someone holding the secret,
or a payload shape Slack adds tomorrow). Every one goes through the real route and the real
bolt App with every room's listeners; the lazy listeners are drained, and no ERROR line (a
traceback) may be left in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from core.slack.ids import ActionId, CommandName, ShortcutId, ViewId
from tests.bot.conftest import COMMUNITY, CUSTOMER, STAFF, Harness, event_envelope

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# Bodies bolt cannot even read as a request: a 400 from the route.
UNREADABLE: list[tuple[str, bytes, str]] = [
    ("braces", b"{{{", JSON),
    ("json list", b"[1]", JSON),
    ("json string", b'"event"', JSON),
    ("json number", b"12", JSON),
    ("json null", b"null", JSON),
    ("invalid utf-8", b'{"type": "\xff\xfe"}', JSON),
    ("payload not json", b"payload=%7B%7B", FORM),
    ("payload a list", b"payload=%5B1%5D", FORM),
    ("payload a string", b"payload=%22x%22", FORM),
    ("authorizations a string", json.dumps({"type": "event_callback",
                                            "authorizations": "x"}).encode(), JSON),
    ("team a number", json.dumps({"type": "block_actions", "team": 5}).encode(), JSON),
    ("user a list", json.dumps({"type": "block_actions", "user": [1]}).encode(), JSON),
    ("channel a string", json.dumps({"type": "block_actions", "channel": "C1"}).encode(), JSON),
    ("event a list", json.dumps({"type": "event_callback", "event": [1]}).encode(), JSON),
    ("container a string", json.dumps({"type": "block_actions", "container": "x"}).encode(),
     JSON),
    # Ids our messages write into <@…>: a forged one must not carry a mention of its own.
    ("user id with a mention", json.dumps({"type": "block_actions",
                                           "user": {"id": "U1> <!here"}}).encode(), JSON),
    ("event user with a mention", json.dumps({"type": "event_callback", "event": {
        "type": "message", "user": "U1><!channel", "text": "x", "ts": "1.1"}}).encode(), JSON),
    ("command user_id with a mention", b"command=%2Fask&text=x&user_id=U1%3E%3C%21here", FORM),
    ("modal block id a lone surrogate", json.dumps({"type": "view_submission", "view": {
        "type": "modal", "state": {"values": {"\ud800" * 50: "x"}}}}).encode(), JSON),
    # Found by bench/hostile_summary.py: a 500 and an "answering failed" traceback.
    ("json nested 1500 deep", b'{"a": ' * 1500 + b"1" + b"}" * 1500, JSON),
    ("mention text a lone surrogate", b'{"type": "event_callback", "event": {"type": '
     b'"app_mention", "channel": "C1", "user": "U1", "ts": "1.1", "text": "\\ud800"}}', JSON),
    ("event text NaN", b'{"type": "event_callback", "event": {"type": "app_mention", '
     b'"text": NaN}}', JSON),
]


def _event(event: dict[str, Any] | Any) -> bytes:
    return json.dumps({**event_envelope({}), "event": event}).encode()


def _action(action: dict[str, Any], user: Any = STAFF, **extra: Any) -> bytes:
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T0001"},
               "channel": {"id": COMMUNITY}, "trigger_id": "t.1", "actions": [action], **extra}
    return urlencode({"payload": json.dumps(payload)}).encode()


def _interaction(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _command(**fields: Any) -> bytes:
    return urlencode(fields).encode()


ALERT_IDS = [ActionId.ACKNOWLEDGE, ActionId.ASSIGN, ActionId.RESOLVE, ActionId.NOT_USEFUL,
             ActionId.SNOOZE, ActionId.SNOOZE_UNTIL, ActionId.LOG_TOUCH, ActionId.SNOOZE_FORM]
ANSWER_IDS = [ActionId.HELPFUL, ActionId.NOT_HELPFUL, ActionId.ASK_HUMAN,
              ActionId.MORE_ANSWERS, ActionId.SHOW_ANSWER, ActionId.SHARE]
BAD_VALUES: list[Any] = [None, "", "{bad", "[1]", '{"alert_id": -1}', '{"alert_id": 1e999}',
                         '{"q": 99999999999999999999}', '{"q": 1, "e": 5}', 7, {"x": 1}]

# Bodies bolt reads: a 200 (or 404 for what no listener handles), and the listener either
# ignores it or tells the clicker, never a traceback.
READABLE: list[tuple[str, bytes, str]] = [
    ("empty object", b"{}", JSON),
    ("type a number", b'{"type": 5}', JSON),
    ("url_verification without challenge", b'{"type": "url_verification"}', JSON),
    ("event missing", json.dumps({**event_envelope({}), "event": None}).encode(), JSON),
    ("event a string", _event("message"), JSON),
    ("message without fields", _event({"type": "message"}), JSON),
    ("message fields of the wrong type",
     _event({"type": "message", "channel": 5, "user": [1], "text": {"a": 1}, "ts": 1,
             "channel_type": 3, "thread_ts": 2}), JSON),
    ("message text a number", _event({"type": "message", "channel": COMMUNITY,
                                      "user": CUSTOMER, "text": 5, "ts": "1.1"}), JSON),
    ("mention without text", _event({"type": "app_mention", "channel": COMMUNITY,
                                     "user": CUSTOMER, "ts": "1.2"}), JSON),
    ("mention text a list", _event({"type": "app_mention", "channel": COMMUNITY,
                                    "user": CUSTOMER, "text": ["<@UBOT>"], "ts": "1.3"}), JSON),
    ("message in thread ts a dict",
     _event({"type": "message", "channel": COMMUNITY, "user": CUSTOMER,
             "text": "パスワードを忘れました?", "ts": "1.4", "thread_ts": {"a": 1}}), JSON),
    ("home opened user a number", _event({"type": "app_home_opened", "user": 5}), JSON),
    ("home opened tab a list", _event({"type": "app_home_opened", "user": STAFF, "tab": []}),
     JSON),
    ("unknown event", _event({"type": "reaction_added", "user": CUSTOMER}), JSON),
    ("bot message", _event({"type": "message", "bot_id": ["B"], "subtype": 5}), JSON),
    ("block_actions without actions", _interaction({"type": "block_actions",
                                                    "user": {"id": STAFF}}), FORM),
    ("block_actions actions a string", _interaction({"type": "block_actions",
                                                     "user": {"id": STAFF},
                                                     "actions": "x"}), FORM),
    ("block_actions empty actions", _interaction({"type": "block_actions",
                                                  "user": {"id": STAFF}, "actions": []}), FORM),
    ("unknown action id", _action({"action_id": "not_ours", "value": "x"}), FORM),
    ("action id a number", _action({"action_id": 5}), FORM),
    ("action a string", _interaction({"type": "block_actions", "user": {"id": STAFF},
                                      "actions": ["alert_resolve"]}), FORM),
    *[(f"{aid} value {value!r} by staff",
       _action({"action_id": str(aid), "value": value, "block_id": "b", "action_ts": "1.1"}),
       FORM) for aid in ALERT_IDS + ANSWER_IDS for value in BAD_VALUES],
    *[(f"{aid} by a customer", _action({"action_id": str(aid), "value": '{"alert_id": 1}'},
                                       user=CUSTOMER), FORM) for aid in ALERT_IDS],
    *[(f"{aid} without a user", _interaction({"type": "block_actions", "actions": [
        {"action_id": str(aid), "value": '{"q": 1}'}]}), FORM) for aid in ALERT_IDS + ANSWER_IDS],
    *[(f"{aid} user id a dict", _action({"action_id": str(aid), "value": '{"q": 1}'},
                                        user={"x": 1}), FORM) for aid in ALERT_IDS + ANSWER_IDS],
    ("snooze choice unknown", _action({"action_id": str(ActionId.SNOOZE),
                                       "value": '{"alert_id": 1}',
                                       "selected_option": {"value": "forever"}}), FORM),
    ("snooze option a string", _action({"action_id": str(ActionId.SNOOZE),
                                        "value": '{"alert_id": 1}',
                                        "selected_option": "1d"}), FORM),
    ("snooze date out of range", _action({"action_id": str(ActionId.SNOOZE_UNTIL),
                                          "value": '{"alert_id": 1}',
                                          "selected_date": "9999-99-99"}), FORM),
    ("snooze date a number", _action({"action_id": str(ActionId.SNOOZE_UNTIL),
                                      "value": '{"alert_id": 1}', "selected_date": 5}), FORM),
    ("block_id names no alert", _action({"action_id": str(ActionId.RESOLVE),
                                         "block_id": "alert:x"}), FORM),
    ("block_id a huge alert id", _action({"action_id": str(ActionId.RESOLVE),
                                          "block_id": "alert:" + "9" * 40}), FORM),
    ("view_submission without view", _interaction({"type": "view_submission",
                                                   "user": {"id": STAFF}}), FORM),
    ("view_submission view a string", _interaction({"type": "view_submission",
                                                    "user": {"id": STAFF}, "view": "x"}), FORM),
    ("snooze modal bad metadata", _interaction({
        "type": "view_submission", "user": {"id": STAFF},
        "view": {"id": "V1", "callback_id": str(ViewId.SNOOZE), "private_metadata": "{bad",
                 "state": {"values": {}}}}), FORM),
    ("snooze modal state garbage", _interaction({
        "type": "view_submission", "user": {"id": STAFF},
        "view": {"id": "V2", "callback_id": str(ViewId.SNOOZE),
                 "private_metadata": '{"alert_id": 1}', "state": {"values": "x"}}}), FORM),
    ("snooze modal values of the wrong type", _interaction({
        "type": "view_submission", "user": {"id": STAFF},
        "view": {"id": "V3", "callback_id": str(ViewId.SNOOZE),
                 "private_metadata": '{"alert_id": 1}',
                 "state": {"values": {"snooze_choice": {"snooze_choice": "x"},
                                      "snooze_note": {"snooze_note": {"value": ["n"]}}}}}}),
     FORM),
    ("snooze modal user a string", _interaction({
        "type": "view_submission", "user": "U1",
        "view": {"id": "V4", "callback_id": str(ViewId.SNOOZE),
                 "private_metadata": '{"alert_id": 1}'}}), FORM),
    ("snooze modal by a customer", _interaction({
        "type": "view_submission", "user": {"id": CUSTOMER},
        "view": {"id": "V5", "callback_id": str(ViewId.SNOOZE),
                 "private_metadata": '{"alert_id": 1}'}}), FORM),
    ("unknown view", _interaction({"type": "view_submission", "user": {"id": STAFF},
                                   "view": {"id": "V6", "callback_id": "not_ours"}}), FORM),
    ("view_closed", _interaction({"type": "view_closed", "user": {"id": STAFF},
                                  "view": {"id": "V7", "callback_id": str(ViewId.SNOOZE)}}), FORM),
    ("draft shortcut without message", _interaction({
        "type": "message_action", "callback_id": str(ShortcutId.SAVE_DRAFT),
        "user": {"id": STAFF}, "channel": {"id": COMMUNITY}, "trigger_id": "t"}), FORM),
    ("draft shortcut message a string", _interaction({
        "type": "message_action", "callback_id": str(ShortcutId.SAVE_DRAFT),
        "user": {"id": STAFF}, "channel": {"id": COMMUNITY}, "message": "x"}), FORM),
    ("draft shortcut message text a number", _interaction({
        "type": "message_action", "callback_id": str(ShortcutId.SAVE_DRAFT),
        "user": {"id": STAFF}, "channel": {"id": COMMUNITY},
        "message": {"text": 5, "ts": 5}}), FORM),
    ("draft shortcut by a customer", _interaction({
        "type": "message_action", "callback_id": str(ShortcutId.SAVE_DRAFT),
        "user": {"id": CUSTOMER}, "channel": {"id": COMMUNITY},
        "message": {"text": "x", "ts": "1.1"}}), FORM),
    ("block_suggestion without action", _interaction({"type": "block_suggestion",
                                                      "user": {"id": STAFF}, "value": "x"}),
     FORM),
    ("event without type", _event({"user": CUSTOMER, "text": "x"}), JSON),
    ("view null", _interaction({"type": "view_submission", "user": {"id": STAFF},
                                "view": None}), FORM),
    ("view without type", _interaction({"type": "view_submission", "user": {"id": STAFF},
                                        "view": {"callback_id": str(ViewId.SNOOZE)}}), FORM),
    ("legacy interactive_message", _interaction({"type": "interactive_message",
                                                 "callback_id": "x", "actions": [{}]}), FORM),
    ("unknown shortcut", _interaction({"type": "shortcut", "callback_id": "x",
                                       "user": {"id": STAFF}}), FORM),
    ("ask without text", _command(command=str(CommandName.ASK), user_id=CUSTOMER,
                                  channel_id=COMMUNITY), FORM),
    ("ask without user or channel", _command(command=str(CommandName.ASK), text="請求書"), FORM),
    ("ask without response_url", _command(command=str(CommandName.ASK), text="請求書",
                                          user_id=CUSTOMER, channel_id=COMMUNITY), FORM),
    ("ask far too long", _command(command=str(CommandName.ASK), text="あ" * 20_000,
                                  user_id=CUSTOMER, channel_id=COMMUNITY), FORM),
    ("alerts command garbage", _command(command=str(CommandName.ALERTS), text="\x00 everyone",
                                        user_id=STAFF), FORM),
    ("alerts command without user", _command(command=str(CommandName.ALERTS), text="all"), FORM),
    ("unknown command", _command(command="/other", text="x", user_id=STAFF), FORM),
    ("form without command", b"a=b&c", FORM),
    ("empty body", b"", FORM),
]


@pytest.mark.parametrize(("name", "body", "content_type"), UNREADABLE,
                         ids=[case[0] for case in UNREADABLE])
def test_a_signed_body_bolt_cannot_read_is_400(
    harness: Harness, caplog: pytest.LogCaptureFixture, name: str, body: bytes,
    content_type: str,
) -> None:
    reply = _send(harness, body, content_type)

    assert reply.status_code == 400, reply.text
    assert reply.json() == {"error": "malformed body"}
    _assert_no_error_lines(caplog)


@pytest.mark.parametrize(("name", "body", "content_type"), READABLE,
                         ids=[case[0] for case in READABLE])
def test_a_signed_malformed_payload_is_ignored_or_refused_politely(
    harness: Harness, caplog: pytest.LogCaptureFixture, name: str, body: bytes,
    content_type: str,
) -> None:
    reply = _send(harness, body, content_type)
    harness.drain()

    assert reply.status_code in (200, 400, 404), reply.text
    _assert_no_error_lines(caplog)


def _send(harness: Harness, body: bytes, content_type: str) -> Any:
    # Signed over the raw bytes, as Slack signs (the harness signs text; some bodies are not).
    ts = str(int(time.time()))
    digest = hmac.new(harness.secret.encode(), b"v0:" + ts.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return harness.http.post("/slack/events", content=body, headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}"})


def _assert_no_error_lines(caplog: pytest.LogCaptureFixture) -> None:
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
