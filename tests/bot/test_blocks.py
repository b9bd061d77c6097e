"""Cards are data: what a reader sees, and that Slack accepts them even for extreme content."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot import blocks
from bot.blocks import Candidate
from bot.payloads import AnswerRef, BadPayload
from core.slack.ids import ActionId
from tests.bot.conftest import button, card_text
from tests.bot.kb import EXPORT_EN, PASSWORD
from tests.slack_stub import check_blocks


def test_answer_card_shows_title_converted_body_sources_and_buttons() -> None:
    card = blocks.answer(7, PASSWORD, "ja")
    text = card_text(card.blocks)
    assert "*パスワードを忘れました。再設定するには?*" in text
    assert "*「パスワードをお忘れの方」*" in text and "**" not in text
    assert "<https://help.example.com/password|ヘルプセンター>" in text
    assert "出典: <https://help.example.com/shiftora/password-reset|" in text
    labels = [e["text"]["text"] for e in card.blocks[-1]["elements"]]
    assert labels == ["👍 役に立った", "👎 役に立たなかった", "🙋 担当者に聞く", "他の回答"]
    assert AnswerRef.decode(button(card.blocks, ActionId.HELPFUL)["value"]) == AnswerRef(
        q=7, e="password-reset")
    assert not check_blocks(card.blocks)


def test_english_answer_uses_english_labels() -> None:
    card = blocks.answer(1, EXPORT_EN, "en")
    labels = [e["text"]["text"] for e in card.blocks[-1]["elements"]]
    assert labels == ["👍 Helpful", "👎 Not helpful", "🙋 Ask a human", "More answers"]
    assert "• One row per staff member and day" in card_text(card.blocks)


def test_ephemeral_answer_offers_share_in_channel() -> None:
    card = blocks.answer(1, PASSWORD, "ja", ephemeral=True)
    assert button(card.blocks, ActionId.SHARE)["text"]["text"] == "チャンネルに共有"
    assert not any(e.get("action_id") == ActionId.SHARE
                   for e in blocks.answer(1, PASSWORD, "ja").blocks[-1]["elements"])


def test_very_long_answer_is_cut_with_a_link_to_the_source_and_slack_accepts_it() -> None:
    paragraph = "とても長い説明です。" * 40 + "[リンク](https://x.example/" + "a" * 50 + ")\n\n"
    huge = replace(PASSWORD, body=paragraph * 200, title="長い" * 400)
    card = blocks.answer(123456, huge, "ja")
    assert not check_blocks(card.blocks)
    assert len(card.text) <= blocks.FALLBACK_CHARS + blocks.TITLE_CHARS + 1
    text = card_text(card.blocks)
    assert "<https://help.example.com/shiftora/password-reset|続きを読む>" in text
    body_sections = [b for b in card.blocks if b.get("block_id", "").startswith("body_")]
    assert len(body_sections) == blocks.BODY_SECTIONS
    # Never a link cut in half: every "<" opened in a section is closed in it.
    for section in body_sections:
        chunk = section["text"]["text"]
        assert chunk.count("<") == chunk.count(">")


def test_single_enormous_line_and_code_block_stay_valid() -> None:
    body = "```\n" + ("x" * 5000 + "\n") * 3 + "```\n" + "あ" * 20_000
    card = blocks.answer(1, replace(PASSWORD, body=body, links=()), "ja")
    assert not check_blocks(card.blocks)
    sections = [b["text"]["text"] for b in card.blocks if b["block_id"].startswith("body_")]
    assert all(s.count("```") % 2 == 0 for s in sections)
    assert "長いため一部を省略しました" in card_text(card.blocks)


def test_suggestions_list_three_titles_each_with_show_answer() -> None:
    cands = [Candidate(f"e{i}", f"候補 {i}", 0.6 - i / 100) for i in range(5)]
    card = blocks.suggestions(9, cands, "ja")
    shown = [b for b in card.blocks if b.get("accessory")]
    assert [b["text"]["text"] for b in shown] == ["• 候補 0", "• 候補 1", "• 候補 2"]
    assert [AnswerRef.decode(b["accessory"]["value"]).e for b in shown] == ["e0", "e1", "e2"]
    assert button(card.blocks, ActionId.ASK_HUMAN)
    assert not check_blocks(card.blocks)


def test_abstain_says_so_plainly_and_offers_a_human() -> None:
    card = blocks.abstain(3, "en")
    assert "couldn't find an answer" in card.text
    assert AnswerRef.decode(button(card.blocks, ActionId.ASK_HUMAN)["value"]) == AnswerRef(q=3)


def test_escalation_post_quotes_question_with_asker_place_and_candidates() -> None:
    card = blocks.escalation("ログインできません\n2行目", "U1", "U2", "<https://x|元のメッセージ>",
                             [Candidate("login", "ログインできない", 0.55)], "ja")
    text = card_text(card.blocks)
    assert ">質問: ログインできません\n>2行目" in text
    assert "<@U1>" in text and "<@U2>" in text and "<https://x|元のメッセージ>" in text
    assert "ログインできない (`login`, 0.55)" in text
    assert not check_blocks(card.blocks)


def test_button_values_are_compact_typed_json() -> None:
    value = AnswerRef(q=42, e="password-reset").encode()
    assert json.loads(value) == {"q": 42, "e": "password-reset"}
    assert AnswerRef.decode(AnswerRef(q=1).encode()) == AnswerRef(q=1)


@pytest.mark.parametrize("value", ["", "42", '{"q": 0}', '{"q": 1, "x": 2}', "not json", None])
def test_foreign_button_values_are_refused_clearly(value: str | None) -> None:
    with pytest.raises(BadPayload, match="not an answer button value"):
        AnswerRef.decode(value)
