"""Time the CS rules over 100,000 accounts with 31 days of usage (~3.1 M snapshot rows).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/jobs_scale.py [--accounts 100000]
        [--days 31] [--backend sqlite|postgres|both]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each backend: generate the data into a fresh database (SQLite file under var/bench/, or a
new PostgreSQL database that is dropped afterwards) with bulk inserts (executemany; COPY on
PostgreSQL) and the usage rollups the import would leave (--no-rollups: none, so the facts
fall back to the aggregate), then, in a fresh child process so its peak RSS is its own, time
  - the floor: one plain aggregate over usage_snapshots (GROUP BY account_id), all rows fetched;
  - iter_facts alone (streamed, nothing kept);
  - the whole pipeline: iter_facts + assess + select in the at_risk job's chunks (and the time
    inside assess + select when in process; --workers / --parallel-after: the job's worker
    processes), then its peak Python memory under tracemalloc.
Each timing is the median of --repeat runs, wall and CPU time (on PostgreSQL the server's CPU
too, read from /proc: the server must run on this machine). Figures go into
docs/benchmarks.md ("Customer data and rules", "Daily health + alert selection").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, insert, text

from banso.migrate import migrate
from core.db import make_engine, make_session_factory
from core.rules_config import load_rules
from cs.accounts.models import Account
from cs.accounts.rollup import rebuild_all
from cs.accounts.service import iter_facts
from cs.alerts.models import AlertKind
from cs.alerts.parallel import PARALLEL_AFTER, BookSelector, chunked, select_chunk
from cs.alerts.selection import SelectionContext
from cs.rules.rules import Assessor
from jobs.alert_jobs import CHUNK

NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
LOCAL_NOW = NOW.astimezone(ZoneInfo("Asia/Tokyo"))  # the jobs count days in BANSO_TIMEZONE
TODAY = NOW.date()
ROOT = Path(__file__).resolve().parent.parent
FLOOR_SQL = """
SELECT account_id, max(day), max(last_login_at), sum(inquiries), max(setup_progress),
       max(active_users), max(seats)
