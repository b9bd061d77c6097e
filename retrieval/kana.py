"""Hiragana spellings of katakana words folded to the katakana the knowledge base uses.

Members type loanwords in hiragana when the IME does not convert them (「ぱすわーど忘れた」,
「ろぐいんできない」). UniDic has no such words, so the tokenizer cuts them into nonsense
(「すわ」, 「櫓」) and e5 reads them no better. Folding a whole hiragana run breaks the Japanese
words in it (「わすれた」 -> 「ワスレタ」), so only the stretches that spell a katakana word the
index holds are folded: nothing else could match anyway. A stretch must also sit where a word
can start, or particles and the words after them fold into a loanword (「手続きはいつ」 -> ハイツ,
an apartment block in the Amagasaki FAQ).

Half-width katakana (「ﾊﾟｽﾜｰﾄﾞ」) is widened first: the tokenizer's NFKC does that for BM25, but
e5's does not (cosine 0.92 with 「パスワード」, against 1.0 for full-width Latin letters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Shorter katakana words collide with everyday hiragana (「ある」 -> 「アル」).
MIN_CHARS = 3

_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]+")
_HIRAGANA_RUN = re.compile(r"[\u3041-\u3096ー]+")
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30faー]+")
# A wave dash or hyphen between kana is a long vowel typed with the wrong key (「パスワ〜ド」).
_KANA = r"\u3041-\u3096\u30a1-\u30fa"
_LONG_VOWEL = re.compile(rf"(?<=[{_KANA}])[〜～~－-](?=[{_KANA}])")
_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}
# Particles: a word starts after one inside a hiragana run (「すたっふにしふと」), and a run that
# follows a noun often starts with one (「次回はいつ」).
_PARTICLES = frozenset("のにをがでともはへやか")


def katakana_runs(texts: Iterable[str]) -> set[str]:
    """The katakana words as written (UniDic cuts some: 「ログイン」 -> 「ログ」 「イン」)."""
    return {run for text in texts for run in _KATAKANA_WORD.findall(fold_long_vowels(text))}


def fold_width(text: str) -> str:
    return _HALF_WIDTH_KANA.sub(lambda run: unicodedata.normalize("NFKC", run.group()), text)


def fold_long_vowels(text: str) -> str:
    return _LONG_VOWEL.sub("ー", text)


def to_katakana(text: str) -> str:
    return text.translate(_TO_KATAKANA)


class KatakanaFolder:
    """Folds the hiragana stretches of a text that spell one of `words` (katakana) in katakana."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(
            w for w in words if len(w) >= MIN_CHARS and _KATAKANA_WORD.fullmatch(w))
        self._longest = max(map(len, self._words), default=0)

    def __call__(self, text: str) -> str:
        text = fold_long_vowels(fold_width(text))
        if not self._words:
            return text
        return _HIRAGANA_RUN.sub(lambda run: self._fold_run(run.group(), run.start() > 0), text)

    def _fold_run(self, run: str, after_word: bool) -> str:
        # Leftmost, then longest: 「ぱすわーどわすれた」 -> 「パスワードわすれた」.
        katakana = to_katakana(run)
        out, i = [], 0
        while i < len(run):
            end = self._match(katakana, i)
            if end and not _word_start(run, i, end, after_word):
                end = 0
            out.append(katakana[i:end] if end else run[i])
            i = end or i + 1
        return "".join(out)

    def _match(self, katakana: str, start: int) -> int:
        for end in range(min(len(katakana), start + self._longest), start + MIN_CHARS - 1, -1):
            if katakana[start:end] in self._words:
                return end
        return 0


def _word_start(run: str, start: int, end: int, after_word: bool) -> bool:
    """Whether run[start:end] can be a word of its own (ー marks a loanword wherever it is)."""
    if "ー" in run[start:end]:
        return True
    if start == 0:
        return not (after_word and run[0] in _PARTICLES)
    return run[start - 1] in _PARTICLES
