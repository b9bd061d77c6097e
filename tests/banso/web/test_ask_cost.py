"""POST /api/ask under load: the query cost is capped, the queue is bounded and fair, the rate
limit is spent by cost, repeated questions come from the cache."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from banso.knowledge import load_retriever
from banso.runtime import Runtime
from banso.web.app import create_app
from bot.models import Question
from core.metrics import REGISTRY
from core.settings import Settings
from retrieval.embedders import Embedder, Vectors
from retrieval.service import Retriever
from tests.banso.web.conftest import FakeClock
from tests.embedders import PassThroughEmbedder
from tests.services import services_for

BLOCKED = 30.0  # seconds a gated call waits at most, so a failing test cannot hang


class GatedEmbedder(PassThroughEmbedder):
    """The real embedder, held at a gate the test opens: a slow machine, on demand."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.gate = threading.Event()
        self.batches: queue.Queue[list[str]] = queue.Queue()

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.batches.put(list(texts))
        self.gate.wait(BLOCKED)
        return self._inner.embed_queries(texts)

    def next_batch(self) -> list[str]:
        return self.batches.get(timeout=BLOCKED)


AppFactory = Callable[..., FastAPI]
# Starlette's TestClient answers with httpx2's Response when that is installed, else httpx's.
Reply = Any


@pytest.fixture
def app_with(
    web_settings: Settings, engine: Engine, retriever: Retriever, retriever_data: Path,
    clock: FakeClock,
) -> AppFactory:
    """An app whose retriever is built from `overrides` (loading the saved test index)."""

    def make(embedder: Embedder | None = None, **overrides: Any) -> FastAPI:
        settings = web_settings.model_copy(update=overrides)
        own = load_retriever(settings.model_copy(update={"data_dir": retriever_data}),
                             embedder=embedder or retriever.embedder)
        services = services_for(settings, engine, retriever=own)
        return create_app(Runtime(services=services), clock=clock)

    return make


@pytest.fixture
def gated(retriever: Retriever) -> Iterator[GatedEmbedder]:
    embedder = GatedEmbedder(retriever.embedder)
    yield embedder
    embedder.gate.set()  # never leave the worker waiting after a test


def _ask(client: TestClient, question: str, visitor: str = "") -> Reply:
    headers = {"X-Forwarded-For": visitor} if visitor else {}
    return client.post("/api/ask", json={"question": question}, headers=headers)


def _long(start: str, tail: str) -> str:
    # A question whose first sentence is far past 64 tokens, then a tail that differs.
    return start + " 勤怠の締め日を過ぎてからシフトを修正したいのですが、" * 12 + tail


def test_full_queue_answers_503_with_retry_after_and_keeps_serving(
    app_with: AppFactory, gated: GatedEmbedder,
) -> None:
    with TestClient(app_with(gated, query_queue_size=1)) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(_ask, client, "請求書をダウンロードしたい")
        gated.next_batch()  # the first question holds the embedder
        refused = _ask(client, "パスワードを忘れました")
        gated.gate.set()
        answered = first.result(BLOCKED)
        after = _ask(client, "パスワードを忘れました")

    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert "retry in" in refused.json()["detail"]
    assert answered.status_code == 200
    assert after.status_code == 200
    assert after.json()["entries"][0]["id"] == "password-reset"


def test_a_question_never_waits_longer_than_the_configured_wait(
    app_with: AppFactory, gated: GatedEmbedder,
) -> None:
    with TestClient(app_with(gated, query_wait_seconds=0.2)) as client:
        resp = _ask(client, "請求書をダウンロードしたい")  # the gate stays shut

    assert resp.status_code == 503
    assert int(resp.headers["retry-after"]) >= 1


def test_one_visitor_cannot_take_the_whole_queue(
    app_with: AppFactory, gated: GatedEmbedder,
) -> None:
    app = app_with(gated, query_queue_per_client=1, trusted_proxies=["testclient"])
    with TestClient(app) as client, ThreadPoolExecutor(2) as pool:
        first = pool.submit(_ask, client, "請求書をダウンロードしたい", "198.51.100.1")
        gated.next_batch()
        same_visitor = _ask(client, "パスワードを忘れました", "198.51.100.1")
        other: Future[Reply] = pool.submit(
            _ask, client, "パスワードを忘れました", "198.51.100.2")
        gated.gate.set()

        assert same_visitor.status_code == 503
        assert first.result(BLOCKED).status_code == 200
        assert other.result(BLOCKED).status_code == 200


