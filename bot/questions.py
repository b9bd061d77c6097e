"""Does a community-channel message look like a question worth auto-answering?

Japanese questions often end without any question mark (「ログインできません」「方法を教えて」),
so the test is a set of endings and keywords, not just `?`. Greetings, thanks and short chatter
are left alone: an unwanted answer in a community channel is worse than a missed one.
"""

from __future__ import annotations

import re

_MENTION = re.compile(r"<[@#!][^>]*>")
_URL = re.compile(r"<https?://[^>]*>|https?://\S+")

_MARKS = ("?", "？")
_JA_PATTERNS = re.compile(
    "|".join((
        "ですか", "ますか", "でしょうか", "ませんか", "ないか", "のか", r"かな(?!り)",
        "方法", "やり方", "手順", "仕方", "教えて", "知りたい", "わかりません", "分かりません",
        "わからない", "分からない", "できません", "できない", "出来ません", "出来ない",
        "いけません", "されません", "されない", "動かない", "動きません", "エラー", "困って",
        "したい", "たいです", r"どう(?!も|ぞ)", "どこ", "どれ", "どの", "なぜ", "何故",
        r"いつ(?!も)", "誰", "何を", "何が", "なんで", "いくら", "ありますか", "おすすめ",
    ))
)
_EN_START = re.compile(
    r"^(how|what|why|where|when|which|who|whom|whose|is|are|can|could|do|does|did|should|"
    r"would|will|may|has|have|any(one|body)?)\b",
    re.IGNORECASE,
)
_EN_PATTERNS = re.compile(
    r"\b(how (do|can|to|should)|is there|help( me)?|can't|cannot|can not|doesn't work|"
    r"does not work|not working|isn't working|won't|unable to|error|fails?|failing|"
    r"i (need|want) to|anyone know|wondering)\b",
    re.IGNORECASE,
)
_NOT_QUESTIONS = re.compile(
    r"^(ありがとう|どうも|ありがとうございま|了解|承知|おはよう|こんにちは|こんばんは|お疲れ|よろしく|"
    r"thanks|thank you|thx|ok|okay|got it|hello|hi|hey|good (morning|evening))",
    re.IGNORECASE,
)
_MIN_CHARS = 2


def clean(text: str) -> str:
    """The question text without mentions and surrounding space."""
    return _MENTION.sub(" ", text or "").strip()


def is_chatter(text: str) -> bool:
    """Thanks, greetings, "ok": never worth an answer, even in a DM with the bot."""
    body = _URL.sub(" ", clean(text)).strip()
    return len(body) < _MIN_CHARS or (
        bool(_NOT_QUESTIONS.match(body)) and len(body) < 40 and not any(m in body for m in _MARKS)
    )


def looks_like_question(text: str) -> bool:
    body = _URL.sub(" ", clean(text)).strip()
    if len(body) < _MIN_CHARS:
        return False
    if any(mark in body for mark in _MARKS):
        return True
    if _NOT_QUESTIONS.match(body) and len(body) < 40:
        return False
    return bool(_JA_PATTERNS.search(body) or _EN_START.match(body) or _EN_PATTERNS.search(body))
