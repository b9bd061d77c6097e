"""The bot's own words in Japanese and English; it speaks the language of the question."""

from __future__ import annotations

from typing import Literal

Lang = Literal["ja", "en"]

_TEXTS: dict[str, dict[str, str]] = {
    "helpful": {"ja": "👍 役に立った", "en": "👍 Helpful"},
    "not_helpful": {"ja": "👎 役に立たなかった", "en": "👎 Not helpful"},
    "ask_human": {"ja": "🙋 担当者に聞く", "en": "🙋 Ask a human"},
    "more_answers": {"ja": "他の回答", "en": "More answers"},
    "show_answer": {"ja": "回答を見る", "en": "Show answer"},
    "share": {"ja": "チャンネルに共有", "en": "Share in channel"},
    "source": {"ja": "出典", "en": "Source"},
    "read_more": {"ja": "続きを読む", "en": "Read the full answer"},
    "truncated": {
        "ja": "（長いため一部を省略しました）", "en": "(shortened: the full answer is longer)",
    },
    "suggest_intro": {
        "ja": "確実な答えは見つかりませんでしたが、次の記事が参考になるかもしれません。",
        "en": "I'm not sure, but one of these might answer your question.",
    },
    "more_intro": {"ja": "他の候補です。", "en": "Other possible answers:"},
    "no_more": {"ja": "他の候補はありません。", "en": "There are no other answers."},
    "abstain": {
        "ja": "すみません、ナレッジベースに答えが見つかりませんでした。"
              "「担当者に聞く」を押すと、サポート担当者に質問をお送りします。",
        "en": "Sorry, I couldn't find an answer in the knowledge base. "
              "Press \"Ask a human\" and I'll pass your question to the support team.",
    },
    "apology": {
        "ja": "すみません、回答中にエラーが発生しました。少し時間をおいてもう一度お試しください。",
        "en": "Sorry, something went wrong while answering. Please try again in a moment.",
    },
    "escalated": {
        "ja": "サポート担当者に質問をお送りしました。担当者から追ってご連絡します。",
        "en": "I've passed your question to the support team. Someone will follow up with you.",
    },
    "already_escalated": {
        "ja": "この質問はすでにサポート担当者にお送りしています。",
        "en": "This question has already been passed to the support team.",
    },
    "no_support_channel": {
        "ja": "すみません、担当者への取り次ぎ先が設定されていません。"
              "管理者にお問い合わせください。",
        "en": "Sorry, no support channel is set up to pass questions to. Please contact an admin.",
    },
    "feedback_thanks": {
        "ja": "フィードバックありがとうございます。", "en": "Thanks for the feedback.",
    },
    "feedback_counts": {"ja": "👍 {up}　👎 {down}", "en": "👍 {up}   👎 {down}"},
    "shared_by": {"ja": "<@{user}> さんが共有しました", "en": "Shared by <@{user}>"},
    "asked": {"ja": "質問: {question}", "en": "Question: {question}"},
    "stale_button": {
        "ja": "このボタンは古くなっています。もう一度質問してください。",
        "en": "This button is out of date. Please ask again.",
    },
    "not_shareable": {
        "ja": "この回答は社内向けのため、このチャンネルには共有できません。",
        "en": "This answer is internal and can't be shared in this channel.",
    },
    "ask_usage": {
        "ja": "使い方: `/ask 質問` （例: `/ask パスワードを変更する方法は？`）",
        "en": "Usage: `/ask <question>` (e.g. `/ask How do I reset my password?`)",
    },
    "question_too_long": {
        "ja": "質問が長すぎます（{limit} 文字まで）。短くしてもう一度お試しください。",
        "en": "That question is too long (up to {limit} characters). Please shorten it.",
    },
    "escalation_header": {"ja": "🙋 担当者への質問", "en": "🙋 A question for a human"},
    "escalation_meta": {
        "ja": "質問者: <@{asker}>　依頼: <@{requester}>　場所: {where}",
        "en": "Asked by <@{asker}>   requested by <@{requester}>   in {where}",
    },
    "message_link": {"ja": "元のメッセージ", "en": "original message"},
    "mention_empty": {
        "ja": "ご質問をどうぞ。例: `@banso パスワードを変更する方法は？`",
        "en": "Ask me anything, e.g. `@banso How do I reset my password?`",
    },
    "escalation_candidates": {"ja": "ボットの候補", "en": "The bot's candidates"},
    "escalation_no_candidates": {"ja": "候補なし", "en": "no candidates"},
    "draft_saved": {
        "ja": "FAQ の下書きを保存しました: `{path}`（レビューされるまで社内限定です）",
        "en": "Saved an FAQ draft: `{path}` (internal until reviewed)",
    },
    "draft_announce": {
        "ja": "📝 新しい FAQ の下書き: *{title}*\n<@{user}> さんが{thread}から作成"
              "しました。ファイル: `{path}`（visibility: internal、レビュー後に公開してください）",
        "en": "📝 New FAQ draft: *{title}*\nSaved by <@{user}> from {thread}. "
              "File: `{path}` (visibility: internal — review it before publishing)",
    },
    "this_thread": {"ja": "このスレッド", "en": "this thread"},
    "draft_staff_only": {
        "ja": "FAQ の下書きを作成できるのはスタッフのみです。",
        "en": "Only staff can save FAQ drafts.",
    },
    "draft_empty": {
        "ja": "このスレッドには下書きにできる内容がありません。",
        "en": "There is nothing in this thread to turn into a draft.",
    },
}


def t(key: str, lang: str, **values: object) -> str:
    """The text `key` in `lang` (English for anything but Japanese), with `values` filled in."""
    texts = _TEXTS[key]
    text = texts["ja"] if lang == "ja" else texts["en"]
    return text.format(**values) if values else text
