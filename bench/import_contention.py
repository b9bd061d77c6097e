"""Imports under contention: rows lost, deadlocks and wall time.

    .venv/bin/python bench/import_contention.py [--rows 5000] [--pg-rows 2000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

1. SQLite (a fresh file under var/bench/): import --rows new accounts while another thread
   renews the scheduler lease in a loop from its own connection (jobs.lease), as a leader
   replica does; then the same import alone. Reports rows lost, the import's wall time and the
   heartbeats written meanwhile.
2. PostgreSQL (a fresh database, dropped afterwards): two imports of the same --pg-rows new ids
   at once, one in ascending and one in descending order, each in its own thread and
   transaction (cs.accounts.batch.import_batch, the ingest API's code), then the same import
   alone. Reports deadlocks (pg_stat_database), rows lost and wall times.
Figures go into docs/benchmarks.md ("Imports under contention"). Takes well under a minute.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text

from banso.migrate import migrate
from core.db import make_engine, make_session_factory
from cs.accounts.batch import import_batch
from cs.accounts.models import Account
from cs.accounts.schemas import ImportResult
from jobs.lease import LeaderLease

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def accounts(count: int, prefix: str) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{n:05d}", "name": f"株式会社{n}", "mrr": str(1000 + n),
             "contract_start": "2025-04-01"} for n in range(count)]


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(Account)) or 0)


def timed(call: Callable[[], ImportResult]) -> tuple[ImportResult, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def sqlite_beside_heartbeat(rows: int) -> None:
    path = Path("var/bench") / f"contention-{uuid.uuid4().hex[:6]}.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    factory = make_session_factory(engine)
    lease_engine = make_engine(f"sqlite:///{path}")  # the heartbeat's own connection
    lease = LeaderLease(make_session_factory(lease_engine), holder="bench")
    stop, beats, longest = threading.Event(), [0], [0.0]

    def heartbeat() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            lease.try_acquire(datetime.now(UTC))
            longest[0] = max(longest[0], time.perf_counter() - start)
            beats[0] += 1
            stop.wait(0.01)

    thread = threading.Thread(target=heartbeat)
    thread.start()
    time.sleep(0.2)
    before = beats[0]
    result, busy = timed(lambda: import_batch(factory, "accounts", accounts(rows, "S"), NOW))
    during = beats[0] - before
    stop.set()
    thread.join()
    _, alone = timed(lambda: import_batch(factory, "accounts", accounts(rows, "T"), NOW))
    print(f"SQLite: {rows} rows beside a lease heartbeat: {result.summary()}; "
          f"lost {rows - result.inserted}; {busy:.2f} s ({during} heartbeats written meanwhile, "
          f"the longest waited {longest[0]:.2f} s for the lock); "
          f"the same import alone {alone:.2f} s; stored {stored(engine)}")
    engine.dispose()
    lease_engine.dispose()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()


def postgres_opposite_orders(server: str, rows: int) -> None:
    name = f"banso_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.rsplit("/", 1)[0] + "/" + name)
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        deadlocks_before = _deadlocks(engine)
        data = accounts(rows, "P")
        results: dict[str, tuple[ImportResult, float]] = {}
        barrier = threading.Barrier(2)

        def run(label: str, batch: list[dict[str, Any]]) -> None:
            barrier.wait()
            results[label] = timed(lambda: import_batch(factory, "accounts", batch, NOW))

        threads = [threading.Thread(target=run, args=("ascending", data)),
                   threading.Thread(target=run, args=("descending", data[::-1]))]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        for label, (result, seconds) in results.items():
            print(f"PostgreSQL {label}: {result.summary()} in {seconds:.2f} s")
        print(f"PostgreSQL: both done in {wall:.2f} s; deadlocks "
              f"{_deadlocks(engine) - deadlocks_before}; stored {stored(engine)} of {rows}")
        _, alone = timed(lambda: import_batch(factory, "accounts", accounts(rows, "Q"), NOW))
        print(f"PostgreSQL: the same {rows}-row import alone {alone:.2f} s")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _deadlocks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--pg-rows", type=int, default=2000)
    parser.add_argument("--postgres",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    sqlite_beside_heartbeat(args.rows)
    postgres_opposite_orders(args.postgres, args.pg_rows)


if __name__ == "__main__":
    main()
