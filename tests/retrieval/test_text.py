"""Tokens for BM25, language detection, and the normalised BM25 score against bm25s itself."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from retrieval.kana import KatakanaFolder
from retrieval.language import detect_lang
from retrieval.lexical import LexicalField
from retrieval.tokenizer import tokenize


def test_japanese_tokens_are_lemmas_without_particles_or_symbols() -> None:
    assert tokenize("戸籍謄本を発行してほしいです。") == ["戸籍", "謄本", "発行"]


def test_inflected_verbs_share_one_lemma() -> None:
    assert tokenize("書類を送った") == tokenize("書類を送ります") == ["書類", "送る"]


def test_full_width_and_case_are_folded() -> None:
    assert tokenize("ＣＳＶ出力") == tokenize("csv出力") == ["csv", "出力"]


def test_loanword_lemma_keeps_the_katakana() -> None:
    assert tokenize("パスワードをリセット") == ["パスワード", "リセット"]


def test_english_words_are_lowercased_without_stop_words() -> None:
    assert tokenize("How do I reset my Password?") == ["reset", "password"]


def test_mixed_language_keeps_both() -> None:
    assert tokenize("Slackの通知を止めたい") == ["slack", "通知", "止める"]


def test_place_names_keep_their_written_form() -> None:
    assert "立花" in tokenize("立花駅から徒歩10分")


FOLD = KatakanaFolder(
    ["パスワード", "ログイン", "シフト", "テンプレート", "スタッフ", "ハイツ", "アル"])


@pytest.mark.parametrize(
    ("asked", "searched"),
    [
        ("ぱすわーどわすれちゃった", "パスワードわすれちゃった"),  # the verb stays hiragana
        ("ろぐいんできない", "ログインできない"),
        ("しふとのてんぷれーとを作る", "シフトのテンプレートを作る"),
        ("パスワ〜ドを変えたい", "パスワードを変えたい"),  # a wave dash typed for ー
        ("ﾊﾟｽﾜｰﾄﾞを変えたい", "パスワードを変えたい"),  # e5 reads half-width kana apart
        ("すたっふにしふとを送る", "スタッフにシフトを送る"),
        ("あるけどない", "あるけどない"),  # two-kana words are everyday Japanese too
        ("次回はいつ？", "次回はいつ？"),  # a particle and a word, not ハイツ
        ("手続きはいつ？", "手続きはいつ？"),
        ("10〜20人のシフト", "10〜20人のシフト"),  # a range, not a long vowel
    ],
)
def test_hiragana_spelling_of_an_indexed_katakana_word_is_folded(asked: str,
                                                                 searched: str) -> None:
    assert FOLD(asked) == searched


def test_folded_question_has_the_tokens_of_the_katakana_one() -> None:
    assert tokenize(FOLD("ぱすわーど忘れた")) == tokenize("パスワード忘れた") == [
        "パスワード", "忘れる"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("パスワードを忘れました", "ja"),
        ("Slack の通知設定を変えたい", "ja"),
        ("APIキーはどこ？", "ja"),
        ("How do I reset my password?", "en"),
        ("Is there a 日本語 option?", "en"),
        ("12345", "ja"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


DOCS = [
    "戸籍謄本の発行手数料はいくらですか",
    "住民票の写しの発行",
    "粗大ごみの出し方と手数料",
    "How do I reset my password",
    "password policy for admins and staff",
]


@pytest.mark.parametrize("query", ["発行の手数料", "粗大ごみ 手数料", "reset password", "住民票"])
def test_lexical_ranking_agrees_with_bm25s(query: str) -> None:
    tokens = [tokenize(d) for d in DOCS]
    ours = LexicalField.build(tokens).scores(tokenize(query))
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index(tokens, show_progress=False)
    raw = reference.get_scores(tokenize(query))
    # Our score is bm25s's divided by the ideal document's score (Lucene idf, tf = 1, average
    # length: idf / (1 + k1) per query term), clipped at 1.
    n = len(DOCS)
    terms = set(tokenize(query))
    idf = [np.log(1 + (n - sum(t in d for d in tokens) + 0.5) / (sum(t in d for d in tokens) + 0.5))
           for t in terms]
    expected = np.minimum(raw / (sum(idf) / 2.2), 1.0)
    assert np.allclose(ours, expected, atol=1e-5)
    unclipped = expected < 1.0
    order = np.argsort(-ours[unclipped], kind="stable")
    assert np.array_equal(order, np.argsort(-raw[unclipped], kind="stable"))


def test_lexical_score_is_bounded_and_comparable_across_queries() -> None:
    field = LexicalField.build([tokenize(d) for d in DOCS])
    whole = field.scores(tokenize("粗大ごみの出し方と手数料"))
    half = field.scores(tokenize("粗大ごみの出し方とダンスの衣装"))
    assert 0.9 <= whole[2] <= 1.0  # the document covers the whole query
    assert 0.0 < half[2] < 0.6 * whole[2]  # half the query is words the corpus never uses
    assert field.scores(tokenize("ぴよぴよ")).max() == 0.0
    assert field.scores([]).max() == 0.0
