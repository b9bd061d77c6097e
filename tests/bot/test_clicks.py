"""Button clicks sent as Slack sends them (form-encoded `payload=`): each changes stored truth
and re-renders the card from it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Escalation, Feedback, Question
from bot.payloads import AnswerRef
from core.slack.ids import ActionId
from retrieval.models import Decision, SearchResult, Visibility
from retrieval.service import Retriever
from tests.bot.conftest import (
    CUSTOMER,
    RANDOM,
    STAFF,
    SUPPORT,
    Clock,
    Harness,
    button,
    card_text,
    make_harness,
    message,
    posted,
)
from tests.slack_stub import SlackStub


def _answered(harness: Harness, text: str = "<@UBOT> パスワードを忘れました。再設定するには？"
              ) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Ask in RANDOM; return the question event, the bot's reply and the reply's ts."""
    event = message(text, channel=RANDOM, kind="app_mention")
    harness.event(event)
    harness.drain()
    with harness.session_factory() as session:
        question = session.scalars(select(Question).order_by(Question.id.desc())).first()
        assert question is not None and question.reply_ts
        return event, posted(harness.stub)[-1], question.reply_ts


def _feedback(factory: sessionmaker[Session]) -> list[tuple[str, bool]]:
    with factory() as session:
        return [(f.user, f.helpful) for f in session.scalars(select(Feedback))]


def test_helpful_click_is_stored_and_the_card_shows_the_count(harness: Harness) -> None:
    event, reply, ts = _answered(harness)
    helpful = button(reply["blocks"], ActionId.HELPFUL)
    response = harness.click(helpful, user=CUSTOMER, channel=RANDOM, message_ts=ts,
                             thread_ts=event["ts"])
    assert response.status_code == 200
    harness.drain()
    assert _feedback(harness.session_factory) == [(CUSTOMER, True)]
    (update,) = [c.args for c in harness.stub.calls_to("chat.update")]
    assert update["ts"] == ts and update["channel"] == RANDOM
    assert "👍 1　👎 0" in card_text(update["blocks"])
    thanks = harness.stub.calls_to("response_url")[-1].args
    assert thanks["text"] == "フィードバックありがとうございます。"
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
    assert not harness.stub.violations


def test_changing_your_mind_keeps_only_the_latest_click(harness: Harness) -> None:
    _event, reply, ts = _answered(harness)
    for action, user in ((ActionId.HELPFUL, CUSTOMER), (ActionId.HELPFUL, STAFF),
                         (ActionId.NOT_HELPFUL, CUSTOMER)):
        harness.click(button(reply["blocks"], action), user=user, channel=RANDOM, message_ts=ts)
        harness.drain()
    assert sorted(_feedback(harness.session_factory)) == [(CUSTOMER, False), (STAFF, True)]
    last = harness.stub.calls_to("chat.update")[-1].args
    assert "👍 1　👎 1" in card_text(last["blocks"])


def test_ask_a_human_posts_question_asker_link_and_candidates_to_support(
    harness: Harness,
) -> None:
    event, reply, ts = _answered(harness, "<@UBOT> 今日の天気はどうですか？")
    harness.click(button(reply["blocks"], ActionId.ASK_HUMAN), user=CUSTOMER, channel=RANDOM,
                  message_ts=ts, thread_ts=event["ts"])
    harness.drain()
    (post,) = posted(harness.stub, SUPPORT)
    text = card_text(post["blocks"])
    assert "今日の天気はどうですか？" in text and f"<@{CUSTOMER}>" in text
    permalink = f"https://test.slack.com/archives/{RANDOM}/p{event['ts'].replace('.', '')}"
    assert permalink in text
    assert "ボットの候補" in text
    (told,) = [p for p in posted(harness.stub, RANDOM) if p.get("thread_ts") == event["ts"]
               and "サポート担当者に質問をお送りしました" in p["text"]]
    assert told["text"].startswith(f"<@{CUSTOMER}> ")  # the asker sees it in the thread
    with harness.session_factory() as session:
        (escalation,) = session.scalars(select(Escalation)).all()
        assert escalation.requested_by == CUSTOMER and escalation.support_ts
    # A second click does not post again.
    harness.click(button(reply["blocks"], ActionId.ASK_HUMAN), user=STAFF, channel=RANDOM,
                  message_ts=ts)
    harness.drain()
    assert len(posted(harness.stub, SUPPORT)) == 1
    assert "すでに" in harness.stub.calls_to("response_url")[-1].args["text"]
    assert not harness.stub.violations