def test_a_short_question_goes_before_another_visitors_queued_long_ones(
    app_with: AppFactory, gated: GatedEmbedder,
) -> None:
    app = app_with(gated, trusted_proxies=["testclient"])
    longs = [_long("シフトの修正方法を教えてください。", f"その{i}") for i in range(3)]
    short = "パスワードを忘れました"
    with TestClient(app) as client, ThreadPoolExecutor(4) as pool:
        running = pool.submit(_ask, client, longs[0], "198.51.100.1")
        assert len(gated.next_batch()) == 1
        queued = [pool.submit(_ask, client, q, "198.51.100.1") for q in longs[1:]]
        _until_queued(app, 2)
        visitor = pool.submit(_ask, client, short, "198.51.100.2")
        _until_queued(app, 3)
        gated.gate.set()
        batches = [gated.next_batch() for _ in range(2)]
        codes = [f.result(BLOCKED).status_code for f in (running, *queued, visitor)]

    # The short question is in the very next batch, ahead of the long ones' second.
    assert short in batches[0]
    assert sum(1 for text in batches[0] if text != short) <= 1
    assert codes == [200] * 4


def _until_queued(app: FastAPI, jobs: int) -> None:
    pool = app.state.services.retriever.queries
    for _ in range(3000):
        if pool.waiting >= jobs:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"fewer than {jobs} questions reached the queue")


def test_only_the_start_of_a_long_question_is_searched(
    app_with: AppFactory, engine: Engine,
) -> None:
    start = "パスワードを忘れました。"
    one, two = _long(start, "請求書をダウンロードしたい"), _long(start, "How do I export CSV?")
    with TestClient(app_with(query_max_tokens=64)) as client:
        capped = [_ask(client, q).json() for q in (one, two)]
    with TestClient(app_with(query_max_tokens=512)) as client:
        whole = [_ask(client, q).json() for q in (one, two)]

    ranking = [[(e["id"], e["score"]) for e in body["entries"]] for body in capped]
    assert ranking[0] == ranking[1]
    assert capped[0]["entries"][0]["id"] == "password-reset"
    # Without the cap the differing tails do change the ranking: the cap is what made them equal.
    assert whole[0]["entries"] != whole[1]["entries"]
    with Session(engine) as session:  # the curator still sees the whole question
        stored = session.scalars(select(Question.text).order_by(Question.id)).first()
    assert stored == one


def test_long_questions_spend_more_of_the_rate_limit(app_with: AppFactory) -> None:
    long = _long("パスワードを忘れました。", "")
    with TestClient(app_with(ask_rate_limit_per_minute=4)) as client:
        longs = [_ask(client, long).status_code for _ in range(3)]
    with TestClient(app_with(ask_rate_limit_per_minute=4)) as client:
        shorts = [_ask(client, "請求書").status_code for _ in range(5)]

    assert longs == [200, 200, 429]  # a capped question costs two typical ones
    assert shorts == [200, 200, 200, 200, 429]


def _cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("banso_query_cache_total", {"result": result}) or 0.0


def test_a_repeated_question_is_answered_from_the_cache(
    app_with: AppFactory, gated: GatedEmbedder,
) -> None:
    gated.gate.set()
    hits, misses = _cache_count("hit"), _cache_count("miss")
    with TestClient(app_with(gated)) as client:
        answers = [_ask(client, "請求書をダウンロードしたい  ").json() for _ in range(3)]
        metrics = client.get("/metrics").text

    assert gated.batches.qsize() == 1  # embedded once
    assert answers[0]["entries"] == answers[1]["entries"] == answers[2]["entries"]
    assert (_cache_count("hit") - hits, _cache_count("miss") - misses) == (2, 1)
    assert 'banso_query_cache_total{result="hit"}' in metrics
