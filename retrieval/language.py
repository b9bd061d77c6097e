"""Which language a question is in, so the bot answers in the same one."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["ja", "en"]

# Hiragana, katakana (incl. half-width) and CJK ideographs.
_JA_CHAR = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN_CHAR = re.compile(r"[A-Za-z]")

# A Japanese sentence often carries English product names ("Slack の設定"), so a small share of
# kana/kanji is enough to call it Japanese; an English one almost never carries any.
_JA_SHARE = 0.35


def detect_lang(text: str) -> Language:
    """Return "ja" when kana/kanji make up a fair share of the letters, else "en"."""
    ja = len(_JA_CHAR.findall(text))
    latin = len(_LATIN_CHAR.findall(text))
    if ja == 0:
        return "en" if latin else "ja"
    # A kana/kanji character carries more meaning than a Latin letter: weigh letters at half.
    return "ja" if ja / (ja + latin / 2) >= _JA_SHARE else "en"
