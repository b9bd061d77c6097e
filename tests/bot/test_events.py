"""Signed Slack events in, answers out: mentions, auto-answers, DMs, follow-ups, bots, safety."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Question
from bot.payloads import AnswerRef
from core.slack.ids import ActionId
from tests.bot.conftest import (
    COMMUNITY,
    CUSTOMER,
    INTERNAL,
    RANDOM,
    STAFF,
    Harness,
    button,
    card_text,
    message,
    posted,
)
from tests.slack_stub import SlackStub


def _questions(factory: sessionmaker[Session]) -> list[Question]:
    with factory() as session:
        return list(session.scalars(select(Question).order_by(Question.id)))


def test_mention_is_answered_in_its_thread_with_the_answer_card(harness: Harness) -> None:
    event = message("<@UBOT> パスワードを忘れました。再設定するには？", channel=RANDOM,
                    kind="app_mention")
    response = harness.event(event)
    assert response.status_code == 200
    harness.drain()
    (reply,) = posted(harness.stub)
    assert reply["channel"] == RANDOM and reply["thread_ts"] == event["ts"]
    text = card_text(reply["blocks"])
    assert "*パスワードを忘れました。再設定するには?*" in text
    assert "*「パスワードをお忘れの方」*" in text
    assert "https://help.example.com/shiftora/password-reset" in text
    assert AnswerRef.decode(button(reply["blocks"], ActionId.HELPFUL)["value"]).e == \
        "password-reset"
    (question,) = _questions(harness.session_factory)
    assert (question.decision, question.top_entry_id, question.user) == (
        "answer", "password-reset", CUSTOMER)
    assert question.reply_ts and question.thread_ts == event["ts"]
    assert not harness.stub.violations


def test_working_reaction_is_added_then_removed(harness: Harness) -> None:
    event = message("<@UBOT> 請求書をダウンロードする方法は？", channel=RANDOM, kind="app_mention")
    harness.event(event)
    harness.drain()
    reactions = [(c.method, c.args["name"], c.args["timestamp"]) for c in harness.stub.calls
                 if c.method.startswith("reactions.")]
    assert reactions == [("reactions.add", "eyes", event["ts"]),
                         ("reactions.remove", "eyes", event["ts"])]
    methods = [c.method for c in harness.stub.calls if c.method != "auth.test"]
    assert methods.index("reactions.add") < methods.index("chat.postMessage") < \
        methods.index("reactions.remove")


def test_english_question_gets_english_words(harness: Harness) -> None:
    harness.event(message("<@UBOT> How do I export timesheets to CSV?", channel=RANDOM,
                          kind="app_mention"))
    harness.drain()
    (reply,) = posted(harness.stub)
    labels = [e["text"]["text"] for e in reply["blocks"][-1]["elements"]]
    assert labels == ["👍 Helpful", "👎 Not helpful", "🙋 Ask a human", "More answers"]
    assert not harness.stub.violations


def test_community_questions_are_auto_answered_in_a_thread_and_chatter_is_not(
    harness: Harness,
) -> None:
    harness.event(message("ありがとうございます！助かりました"))
    harness.event(message("おはようございます"))
    question = message("請求書はどこでダウンロードできますか")
    harness.event(question)
    harness.drain()
    (reply,) = posted(harness.stub)
    assert reply["channel"] == COMMUNITY and reply["thread_ts"] == question["ts"]
    assert "請求書をダウンロードする方法は?" in card_text(reply["blocks"])
    assert not harness.stub.violations


def test_questions_in_other_channels_need_a_mention(harness: Harness) -> None:
    harness.event(message("請求書はどこでダウンロードできますか", channel=RANDOM))
    harness.drain()
    assert posted(harness.stub) == []


def test_follow_up_in_the_bots_thread_is_answered_without_a_mention(harness: Harness) -> None:
    first = message("<@UBOT> パスワードを忘れました", channel=RANDOM, kind="app_mention")
    harness.event(first)
    harness.drain()
    harness.event(message("あと、請求書はどこでダウンロードできますか", channel=RANDOM,
                          thread_ts=first["ts"]))
    harness.event(message("請求書はどこでダウンロードできますか", channel=RANDOM,
                          thread_ts="1600000000.000100"))  # someone else's thread
    harness.event(message("ありがとうございます！", channel=RANDOM, thread_ts=first["ts"]))
    harness.drain()
    replies = posted(harness.stub)
    assert len(replies) == 2
    assert replies[1]["thread_ts"] == first["ts"]
    assert "請求書" in card_text(replies[1]["blocks"])
    assert not harness.stub.violations


def test_other_bots_and_the_bot_itself_are_never_answered(harness: Harness) -> None:
    harness.event(message("請求書はどこでダウンロードできますか", bot_id="BOTHER",
                          subtype="bot_message"))
    harness.event(message("パスワードを忘れました。再設定するには？", bot_id="BOTHER2"))
    harness.event(message("パスワードを忘れました。再設定するには？", user="UBOT"))
    harness.event(message("<@UBOT> 返金の方法は？", bot_id="BOTHER3", kind="app_mention"))
    harness.drain()
    assert posted(harness.stub) == []
    assert _questions(harness.session_factory) == []


def test_edits_and_joins_are_not_questions(harness: Harness) -> None:
    harness.event(message("参加しました。質問はありますか？", subtype="channel_join"))
    harness.event({"type": "message", "subtype": "message_changed", "channel": COMMUNITY,
                   "ts": "1700000999.000100", "channel_type": "channel",
                   "message": {"text": "ログインできません", "user": CUSTOMER}})
    harness.drain()
    assert posted(harness.stub) == []


def test_abstain_says_so_offers_a_human_and_records_a_gap(harness: Harness) -> None:
    harness.event(message("今日の天気はどうですか？"))
    harness.drain()
    (reply,) = posted(harness.stub)
    assert "ナレッジベースに答えが見つかりませんでした" in reply["text"]
    assert button(reply["blocks"], ActionId.ASK_HUMAN)
    (question,) = _questions(harness.session_factory)
    assert question.decision == "abstain" and question.top_entry_id is None


def test_internal_entry_never_answered_in_community_channel(harness: Harness) -> None:
    """The same question finds the internal entry in an internal channel, nothing in community."""
    harness.event(message("<@UBOT> 返金に応じる社内基準は？", user=STAFF, kind="app_mention"))
    harness.event(message("<@UBOT> 返金に応じる社内基準は？", channel=INTERNAL, user=CUSTOMER,
                          kind="app_mention"))
    harness.drain()
    by_channel = {r["channel"]: r for r in posted(harness.stub)}
    community = card_text(by_channel[COMMUNITY]["blocks"]) + by_channel[COMMUNITY]["text"]
    assert "返金" not in community and "refund-policy-internal" not in community
    assert "社内限定" in card_text(by_channel[INTERNAL]["blocks"])
    stored = {q.channel: q for q in _questions(harness.session_factory)}
    assert all(c["visibility"] == "public" for c in stored[COMMUNITY].candidates)
    assert stored[COMMUNITY].visibility == "public"
    assert stored[INTERNAL].top_entry_id == "refund-policy-internal"
    assert not harness.stub.violations


def test_dm_visibility_follows_the_staff_user_group(harness: Harness) -> None:
    harness.event(message("返金に応じる社内基準は？", channel="DCUSTOMER", channel_type="im"))
    harness.event(message("返金に応じる社内基準は？", channel="DSTAFF", user=STAFF,
                          channel_type="im"))
    harness.event(message("ありがとうございます", channel="DSTAFF", user=STAFF,
                          channel_type="im"))  # thanks is not a question, even in a DM
    harness.drain()
    assert len(posted(harness.stub)) == 2
    by_channel = {r["channel"]: r for r in posted(harness.stub)}
    assert "社内限定" not in card_text(by_channel["DCUSTOMER"]["blocks"])
    assert "社内限定" in card_text(by_channel["DSTAFF"]["blocks"])
    # DMs are answered where they were asked, not in a thread.
    assert by_channel["DSTAFF"].get("thread_ts") is None
    assert len(harness.stub.calls_to("usergroups.users.list")) == 1  # cached


def test_staff_list_is_cached_for_a_while_then_refreshed(
    harness: Harness, stub: SlackStub,
) -> None:
    from datetime import timedelta

    harness.event(message("返金に応じる社内基準は？", channel="DNEW", user="UNEW",
                          channel_type="im"))
    harness.drain()
    stub.usergroups["SSTAFF"] = [STAFF, "UNEW"]
    harness.clock.advance(timedelta(minutes=6))
    harness.event(message("返金に応じる社内基準は？", channel="DNEW", user="UNEW",
                          channel_type="im"))
    harness.drain()
    first, second = posted(stub)
    assert "社内限定" not in card_text(first["blocks"])
    assert "社内限定" in card_text(second["blocks"])
    assert len(stub.calls_to("usergroups.users.list")) == 2


def test_a_bare_mention_gets_a_hint_on_how_to_ask(harness: Harness) -> None:
    event = message("<@UBOT>", channel=RANDOM, kind="app_mention")
    harness.event(event)
    harness.drain()
    (reply,) = posted(harness.stub)
    assert reply["thread_ts"] == event["ts"] and "ご質問をどうぞ" in reply["text"]
    assert _questions(harness.session_factory) == []


def test_a_very_long_answer_is_posted_shortened_with_a_link_to_the_source(
    harness: Harness,
) -> None:
    harness.event(message("<@UBOT> 就業規則の勤怠に関する条文をすべて見たい", channel=RANDOM,
                          kind="app_mention"))
    harness.drain()
    (reply,) = posted(harness.stub)  # accepted by the stand-in's Slack limits
    text = card_text(reply["blocks"])
    assert "*第1条*" in text and "第59条" not in text
    assert "<https://help.example.com/shiftora/work-rules|続きを読む>" in text
    assert not harness.stub.violations
