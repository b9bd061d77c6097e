"""Read, assess and select every live account of a book, in worker processes once it is large.

The rules are pure (facts in, candidates out), and the facts of a range of account ids are a few
range queries (cs.accounts.facts.IdRange). So past `parallel_after` live accounts the book is
cut into ranges and each worker process reads its ranges through a connection of its own,
assesses and selects, and sends back only the selections (account ids and candidates: most
accounts have none). The job's process meanwhile reconciles the results with the database, in
range order, i.e. in account id order as one process would go (the job's rule against
deadlocks: writers go in account id order). The results are the ones of one process: the same
functions run on the same facts. Each range is read in its own transaction, so a range sees
the book as it was when that range was read (an import committing meanwhile reaches the ranges
read after it, and the next run).

An in-memory SQLite database is not reachable from another process: it is always read here.

Measured (docs/benchmarks.md, "Daily health + alert selection"): at 100,000 accounts, assess +
select is most of the run once the facts come from the rollups.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory
from cs.accounts.facts import ALL_IDS, IdRange, id_ranges, iter_facts, live_count
from cs.alerts.models import AlertKind
from cs.alerts.selection import SelectionContext, select_alerts
from cs.alerts.service import AlertCandidate
from cs.rules.models import AccountFacts, CommunityActivity
from cs.rules.rules import Assessor

log = logging.getLogger(__name__)

# Off unless configured (BANSO_JOB_PARALLEL_AFTER): a small book never starts a pool, and on a
# machine whose cores are busy with other work the workers only add their own cost.
PARALLEL_AFTER: int | None = None
# Accounts per range a worker reads at once: enough ranges to keep every worker busy to the
# end of the book, few enough that a range's connection and queries cost little.
MAX_RANGE = 5000
RANGES_PER_WORKER = 4
Selected = list[AlertCandidate] | None  # None: the account failed (logged where it ran)
T = TypeVar("T")


def select_one(assess: Assessor, facts: AccountFacts, kinds: Sequence[AlertKind],
               context: SelectionContext) -> Selected:
    try:
        return select_alerts(assess(facts, context.now), kinds, context)
    except Exception:
        # One bad account (an unknown currency, a data error) must not stop the others.
        log.exception("alert selection failed for one account",
                      extra={"account_id": facts.account_id})
        return None


@dataclass(frozen=True)
class Chunk:
    """The selections of up to `chunk` consecutive live accounts, in account id order."""

    account_ids: list[str]
    selected: list[Selected]


@dataclass(frozen=True)
class _Task:
    """What a worker needs besides the range: fixed for a run, inherited when it forks."""

    url: str
    assess: Assessor
    kinds: tuple[AlertKind, ...]
    context: SelectionContext
    community: Mapping[str, CommunityActivity]
    chunk: int


class BookSelector:
    """`select_one` over every live account, in chunks of `chunk` accounts in account id order,
    with `workers` processes once the book has `parallel_after` live accounts (None, or
    workers <= 1: never)."""

    def __init__(self, assess: Assessor, kinds: Sequence[AlertKind], context: SelectionContext,
                 *, chunk: int, workers: int | None = None,
                 parallel_after: int | None = PARALLEL_AFTER) -> None:
        self.assess, self.kinds, self.context = assess, tuple(kinds), context
        self.chunk = chunk
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.parallel_after = parallel_after

    def __call__(self, reader: Session,
                 community: Mapping[str, CommunityActivity] | None = None) -> Iterator[Chunk]:
        """`reader`: a session of its own (the caller may commit writes meanwhile)."""
        engine = reader.connection().engine
        task = _Task(_url(engine), self.assess, self.kinds, self.context, community or {},
                     self.chunk)
        live = live_count(reader) if self._may_fork(engine) else 0
        with _frozen_heap():
            if self.parallel_after is None or live < max(self.parallel_after, 1):
                yield from _select_range(task, reader, ALL_IDS)
                return
            size = min(MAX_RANGE, max(self.chunk, math.ceil(live / (RANGES_PER_WORKER
                                                                     * self.workers))))
            yield from self._in_workers(task, id_ranges(reader, size))

    def _may_fork(self, engine: Engine) -> bool:
        in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "",
                                                                                ":memory:")
        return self.workers > 1 and self.parallel_after is not None and not in_memory

    def _in_workers(self, task: _Task, ranges: list[IdRange]) -> Iterator[Chunk]:
        # fork: a worker starts in milliseconds with every module already imported (spawn
        # re-imports them, ~0.5 s of CPU each) and inherits the task without pickling it; it
        # never touches an inherited connection (it opens its own from the URL).
        pool = ProcessPoolExecutor(
            min(self.workers, len(ranges)), mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker, initargs=(task,))
        pending: deque[Future[list[Chunk]]] = deque()
        try:
            for ids in ranges:
                pending.append(pool.submit(_select_in_worker, ids))
                # Two ranges queued per worker: they never wait for work, memory stays flat.
                while len(pending) > 2 * self.workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            pool.shutdown(cancel_futures=True)


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """The objects that exist before the run, out of the garbage collector's sight until it
    ends: a run makes millions of short-lived objects, and each full collection would walk the
    whole process (its imports, a loaded model) again. Measured at 100k accounts: 8 % less CPU
    in process, half of the job process's CPU with workers, whose inherited heap stays frozen
    too (and is not copied page by page when their collector would touch it). Unfrozen
    objects are collected as before; a run only defers their collection."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def select_chunk(assess: Assessor, facts: Sequence[AccountFacts], kinds: Sequence[AlertKind],
                 context: SelectionContext) -> Chunk:
    return Chunk([f.account_id for f in facts],
                 [select_one(assess, f, kinds, context) for f in facts])


def _select_range(task: _Task, session: Session, ids: IdRange) -> Iterator[Chunk]:
    facts = iter_facts(session, task.context.now, community=task.community, ids=ids)
    for chunk in chunked(facts, task.chunk):
        yield select_chunk(task.assess, chunk, task.kinds, task.context)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# A worker's task and its own engine, set once when the worker starts.
_worker: tuple[_Task, Engine] | None = None


def _start_worker(task: _Task) -> None:
    global _worker
    _worker = (task, make_engine(task.url))


def _select_in_worker(ids: IdRange) -> list[Chunk]:
    assert _worker is not None, "worker not started"
    task, engine = _worker
    try:
        with make_session_factory(engine)() as session:
            return list(_select_range(task, session, ids))
    finally:
        # A worker ends without running finalizers: give the connection back to the server
        # now rather than leave the server to find it gone.
        engine.dispose()