def test_more_answers_shows_the_other_candidates_to_the_clicker(harness: Harness) -> None:
    _event, reply, ts = _answered(harness)
    harness.click(button(reply["blocks"], ActionId.MORE_ANSWERS), user=CUSTOMER,
                  channel=RANDOM, message_ts=ts)
    harness.drain()
    more = harness.stub.calls_to("response_url")[-1].args
    assert more["response_type"] == "ephemeral"
    shown = [AnswerRef.decode(b["accessory"]["value"]).e for b in more["blocks"]
             if b.get("accessory")]
    assert shown and "password-reset" not in shown
    assert "refund-policy-internal" not in shown  # RANDOM is a public channel
    assert not harness.stub.violations


class Suggesting:
    """The real retriever, made unsure: its hits, with the decision forced to `suggest`."""

    def __init__(self, real: Retriever) -> None:
        self.real = real

    @property
    def entries(self) -> Any:
        return self.real.entries

    def search(self, query: str, visibility: Visibility, k: int = 10, *,
               client: str = "") -> SearchResult:
        found = self.real.search(query, visibility, k, client=client)
        return SearchResult(found.query, Decision.SUGGEST, found.hits, found.lang)


@pytest.fixture
def unsure(bot_settings: Any, session_factory: sessionmaker[Session], stub: SlackStub,
           retriever: Retriever, clock: Clock) -> Any:
    h = make_harness(bot_settings, session_factory, stub, Suggesting(retriever), clock)  # type: ignore[arg-type]
    yield h
    h.drain()
    h.executor.shutdown()


def test_suggestion_expands_into_the_chosen_answer(unsure: Harness) -> None:
    _event, reply, ts = _answered(unsure, "<@UBOT> 請求書のダウンロード")
    titles = [b["text"]["text"] for b in reply["blocks"] if b.get("accessory")]
    assert len(titles) == 3 and "• 請求書をダウンロードする方法は?" in titles
    chosen = next(b["accessory"] for b in reply["blocks"]
                  if b.get("accessory") and "請求書" in b["text"]["text"])
    unsure.click(chosen, user=CUSTOMER, channel=RANDOM, message_ts=ts)
    unsure.drain()
    (update,) = [c.args for c in unsure.stub.calls_to("chat.update")]
    assert update["ts"] == ts
    assert "*[設定] → [請求]*" in card_text(update["blocks"])
    assert button(update["blocks"], ActionId.HELPFUL)
    assert not unsure.stub.violations


def test_a_forged_button_value_gets_a_clear_answer(harness: Harness) -> None:
    forged = {"action_id": str(ActionId.HELPFUL), "value": '{"q": 99999, "e": "x"}'}
    harness.click(forged, user=CUSTOMER, channel=RANDOM, message_ts="1.1")
    harness.click({"action_id": str(ActionId.SHOW_ANSWER), "value": "junk"}, user=CUSTOMER,
                  channel=RANDOM, message_ts="1.1")
    harness.drain()
    notes = [c.args["text"] for c in harness.stub.calls_to("response_url")]
    assert notes == ["このボタンは古くなっています。もう一度質問してください。"] * 2
    assert _feedback(harness.session_factory) == []


def test_a_failed_support_post_can_be_retried(harness: Harness) -> None:
    event, reply, ts = _answered(harness, "<@UBOT> 今日の天気はどうですか？")
    ask = button(reply["blocks"], ActionId.ASK_HUMAN)
    harness.stub.fail_next("chat.postMessage", status=500, times=1)
    harness.click(ask, user=CUSTOMER, channel=RANDOM, message_ts=ts, thread_ts=event["ts"])
    harness.drain()
    assert harness.stub.calls_to("response_url")[-1].args["text"].startswith("すみません")
    with harness.session_factory() as session:
        assert session.scalars(select(Escalation)).all() == []
    harness.click(ask, user=CUSTOMER, channel=RANDOM, message_ts=ts, thread_ts=event["ts"])
    harness.drain()
    assert len(posted(harness.stub, SUPPORT)) == 2  # the refused attempt, then the delivered one
    with harness.session_factory() as session:
        (escalation,) = session.scalars(select(Escalation)).all()
        assert escalation.support_ts
