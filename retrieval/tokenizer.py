"""Lexical tokens for BM25: fugashi (UniDic) lemmas for Japanese, lower-cased words for English.

Measured on the Amagasaki FAQ dev set (docs/benchmarks.md): lemmas with particles, auxiliaries
and symbols dropped beat character bigrams and SudachiPy mode A for BM25 recall.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import fugashi


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DROP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})

# Lemmas that appear in almost every question ("...したいのですが、どうすればいいですか") and carry
# no topic; BM25's idf alone leaves them enough weight to reorder close candidates.
JA_STOP_LEMMAS = _word_set(
    """
    為る 有る 居る 成る 出来る 言う 思う 下さる 呉れる 貰う 頂く 致す 仰る 見る 行く 来る
    良い 好い 宜しい 欲しい 無い 知る 教える 分かる 解る 事 物 者 様 為 所 方 時 際 場合
    以下 以上 此れ 其れ 彼れ 何 何処 どう こう そう ああ どの どんな どれ いつ 誰 何故 何時
    其の 此の 彼の 又 及び 並びに 若しくは 或いは とき ところ もの こと よう ため 訳 積もり
    等 など 位 くらい 程 方法 件 的 今 ご 御 お 遣る さん
    """
)

EN_STOP_WORDS = _word_set(
    """
    a an the and or but if of to in on at by for with from as is are was were be been being do does
    did have has had i me my we our you your he she it its they them their this that these those
    what which who whom how when where why can could should would will shall may might must not no
    there here about into than then so too very just also any some please want need know tell get
    """
)

_WORD = re.compile(r"[a-z0-9][a-z0-9_.+#-]*[a-z0-9+#]|[a-z0-9]")


@lru_cache(maxsize=1)
def _tagger() -> fugashi.Tagger:
    return fugashi.Tagger()


def normalize(text: str) -> str:
    """NFKC folds full-width digits and letters ("ＪＲ１０分" -> "JR10分") before lower-casing."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str) -> list[str]:
    """Content-word lemmas of `text`, in order, repeats kept (BM25 counts them)."""
    tokens: list[str] = []
    for word in _tagger()(normalize(text)):
        feature = word.feature
        if feature.pos1 in _DROP_POS:
            continue
        surface = word.surface
        if surface.isascii():
            tokens.extend(_english_words(surface))
            continue
        # UniDic gives proper nouns their katakana reading as lemma (立花 -> タチバナ), which
        # merges homophones; the written form is what users type.
        proper = feature.pos2 == "固有名詞"
        lemma = surface if proper else _lemma(feature.lemma, surface)
        if lemma and lemma not in JA_STOP_LEMMAS:
            tokens.append(lemma)
    return tokens


def _lemma(lemma: str | None, surface: str) -> str:
    if not lemma:
        return surface
    # UniDic spells loanwords "リセット-reset"; the katakana part is what the text contains.
    return lemma.split("-", 1)[0] or surface


def _english_words(chunk: str) -> list[str]:
    return [w for w in _WORD.findall(chunk) if w not in EN_STOP_WORDS]
