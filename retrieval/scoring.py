"""How field scores become the one fused score that orders the hits.

Every input is already on a fixed scale: cosine similarity of L2-normalised vectors, and BM25
divided by its upper bound for the query (retrieval.lexical). The fusion is a fixed weighted sum
of them, so the fused score of one query can be compared with another's. Whether the top entry
answers is decided elsewhere, from evidence about the whole ranking (retrieval.confidence).

Both weights were chosen by 5-fold cross-validation repeated 10 times on the Amagasaki FAQ dev
set: 0.9 / 0.7 won 48 of the 50 training folds (0.85 / 0.7 the other 2), and per-query min-max
or z-score normalisation, free per-field weights, a learned (listwise) combination and dense
pseudo-relevance feedback did no better on the held-out folds (docs/benchmarks.md, "Retrieval").
What did help is a second pass over the head of this ranking (retrieval.rerank), which reads
per-query facts a fixed-scale sum cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scoring:
    dense_weight: float = 0.9  # share of cosine in the fused score; the rest is normalised BM25
    answer_weight: float = 0.7  # share of the answer field in each signal; the rest: question
    # Extra candidates scoring below this are noise to a reader (the web chat lists only those
    # above it): 30 off-topic questions top at <= 0.816 against the Amagasaki FAQ, median 0.731.
    suggest_threshold: float = 0.80
    candidates: int = 50  # per field and signal, before exact fused scoring

    def __post_init__(self) -> None:
        for name in ("dense_weight", "answer_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if not 0.0 <= self.suggest_threshold <= 1.0:
            raise ValueError("suggest_threshold must be within [0, 1]")
        if self.candidates < 1:
            raise ValueError("candidates must be at least 1")


@dataclass(frozen=True)
class FieldScores:
    """Per-candidate scores of each field and signal, all within [0, 1]."""

    lexical_question: Scores
    lexical_answer: Scores
    dense_question: Scores
    dense_answer: Scores


def lexical(fields: FieldScores, scoring: Scoring) -> Scores:
    a = scoring.answer_weight
    return (1 - a) * fields.lexical_question + a * fields.lexical_answer


def dense(fields: FieldScores, scoring: Scoring) -> Scores:
    a = scoring.answer_weight
    return (1 - a) * fields.dense_question + a * fields.dense_answer


def fuse(fields: FieldScores, scoring: Scoring) -> Scores:
    w = scoring.dense_weight
    fused = w * dense(fields, scoring) + (1 - w) * lexical(fields, scoring)
    return np.clip(fused, 0.0, 1.0).astype(np.float32)
