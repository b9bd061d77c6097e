"""How field scores become one fused score, and how the top score becomes a decision.

Every input is already on a fixed scale: cosine similarity of L2-normalised vectors, and BM25
divided by its upper bound for the query (retrieval.lexical). The fusion is a fixed weighted sum
of them, so the fused score of one query can be compared with another's and the thresholds below
mean the same thing for every question. Values calibrated on the Amagasaki FAQ dev set:
docs/benchmarks.md, section "Retrieval".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrieval.models import Decision

Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scoring:
    dense_weight: float = 0.9  # share of cosine in the fused score; the rest is normalised BM25
    answer_weight: float = 0.7  # share of the answer field in each signal; the rest: question
    answer_threshold: float = 0.84  # answer needs a top score at least this ...
    answer_margin: float = 0.035  # ... and this lead over the second entry
    suggest_threshold: float = 0.80  # below it nothing matches well enough to suggest: abstain
    candidates: int = 50  # per field and signal, before exact fused scoring

    def __post_init__(self) -> None:
        for name in ("dense_weight", "answer_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.suggest_threshold > self.answer_threshold:
            raise ValueError("suggest_threshold must not exceed answer_threshold")
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


def decide(scores: list[float], scoring: Scoring) -> Decision:
    """Decision from the ranked fused scores (best first).

    Answer needs a clear winner, not only a high score: FAQ bases hold near-duplicate entries,
    and on the dev set the lead over the runner-up predicted a correct top entry far better than
    the top score alone (docs/benchmarks.md).
    """
    if not scores or scores[0] < scoring.suggest_threshold:
        return Decision.ABSTAIN
    lead = scores[0] - scores[1] if len(scores) > 1 else scores[0]
    if scores[0] >= scoring.answer_threshold and lead >= scoring.answer_margin:
        return Decision.ANSWER
    return Decision.SUGGEST
