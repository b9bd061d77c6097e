"""Evaluate the search pipeline on a BEIR-format set: the same `Retriever.search` users get.

Relevance: qrels grade 2 = the entry contains the answer, 1 = related. Ranking metrics count any
grade >= 1 as relevant (nDCG uses the grades as gains); answer precision counts an "answer"
decision as correct only when its top entry has grade 2, because that is the text the bot shows.
The precision/coverage curve shows what each threshold on the confidence (P(answer)) would give.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.models import Decision, Entry, Visibility
from retrieval.service import Retriever

K = 10
# Thresholds on P(answer) the precision/coverage curve is reported at.
CURVE_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class EvalDataError(ValueError):
    """An evaluation file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class BeirSet:
    corpus: list[Entry]
    queries: list[tuple[str, str]]  # (query id, text), only queries that have judgements
    qrels: dict[str, dict[str, int]]  # query id -> corpus id -> grade


@dataclass(frozen=True)
class Outcome:
    """One query's ranked ids, decision, top score, time taken and confidence."""

    query_id: str
    ranked: list[str]
    decision: Decision
    top_score: float
    ms: float
    confidence: float = 0.0  # P(answer) of the top entry


@dataclass(frozen=True)
class CurvePoint:
    """What answering every query with P(answer) >= threshold would cover, and how precisely."""

    threshold: float
    coverage: float
    precision: float


@dataclass(frozen=True)
class EvalReport:
    recall_at_10: float
    ndcg_at_10: float
    mrr_at_10: float
    hit_at_1: float
    hit_at_3: float
    answer_precision: float
    answer_coverage: float
    p50_ms: float
    p95_ms: float
    queries: int
    curve: tuple[CurvePoint, ...] = ()

    def to_json(self) -> dict[str, Any]:
        names = {"recall_at_10": "recall@10", "ndcg_at_10": "ndcg@10", "mrr_at_10": "mrr@10",
                 "hit_at_1": "hit@1", "hit_at_3": "hit@3"}
        return {names.get(key, key): value for key, value in asdict(self).items()}


# --- loading ---------------------------------------------------------------------------------


def load_beir(corpus: Path, queries: Path, qrels: Path) -> BeirSet:
    entries = [
        Entry(id=_field(r, "_id", corpus, n), title=_field(r, "title", corpus, n),
              body=_field(r, "text", corpus, n), visibility=Visibility.PUBLIC)
        for n, r in _jsonl(corpus)
    ]
    texts = {
        _field(r, "_id", queries, n): _field(r, "text", queries, n) for n, r in _jsonl(queries)
    }
    judged = _qrels(qrels)
    unknown = sorted(set(judged) - set(texts))
    if unknown:
        raise EvalDataError(f"{qrels}: query ids not in {queries.name}: {unknown[:5]}")
    ordered = [(qid, text) for qid, text in texts.items() if qid in judged]
    return BeirSet(entries, ordered, judged)


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise EvalDataError(f"{path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise EvalDataError(f"{path}:{number}: expected a JSON object")
        yield number, record


def _field(record: dict[str, Any], key: str, path: Path, line: int) -> str:
    value = record.get(key)
    if value is None or isinstance(value, (dict, list)):
        raise EvalDataError(f"{path}:{line}: missing or invalid '{key}'")
    return str(value)


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t"))
    except OSError as exc:
        raise EvalDataError(f"{path}: {exc.strerror}") from None
    if not rows or [c.strip() for c in rows[0]] != ["query-id", "corpus-id", "score"]:
        raise EvalDataError(f"{path}:1: header must be 'query-id<TAB>corpus-id<TAB>score'")
    judged: dict[str, dict[str, int]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            qid, cid, grade = row[0].strip(), row[1].strip(), int(row[2])
        except (IndexError, ValueError):
            message = f"{path}:{number}: expected query-id, corpus-id, integer score"
            raise EvalDataError(message) from None
        if grade > 0:
            judged.setdefault(qid, {})[cid] = grade
    return judged


# --- running and scoring ---------------------------------------------------------------------


def run(
    retriever: Retriever,
    dataset: BeirSet,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> list[Outcome]:
    outcomes = []
    for qid, text in dataset.queries:
        started = clock()
        result = retriever.search(text, Visibility.PUBLIC, k=K)
        ms = (clock() - started) * 1000
        top = result.hits[0].score if result.hits else 0.0
        ranked = [h.entry.id for h in result.hits]
        outcomes.append(Outcome(qid, ranked, result.decision, top, ms, result.confidence))
    return outcomes


def summarize(outcomes: list[Outcome], qrels: dict[str, dict[str, int]]) -> EvalReport:
    if not outcomes:
        raise EvalDataError("no judged queries to evaluate")
    per_query = [query_metrics(o.ranked[:K], qrels.get(o.query_id, {})) for o in outcomes]
    answered = [o for o in outcomes if o.decision == Decision.ANSWER]
    correct = sum(1 for o in answered if _answers(o, qrels))
    ms = np.array([o.ms for o in outcomes])
    mean = {key: float(np.mean([m[key] for m in per_query])) for key in per_query[0]}
    return EvalReport(
        recall_at_10=mean["recall"],
        ndcg_at_10=mean["ndcg"],
        mrr_at_10=mean["mrr"],
        hit_at_1=mean["hit1"],
        hit_at_3=mean["hit3"],
        answer_precision=correct / len(answered) if answered else 0.0,
        answer_coverage=len(answered) / len(outcomes),
        p50_ms=float(np.percentile(ms, 50)),
        p95_ms=float(np.percentile(ms, 95)),
        queries=len(outcomes),
        curve=precision_coverage(outcomes, qrels),
    )


def precision_coverage(
    outcomes: list[Outcome], qrels: dict[str, dict[str, int]]
) -> tuple[CurvePoint, ...]:
    points = []
    for threshold in CURVE_THRESHOLDS:
        chosen = [o for o in outcomes if o.ranked and o.confidence >= threshold]
        right = sum(1 for o in chosen if _answers(o, qrels))
        points.append(CurvePoint(threshold, len(chosen) / len(outcomes),
                                 right / len(chosen) if chosen else 0.0))
    return tuple(points)


def _answers(outcome: Outcome, qrels: dict[str, dict[str, int]]) -> bool:
    return bool(outcome.ranked) and qrels.get(outcome.query_id, {}).get(outcome.ranked[0], 0) >= 2


def query_metrics(ranked: list[str], grades: dict[str, int]) -> dict[str, float]:
    """Recall, nDCG, MRR (all @10), Hit@1 and Hit@3 of one ranking."""
    relevant = [grades.get(doc, 0) for doc in ranked]
    first = next((rank for rank, g in enumerate(relevant, start=1) if g > 0), None)
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(relevant, start=1))
    ideal = sorted(grades.values(), reverse=True)[:K]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    found = sum(1 for g in relevant if g > 0)
    return {
        "recall": found / len(grades) if grades else 0.0,
        "ndcg": dcg / idcg if idcg else 0.0,
        "mrr": 1.0 / first if first else 0.0,
        "hit1": 1.0 if first == 1 else 0.0,
        "hit3": 1.0 if first is not None and first <= 3 else 0.0,
    }


def evaluate(
    retriever: Retriever, dataset: BeirSet, *, clock: Callable[[], float] = time.perf_counter
) -> EvalReport:
    return summarize(run(retriever, dataset, clock=clock), dataset.qrels)
