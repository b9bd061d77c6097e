"""Which community-channel messages the bot answers unasked (Japanese rarely ends with "?")."""

from __future__ import annotations

import pytest

from bot.questions import is_chatter, looks_like_question


@pytest.mark.parametrize(
    "text",
    [
        "パスワードを忘れました。再設定するには？",
        "請求書はどこでダウンロードできますか",
        "ログインできません",
        "シフトのテンプレートを作る方法を教えて",
        "CSVの出力方法",
        "管理者を追加したいのですが",
        "打刻が反映されないのはなぜでしょうか",
        "有給の申請はいつまでにすればいいですか",
        "アプリが動かない…",
        "エラーが出て保存できない",
        "どうすれば通知を止められる",
        "How do I export timesheets?",
        "how to add a new user",
        "Is there a way to change the plan",
        "I can't log in",
        "The mobile app is not working",
        "Anyone know where the invoices are",
        "<@U123> 料金プランの変更方法",
    ],
)
def test_questions_are_recognised(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "ありがとうございます！",
        "いつもお世話になっております",
        "どうもありがとう",
        "了解です",
        "おはようございます",
        "新機能がリリースされました",
        "明日はよろしくお願いします",
        "thanks!",
        "Good morning team",
        "Released v2.3 today",
        "ok",
        "",
        "<@U123>",
        "かなり便利になりました",
    ],
)
def test_chatter_is_left_alone(text: str) -> None:
    assert not looks_like_question(text)


@pytest.mark.parametrize(("text", "chatter"), [
    ("ありがとうございます", True), ("thanks!", True), ("ok", True), ("<@UBOT>", True),
    ("ありがとうございます。ところで請求書はどこ？", False), ("請求書", False),
    ("invoice", False),
])
def test_chatter_in_a_dm_is_not_answered_but_any_topic_is(text: str, chatter: bool) -> None:
    assert is_chatter(text) is chatter
