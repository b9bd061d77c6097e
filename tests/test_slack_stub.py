"""The Slack stand-in must refuse what Slack refuses, or the bot's limit tests prove nothing."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.slack_stub import SlackStub


def test_stub_refuses_a_section_longer_than_slack_allows(stub: SlackStub) -> None:
    client = WebClient(token="xoxb-test", base_url=stub.url)
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "あ" * 3001}}]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="t", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"
    assert stub.violations


def test_stub_records_posted_messages_with_their_blocks(stub: SlackStub) -> None:
    client = WebClient(token="xoxb-test", base_url=stub.url)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "こんにちは"}}]
    reply = client.chat_postMessage(channel="C1", text="hi", blocks=blocks, thread_ts="1.2")
    (call,) = stub.calls_to("chat.postMessage")
    assert call.args["blocks"] == blocks and call.args["thread_ts"] == "1.2"
    assert reply["ts"] and call.headers["authorization"] == "Bearer xoxb-test"


def test_rate_limited_call_is_retried_after_retry_after(stub: SlackStub) -> None:
    client = WebClient(token="xoxb-test", base_url=stub.url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    stub.fail_next("chat.postMessage", status=429, retry_after=1)
    client.chat_postMessage(channel="C1", text="hello")
    calls = stub.calls_to("chat.postMessage")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9


def test_stub_refuses_a_modal_slack_would_refuse(stub: SlackStub) -> None:
    client = WebClient(token="xoxb-test", base_url=stub.url)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25},
             "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="", view=modal)
    problems = err.value.response["errors"]
    assert "101 blocks > 100" in problems and "modal title > 24" in problems
    assert "views.open needs the click's trigger_id" in problems
    assert stub.calls_to("views.open") == []