FROM usage_snapshots GROUP BY account_id
"""


# --- data -----------------------------------------------------------------------------------

def _accounts(n: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        start = TODAY - timedelta(days=rng.randint(10, 1500))
        rows.append({
            "id": f"ACC{i:06d}", "name": f"株式会社ベンチ{i}", "currency": "JPY",
            "mrr": rng.choice((30_000, 50_000, 80_000, 150_000, 300_000, 600_000, 1_200_000)),
            "plan": None, "contract_start": start,
            "renewal_date": start + timedelta(days=365 * (1 + (TODAY - start).days // 365)),
            "status": "churned" if rng.random() < 0.05 else "active",
            "owner_user_id": f"U{rng.randint(1, 40):04d}", "csm_channel": None,
            "flags": ["brand"] if rng.random() < 0.05 else [],
            "expansion_potential": rng.choice(("none", "none", "none", "upsell")),
            "churn_date": None, "churn_reason": None, "renewed_at": None,
            "created_at": NOW, "updated_at": NOW,
        })
    return rows


def _usage(n: int, days: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """(account_id, day, last_login_at, active_users, seats, setup_progress, inquiries)."""
    rng = random.Random(seed + 1)
    for i in range(n):
        account_id = f"ACC{i:06d}"
        seats = rng.randint(3, 200)
        ratio = rng.uniform(0.3, 0.95)
        profile = rng.random()
        silent = rng.randint(15, 40) if profile < 0.08 else None  # no login
        stalled = profile > 0.95  # setup stuck
        falling = 0.08 <= profile < 0.12  # seats falling
        progress = rng.randint(10, 60) if stalled else 100
        last_login: datetime | None = (
            NOW - timedelta(days=silent) if silent is not None else None)
        for back in range(days - 1, -1, -1):
            day = TODAY - timedelta(days=back)
            share = ratio - (0.4 * (days - back) / days if falling else 0.0)
            active = 0 if silent is not None and back < silent else max(1, int(seats * share))
            if silent is None or back >= silent:
                last_login = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
            yield (account_id, day, last_login, active, seats, progress,
                   int(rng.random() < 0.1 and not stalled))


def generate(engine: Engine, accounts: int, days: int, seed: int) -> float:
    started = time.perf_counter()
    migrate(engine)
    rng = random.Random(seed)
    with engine.begin() as conn:
        conn.execute(insert(Account), _accounts(accounts, rng))
    rows = _usage(accounts, days, seed)
    if engine.dialect.name == "postgresql":
        _copy_usage(engine, rows)
    else:
        _sqlite_usage(engine, rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def build_rollups(engine: Engine) -> float:
    """What the usage import leaves behind: every account's rollup of the run's day (the
    import rebuilds the accounts it touched; the bench writes usage around it, so in one go)."""
    started = time.perf_counter()
    with engine.begin() as conn:
        rebuild_all(conn, LOCAL_NOW.date())
        conn.execute(text("ANALYZE usage_rollups"))
    return time.perf_counter() - started


def _copy_usage(engine: Engine, rows: Iterator[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy(  # type: ignore[attr-defined]
            "COPY usage_snapshots (account_id, day, last_login_at, active_users, seats, "
            "setup_progress, inquiries) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _sqlite_usage(engine: Engine, rows: Iterator[tuple[Any, ...]]) -> None:
    # The exact text SQLAlchemy's SQLite dialect stores, so the ORM reads these rows back.
    def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
        login = row[2].strftime("%Y-%m-%d %H:%M:%S.%f") if row[2] else None
        return (row[0], row[1].isoformat(), login, *row[3:])

    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(stored(row))
            if len(batch) == 50_000:
                _sqlite_insert(cur, batch)
                batch = []
        _sqlite_insert(cur, batch)
        raw.commit()
    finally:
        raw.close()


def _sqlite_insert(cur: Any, batch: list[tuple[Any, ...]]) -> None:
    cur.executemany(
        "INSERT INTO usage_snapshots (account_id, day, last_login_at, active_users, seats, "
        "setup_progress, inquiries) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)


# --- measurement (child process) ------------------------------------------------------------

def _median_time(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of `repeat` runs, and the last result. CPU time is steadier
    on a shared machine; on SQLite it includes the query, on PostgreSQL only the client."""
    wall, cpu, _, result = _timed(run, repeat)
    return wall, cpu, result


