"""A learned second pass over the head of the fused ranking.

The fused score (retrieval.scoring) is one fixed-scale number per entry; it cannot say that an
entry whose answer agrees with the other top answers, or whose title is the closest of all the
candidates', is likelier to be right than its fused score alone says. The re-ranker reads those
per-query facts, all computed from scores and vectors the search already holds (no extra
embedding), and re-orders the first `depth` entries by a logistic model fitted on the Amagasaki
dev half by bench/retrieval_rerank.py, which chose every setting here by cross-validation
(docs/benchmarks.md, "Ranking, cross-validated"). The model is plain JSON in `rerank.json`
beside this file; a missing or unreadable file leaves the search on the fused ranking alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.dense import IntArray
from retrieval.embedders import Vectors
from retrieval.logistic import LogisticModel, Matrix, ModelFormatError, read_json, write_json
from retrieval.scoring import FieldScores, Scores

DEFAULT_PATH = Path(__file__).with_name("rerank.json")
# A candidate's agreement is its answer cosine with the fused top three (an earlier probe of
# that score alone: Recall@10 0.793); its crowding, with the top ten. Not tuned: the feature sets
# that carry both were cross-validated, not these depths.
AGREEMENT_DEPTH = 3
CROWD_DEPTH = 10

logger = logging.getLogger(__name__)


class RerankFormatError(ModelFormatError):
    """rerank.json is missing, unreadable or names a feature this code does not compute."""


@dataclass(frozen=True)
class Candidates:
    """The head of the fused ranking, in fused order, with what each entry was scored on."""

    fields: FieldScores
    fused: Scores
    lexical: Scores
    dense: Scores
    answers: Vectors  # the answer vector of each candidate (L2-normalised)

    def __len__(self) -> int:
        return len(self.fused)


def _gap(x: Matrix) -> Matrix:
    return x - x.max()


def _z(x: Matrix) -> Matrix:
    return (x - x.mean()) / max(float(x.std()), 1e-6)


def _rank(x: Matrix) -> Matrix:
    """log(1 + position) of each candidate when sorted by `x`, best first."""
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[np.argsort(-x, kind="stable")] = np.arange(len(x))
    return np.log1p(ranks)


def _similarity_to_head(answers: Vectors, depth: int) -> Matrix:
    """Mean answer cosine of each candidate with the first `depth` others (itself left out)."""
    head = answers[:depth]
    sims = answers @ head.T  # n x depth
    own = np.zeros_like(sims)
    own[np.arange(min(depth, len(answers))), np.arange(min(depth, len(answers)))] = 1.0
    others = np.maximum(len(head) - own.sum(1), 1)
    return ((sims * (1 - own)).sum(1) / others).astype(np.float64)


SIGNALS = ("fused", "lexical", "dense", "lexical_question", "lexical_answer", "dense_question",
           "dense_answer")
FEATURE_NAMES = (
    *SIGNALS,
    *(f"{s}_{how}" for s in SIGNALS for how in ("gap", "z", "rank")),
    "fusion_position", "head_agreement", "crowding",
)


def _features(c: Candidates) -> dict[str, Matrix]:
    f = c.fields
    signals = {
        "fused": c.fused, "lexical": c.lexical, "dense": c.dense,
        "lexical_question": f.lexical_question, "lexical_answer": f.lexical_answer,
        "dense_question": f.dense_question, "dense_answer": f.dense_answer,
    }
    out: dict[str, Matrix] = {}
    for name, values in signals.items():
        v = values.astype(np.float64)
        out[name] = v
        out[f"{name}_gap"] = _gap(v)  # how far below this query's best, on the fixed scale
        out[f"{name}_z"] = _z(v)  # the same on this query's own spread
        out[f"{name}_rank"] = _rank(v)
    out["fusion_position"] = np.log1p(np.arange(len(c), dtype=np.float64))
    out["head_agreement"] = _similarity_to_head(c.answers, AGREEMENT_DEPTH)
    out["crowding"] = _similarity_to_head(c.answers, CROWD_DEPTH)
    return out


def feature_matrix(c: Candidates, names: tuple[str, ...]) -> Matrix:
    """One row per candidate, one column per feature in `names`."""
    found = _features(c)
    return np.column_stack([found[n] for n in names]).astype(np.float64)


@dataclass(frozen=True)
class Reranker:
    """A logistic scorer over candidate features, and how far it may move the fused ranking."""

    model: LogisticModel
    depth: int  # how many leading entries of the fused ranking it re-orders
    # The fused top stays first unless another candidate out-scores it by this much (in the
    # model's log-odds); None keeps the fused top first always.
    move_top_margin: float | None
    notes: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.model.features) - set(FEATURE_NAMES)
        if unknown:
            raise RerankFormatError(f"re-ranker: unknown features {sorted(unknown)}")
        if self.depth < 2:
            raise RerankFormatError("re-ranker: depth must be at least 2")

    def reorder(self, c: Candidates) -> tuple[IntArray, Matrix]:
        """New order of the candidates (positions in `c`) and each candidate's log-odds."""
        logits = self.model.logits(feature_matrix(c, self.model.features))
        # Ties keep the fused order, so equal evidence never shuffles results between runs.
        order = np.lexsort((np.arange(len(c)), -logits)).astype(np.int64)
        best = int(order[0])
        if best != 0 and not self._may_move_top(float(logits[best] - logits[0])):
            order = np.concatenate(([0], order[order != 0]))
        return order, logits

    def _may_move_top(self, lead: float) -> bool:
        return self.move_top_margin is not None and lead > self.move_top_margin

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reranker:
        try:
            margin = data["move_top_margin"]
            return cls(
                model=LogisticModel.from_json(data["model"]),
                depth=int(data["depth"]),
                move_top_margin=None if margin is None else float(margin),
                notes=data.get("notes"),
            )
        except ModelFormatError as exc:
            raise RerankFormatError(str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise RerankFormatError(f"re-ranker: missing or bad {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model.to_json(), "depth": self.depth,
                "move_top_margin": self.move_top_margin, "notes": self.notes or {}}

    def save(self, path: Path) -> None:
        write_json(path, self.to_json())


def load(path: Path) -> Reranker:
    data = read_json(path, RerankFormatError)
    return Reranker.from_json(data)


def load_or_fuse(path: Path) -> Reranker | None:
    """The re-ranker in `path`, or None (rank by fusion alone) with one log line if unusable."""
    try:
        return load(path)
    except RerankFormatError as exc:
        logger.warning("re-ranker not used, ranking by fusion alone: %s", exc)
        return None


@cache
def default_reranker() -> Reranker | None:
    """The shipped re-ranker, read once per process (None if its file is unusable)."""
    return load_or_fuse(DEFAULT_PATH)
