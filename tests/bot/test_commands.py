"""/ask: an answer only the asker sees (via response_url), shareable in the channel."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import Question
from core.slack.ids import ActionId
from tests.bot.conftest import COMMUNITY, CUSTOMER, STAFF, Harness, button, card_text, posted


def test_ask_answers_ephemerally_with_a_share_button(harness: Harness) -> None:
    response = harness.command("請求書をダウンロードする方法は？")
    assert response.status_code == 200 and response.text == ""
    harness.drain()
    (answer,) = [c.args for c in harness.stub.calls_to("response_url")]
    assert answer["response_type"] == "ephemeral"
    assert "*[設定] → [請求]*" in card_text(answer["blocks"])
    assert button(answer["blocks"], ActionId.SHARE)["text"]["text"] == "チャンネルに共有"
    assert posted(harness.stub) == []  # nothing public yet
    with harness.session_factory() as session:
        (question,) = session.scalars(select(Question)).all()
        assert question.surface == "ask-command" and question.channel == COMMUNITY
    assert not harness.stub.violations


def test_share_posts_the_answer_for_everyone_and_removes_the_ephemeral(harness: Harness) -> None:
    harness.command("How do I export timesheets to CSV?")
    harness.drain()
    answer = harness.stub.calls_to("response_url")[-1].args
    harness.click(button(answer["blocks"], ActionId.SHARE), user=CUSTOMER, channel=COMMUNITY,
                  ephemeral=True)
    harness.drain()
    (shared,) = posted(harness.stub, COMMUNITY)
    text = card_text(shared["blocks"])
    assert f"Shared by <@{CUSTOMER}>" in text and "How do I export timesheets to CSV?" in text
    assert "Reports → Timesheets" in text
    assert not any(e.get("action_id") == ActionId.SHARE
                   for e in shared["blocks"][-1]["elements"])
    assert harness.stub.calls_to("response_url")[-1].args.get("delete_original") is True
    assert not harness.stub.violations


def test_staff_cannot_share_an_internal_answer_into_a_dm(harness: Harness) -> None:
    harness.command("返金に応じる社内基準は？", user=STAFF, channel="DSTAFFDM")
    harness.drain()
    answer = harness.stub.calls_to("response_url")[-1].args
    assert "社内限定" in card_text(answer["blocks"])  # staff may read it themselves
    harness.click(button(answer["blocks"], ActionId.SHARE), user=STAFF, channel="DSTAFFDM",
                  ephemeral=True)
    harness.drain()
    assert posted(harness.stub) == []
    refusal = harness.stub.calls_to("response_url")[-1].args["text"]
    assert refusal == "この回答は社内向けのため、このチャンネルには共有できません。"


def test_feedback_on_an_ephemeral_answer_replaces_it_through_the_response_url(
    harness: Harness,
) -> None:
    harness.command("パスワードを忘れました")
    harness.drain()
    answer = harness.stub.calls_to("response_url")[-1].args
    harness.click(button(answer["blocks"], ActionId.HELPFUL), user=CUSTOMER, channel=COMMUNITY,
                  ephemeral=True)
    harness.drain()
    updated = harness.stub.calls_to("response_url")[-1].args
    assert updated["replace_original"] is True
    assert "👍 1" in card_text(updated["blocks"])
    assert button(updated["blocks"], ActionId.SHARE)
    assert harness.stub.calls_to("chat.update") == []


def test_empty_or_too_long_questions_get_usage_at_once(harness: Harness) -> None:
    empty = harness.command("   ")
    assert "/ask" in empty.text  # bolt acks a text-only reply as plain text: ephemeral
    long = harness.command("あ" * (harness.settings.ask_max_chars + 1))
    assert "質問が長すぎます" in long.text
    harness.drain()
    assert harness.stub.calls_to("response_url") == []
    with harness.session_factory() as session:
        assert session.scalars(select(Question)).all() == []