def _timed(run: Callable[[], Any], repeat: int, server: Callable[[], float] | None = None
           ) -> tuple[float, float, float, Any]:
    """_median_time's figures and the median server CPU (`server`: its running total). The
    client's CPU counts worker processes too, once they have exited (RUSAGE_CHILDREN)."""
    walls, cpus, servers, result = [], [], [], None
    for _ in range(repeat):
        wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        served = server() if server else 0.0
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu + _children_cpu() - children)
        servers.append(server() - served if server else 0.0)
    return statistics.median(walls), statistics.median(cpus), statistics.median(servers), result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float | None:
    """utime + stime of a local process in seconds (None: gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


class ServerCpu:
    """CPU seconds the local PostgreSQL server spends for one backend: the backend itself plus
    the parallel workers it starts, which a 10 ms poll of the postmaster's children finds (a
    worker's last ~10 ms can be missed). Only meaningful with the server on this machine."""

    def __init__(self, backend: int) -> None:
        stat = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        self.backend, self.postmaster = backend, int(stat[1])
        self.workers: dict[int, float] = {}
        self._mine = f"parallel worker for PID {backend}".encode()
        self._others: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children")
        while not self._stop.wait(0.01):
            try:
                pids = [int(pid) for pid in children.read_text().split()]
            except OSError:
                return
            for pid in pids:
                if pid in self._others:
                    continue
                if pid not in self.workers:
                    try:
                        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    except OSError:
                        continue
                    if self._mine not in cmdline:
                        if cmdline.startswith(b"postgres:"):  # its title is set: not ours
                            self._others.add(pid)
                        continue
                cpu = _proc_cpu(pid)
                if cpu is not None:
                    self.workers[pid] = cpu

    def total(self) -> float:
        return (_proc_cpu(self.backend) or 0.0) + sum(self.workers.values())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(url: str, repeat: int, batch_size: int, workers: int | None,
            parallel_after: int | None) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rules = load_rules()
    rss_start = _rss_mib()

    def floor() -> int:
        with engine.connect() as conn:
            return len(conn.execute(text(FLOOR_SQL)).all())

    def facts_only() -> int:
        with factory() as session:
            return sum(1 for _ in iter_facts(session, NOW, batch_size=batch_size))

    def pipeline() -> tuple[int, int, float]:
        """What the at_risk job does before touching alerts: read the facts, assess each and
        select the alerts it calls for, in the team's time zone (calendar days), in chunks of
        the job's size, through the job's BookSelector (worker processes that read their own
        ranges of accounts, past the threshold). The time inside assess + select is only known
        in process (workers=1)."""
        clock = time.perf_counter
        assessor = Assessor(rules)
        context = SelectionContext(rules=rules, now=LOCAL_NOW, default_channel="C1")
        kinds = [AlertKind.AT_RISK]
        with factory() as session:
            seen, risky, in_assess = 0, 0, 0.0
            if workers == 1 or parallel_after is None:  # one chunk at a time: time assess alone
                facts = iter_facts(session, LOCAL_NOW, batch_size=batch_size)
                for chunk in chunked(facts, CHUNK):
                    started = clock()
                    selected = select_chunk(assessor, chunk, kinds, context).selected
                    in_assess += clock() - started
                    seen, risky = seen + len(chunk), risky + sum(1 for c in selected if c)
                return seen, risky, in_assess
            select_all = BookSelector(assessor, kinds, context, chunk=CHUNK, workers=workers,
                                      parallel_after=parallel_after)
            for found in select_all(session):
                seen += len(found.account_ids)
                risky += sum(1 for c in found.selected if c)
            return seen, risky, float("nan")

    server = None
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            server = ServerCpu(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    total = server.total if server else None
    floor_s, floor_cpu, floor_server, groups = _timed(floor, repeat, total)
    facts_s, facts_cpu, facts_server, _ = _timed(facts_only, repeat, total)
    pipeline_s, pipeline_cpu, pipeline_server, (seen, risky, assess_s) = _timed(
        pipeline, repeat, total)
    if server:
        with engine.connect() as conn:  # the pool's one connection served every run
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == server.backend
        server.close()
    rss_peak = _rss_mib()
    tracemalloc.start()
    pipeline()
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    with engine.connect() as conn:
        usage_rows = conn.execute(text("SELECT count(*) FROM usage_snapshots")).scalar_one()
    engine.dispose()
    return {
        "usage_rows": usage_rows, "floor_s": floor_s, "floor_groups": groups,
        "pipeline_s": pipeline_s, "accounts_assessed": seen, "accounts_with_risks": risky,
        "facts_s": facts_s, "assess_s": assess_s, "ratio": pipeline_s / floor_s,
        "rss_start_mib": rss_start, "rss_peak_mib": rss_peak, "traced_peak_mib": traced_peak,
        "floor_cpu_s": floor_cpu, "facts_cpu_s": facts_cpu, "pipeline_cpu_s": pipeline_cpu,
        "server_cpu_s": [floor_server, facts_server, pipeline_server] if server else None,
        "cpu_ratio": pipeline_cpu / floor_cpu if not server else
        (pipeline_cpu + pipeline_server) / (floor_cpu + floor_server),
    }


def _rss_mib() -> float:
    """Peak RSS of this process. VmHWM, because ru_maxrss survives exec on Linux and would
    report the parent's generation peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- driver ---------------------------------------------------------------------------------

def run_backend(
    name: str, url: str, args: argparse.Namespace, *, fresh: bool = True
) -> dict[str, Any]:
    generated = 0.0
    if fresh:
        engine = make_engine(url)
        generated = generate(engine, args.accounts, args.days, args.seed)
        rolled = 0.0 if args.no_rollups else build_rollups(engine)
        engine.dispose()
        print(f"[{name}] generated in {generated:.1f} s, rollups built in {rolled:.1f} s",
              flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--measure", url, "--repeat", str(args.repeat),
         "--batch-size", str(args.batch_size),
         *(("--parallel-after", str(args.parallel_after)) if args.parallel_after is not None
           else ()),
         *(("--workers", str(args.workers)) if args.workers else ())],
        check=True, capture_output=True, text=True,
    )
    figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    figures["generate_s"] = generated
    return figures


SQLITE_FILE = ROOT / "var" / "bench" / "jobs_scale.db"


def fresh_sqlite_url() -> str:
    SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{SQLITE_FILE}"


def with_postgres(server: str, args: argparse.Namespace) -> dict[str, Any]:
    name = f"banso_bench_jobs_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return run_backend("postgresql", server.rsplit("/", 1)[0] + "/" + name, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(name: str, f: dict[str, Any]) -> None:
    print(f"[{name}] {f['usage_rows']:,} usage rows, {f['accounts_assessed']:,} live accounts "
          f"assessed, {f['accounts_with_risks']:,} with risks")
    print(f"[{name}] floor aggregate {f['floor_s']:.2f} s | iter_facts {f['facts_s']:.2f} s | "
          f"pipeline {f['pipeline_s']:.2f} s "
          f"= {f['ratio']:.2f}x floor (assess + select {f['assess_s']:.2f} s of it; nan: in "
          "workers)", flush=True)
    print(f"[{name}] CPU time of this process: floor {f['floor_cpu_s']:.2f} s | iter_facts "
          f"{f['facts_cpu_s']:.2f} s | pipeline {f['pipeline_cpu_s']:.2f} s", flush=True)
    if f["server_cpu_s"]:
        floor, facts, pipeline = f["server_cpu_s"]
        print(f"[{name}] CPU time of the PostgreSQL server (backend + parallel workers): floor "
              f"{floor:.2f} s | iter_facts {facts:.2f} s | pipeline {pipeline:.2f} s", flush=True)
    print(f"[{name}] pipeline / floor in CPU (client + server): {f['cpu_ratio']:.2f}x",
          flush=True)
    print(f"[{name}] memory: pipeline peak {f['traced_peak_mib']:.1f} MiB of Python allocations "
          f"(tracemalloc); process peak RSS {f['rss_peak_mib']:.0f} MiB, "
          f"{f['rss_start_mib']:.0f} MiB after imports", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres", default=os.environ.get(
        "BANSO_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--reuse", action="store_true",
                        help="SQLite: measure the database of the last run again")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for assess + select (default: one per core; "
                        "1: in process, and the time inside assess is reported)")
    parser.add_argument("--parallel-after", type=int, default=PARALLEL_AFTER,
                        help="books of at least this many live accounts are read and "
                        "assessed in worker processes (the job's BANSO_JOB_PARALLEL_AFTER; "
                        "unset: never)")
    parser.add_argument("--no-rollups", action="store_true",
                        help="leave usage_rollups empty: the facts fall back to the aggregate")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat, args.batch_size, args.workers,
                                 args.parallel_after)))
        return
    if args.backend in ("sqlite", "both"):
        if args.reuse and SQLITE_FILE.exists():
            figures = run_backend("sqlite", f"sqlite:///{SQLITE_FILE}", args, fresh=False)
        else:
            figures = run_backend("sqlite", fresh_sqlite_url(), args)
        report("sqlite", figures)
    if args.backend in ("postgres", "both"):
        report("postgresql", with_postgres(args.postgres, args))


if __name__ == "__main__":
    main()
