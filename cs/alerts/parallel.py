"""Assess and select over chunks of accounts, in worker processes once a run is large.

The rules are pure (facts in, candidates out), so chunks of facts can go to worker processes
while the job's own process keeps reading facts from the database and writing alerts. Only
when configured (BANSO_JOB_PARALLEL_AFTER), and the first `parallel_after` accounts are always
assessed in process: a small book never starts a pool. Results come back in the chunks' order and
are the same as the in-process ones: the same functions run on the same facts.

Measured (docs/benchmarks.md, "Daily health + alert selection"): at 100,000 accounts, assess +
select is most of the run once the facts come from the rollups; on the shared 2-core machine
(load 5-7) the workers did not pay, hence off by default.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from core.i18n import Lang
from core.rules_config import RulesConfig
from cs.alerts.models import AlertKind
from cs.alerts.selection import SelectionContext, select_alerts
from cs.alerts.service import AlertCandidate
from cs.rules.models import AccountFacts
from cs.rules.rules import Assessor

log = logging.getLogger(__name__)

# Off unless configured: on the shared 2-core machine the run with workers cost 1.7-1.9x the
# CPU of the one in process and took 1.8-2.4x as long (docs/benchmarks.md); with idle cores
# they may pay.
PARALLEL_AFTER: int | None = None
Selected = list[AlertCandidate] | None  # None: the account failed (logged where it ran)
T = TypeVar("T")


def select_one(assess: Assessor, facts: AccountFacts, kinds: Sequence[AlertKind],
               context: SelectionContext) -> Selected:
    try:
        return select_alerts(assess(facts, context.now), kinds, context)
    except Exception:
        # One bad account (an unknown currency, a data error) must not stop the others.
        log.exception("alert job failed for one account",
                      extra={"account_id": facts.account_id})
        return None


class ChunkSelector:
    """`select_one` over every account of a stream of chunks, in order, with `workers`
    processes once `parallel_after` accounts have been seen (None, or workers <= 1: never)."""

    def __init__(self, assess: Assessor, kinds: Sequence[AlertKind], context: SelectionContext,
                 *, workers: int | None = None,
                 parallel_after: int | None = PARALLEL_AFTER) -> None:
        self.assess, self.kinds, self.context = assess, tuple(kinds), context
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.parallel_after = parallel_after

    def __call__(self, chunks: Iterable[list[AccountFacts]]
                 ) -> Iterator[tuple[list[AccountFacts], list[Selected]]]:
        seen = 0
        pool: ProcessPoolExecutor | None = None
        pending: deque[tuple[list[AccountFacts], Future[list[Selected]]]] = deque()
        try:
            for chunk in chunks:
                if pool is None and (self.workers <= 1 or self.parallel_after is None
                                     or seen < self.parallel_after):
                    seen += len(chunk)
                    yield chunk, [select_one(self.assess, facts, self.kinds, self.context)
                                  for facts in chunk]
                    continue
                pool = pool or self._pool()
                pending.append((chunk, pool.submit(_select_chunk, chunk)))
                # Two chunks queued per worker: they never wait for work, memory stays flat.
                while len(pending) > 2 * self.workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _pool(self) -> ProcessPoolExecutor:
        # fork: a worker starts in milliseconds with every module already imported (spawn
        # re-imports them, ~0.5 s of CPU each); it touches no inherited connection or lock.
        return ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(self.assess.rules, self.assess.lang, self.kinds, self.context))


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# A worker's own assessor (and memo), made once when the worker starts.
_worker: tuple[Assessor, tuple[AlertKind, ...], SelectionContext] | None = None


def _start_worker(rules: RulesConfig, lang: Lang, kinds: tuple[AlertKind, ...],
                  context: SelectionContext) -> None:
    global _worker
    _worker = (Assessor(rules, lang), kinds, context)


def _select_chunk(chunk: list[AccountFacts]) -> list[Selected]:
    assert _worker is not None, "worker not started"
    assess, kinds, context = _worker
    return [select_one(assess, facts, kinds, context) for facts in chunk]
