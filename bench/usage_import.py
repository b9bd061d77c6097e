"""Usage import speed: rows per second through the import path (cs.accounts.batch).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/usage_import.py [--accounts 2000]
        [--days 31] [--backend sqlite|postgres|both]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Into a fresh database (SQLite file under var/bench/, or a new PostgreSQL database dropped
afterwards): --accounts accounts, then their usage as the ingest API takes it (posts of at most
50,000 rows, each one import_batch): first --days days of history, then one more day for
every account (the daily import), then that day again with other values (a correction).
Reports wall and CPU time and rows per second of each; the CPU is this process's (on
PostgreSQL the server's is not counted). Figures go into docs/benchmarks.md ("Daily health +
alert selection").
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from banso.migrate import migrate
from core.db import make_engine, make_session_factory
from cs.accounts.batch import import_batch

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Tokyo")
POST_ROWS = 50_000  # the ingest API's largest body
ROOT = Path(__file__).resolve().parent.parent


def usage(accounts: int, day: date, active: int) -> list[dict[str, Any]]:
    return [{"account_id": f"U{i:06d}", "day": day.isoformat(),
             "last_login_at": f"{day.isoformat()}T10:00:00+09:00", "active_users": active,
             "seats": 10, "setup_progress": 100, "inquiries": i % 3} for i in range(accounts)]


def timed_import(url: str, rows: list[dict[str, Any]], kind: str = "usage") -> tuple[float, float]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(rows), POST_ROWS):
        result = import_batch(factory, kind, rows[start:start + POST_ROWS], NOW, tz=TZ)
        assert not result.errors, result.errors[:3]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    return wall, cpu


def run(name: str, url: str, accounts: int, days: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    today = NOW.astimezone(TZ).date()
    timed_import(url, [{"id": f"U{i:06d}", "name": f"社{i}", "mrr": 50_000,
                        "contract_start": "2025-01-01"} for i in range(accounts)], "accounts")
    history = [row for back in range(days, 0, -1)
               for row in usage(accounts, today - timedelta(days=back), 8)]
    for label, rows in (("history", history), ("daily", usage(accounts, today, 8)),
                        ("correction", usage(accounts, today, 7))):
        wall, cpu = timed_import(url, rows)
        print(f"[{name}] {label}: {len(rows):,} rows in {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"= {len(rows) / wall:,.0f} rows/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres", default=os.environ.get(
        "BANSO_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        path = ROOT / "var" / "bench" / "usage_import.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        run("sqlite", f"sqlite:///{path}", args.accounts, args.days)
    if args.backend in ("postgres", "both"):
        name = f"banso_bench_usage_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run("postgresql", args.postgres.rsplit("/", 1)[0] + "/" + name, args.accounts,
                args.days)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
