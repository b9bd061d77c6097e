"""`banso ask`, `banso index` and `banso eval`: thin wrappers over the retrieval library."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from banso.cli.support import require_knowledge, settings_or_exit
from retrieval.models import SearchResult, Visibility


class OutputVisibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


def ask(
    question: str = typer.Argument(..., help="The question, in Japanese or English."),
    visibility: OutputVisibility = typer.Option(
        OutputVisibility.PUBLIC, "--visibility", help="public: community view; internal: staff."
    ),
    k: int = typer.Option(5, "-k", min=1, max=100, help="How many entries to list."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Search the knowledge base; print the decision and the ranked entries with scores."""
    from banso.knowledge import load_retriever
    from retrieval.service import QueryError

    settings = settings_or_exit()
    require_knowledge(settings)
    retriever = load_retriever(settings)
    try:
        result = retriever.search(question, Visibility(visibility.value), k=k)
    except QueryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result_to_json(result), ensure_ascii=False))
        return
    typer.echo(f"decision: {result.decision}  (lang {result.lang}, "
               f"confidence {result.confidence:.2f})")
    for rank, hit in enumerate(result.hits, start=1):
        typer.echo(
            f"{rank:>2}. {hit.score:.3f}  [{hit.entry.id}] {hit.entry.title}  "
            f"(lexical {hit.lexical:.3f}, dense {hit.dense:.3f}, {hit.entry.visibility})"
        )


def index() -> None:
    """Build or refresh the saved index from the knowledge folder; print counts and timing."""
    from banso.knowledge import embedder_of
    from retrieval.store import KnowledgeSource

    settings = settings_or_exit()
    require_knowledge(settings)
    started = time.perf_counter()
    source = KnowledgeSource(settings.knowledge_dir, settings.index_dir, embedder_of(settings))
    built = source.load_or_build()
    report = source.loader(settings.knowledge_dir)
    for error in report.errors:
        typer.echo(f"error: {error}", err=True)
    public = sum(1 for e in built.entries if e.visibility == Visibility.PUBLIC)
    stats = source.last_stats
    typer.echo(
        f"{len(built)} entries ({public} public, {len(built) - public} internal), "
        f"{len(report.errors)} file errors, "
        f"{stats.embedded if stats else 0} texts embedded, "
        f"{time.perf_counter() - started:.1f} s -> {settings.index_dir}"
    )


def evaluate(
    corpus: Path = typer.Option(..., "--corpus", help="BEIR corpus.jsonl (_id, title, text)."),
    queries: Path = typer.Option(..., "--queries", help="BEIR queries.jsonl (_id, text)."),
    qrels: Path = typer.Option(..., "--qrels", help="TSV: query-id, corpus-id, score (2/1)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Run the search pipeline over a BEIR set and print ranking and confidence metrics."""
    from banso.knowledge import embedder_of, evaluation_cache
    from retrieval.evaluation import EvalDataError, evaluate, load_beir
    from retrieval.service import Retriever

    settings = settings_or_exit()
    try:
        dataset = load_beir(corpus, queries, qrels)
    except EvalDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    embedder = embedder_of(settings)
    cache = evaluation_cache(settings, embedder)
    retriever = Retriever.from_entries(dataset.corpus, embedder, cache=cache)
    cache.save()
    report = evaluate(retriever, dataset)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
        return
    for key, value in report.to_json().items():
        if key == "curve":
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        typer.echo(f"{key:>17}: {shown}")
    typer.echo("answer if P(answer) >= t:  t  coverage  precision (grade 2)")
    for point in report.curve:
        typer.echo(f"{'':>26}{point.threshold:.2f}  {point.coverage:8.3f}  {point.precision:9.3f}")


def result_to_json(result: SearchResult) -> dict[str, Any]:
    return {
        "query": result.query,
        "decision": str(result.decision),
        "lang": result.lang,
        "hits": [
            {
                "id": h.entry.id,
                "title": h.entry.title,
                "visibility": str(h.entry.visibility),
                "kind": str(h.entry.kind),
                "path": h.entry.path,
                "score": round(h.score, 4),
                "lexical": round(h.lexical, 4),
                "dense": round(h.dense, 4),
            }
            for h in result.hits
        ],
        "confidence": round(result.confidence, 4),
    }


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("index")(index)
    app.command("eval")(evaluate)
