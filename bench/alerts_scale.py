"""Time alert selection + the state machine + outbox inserts over 100,000 accounts.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/alerts_scale.py [--accounts 100000]
        [--days 31] [--backend sqlite|postgres|both]

Data: the same generator as bench/jobs_scale.py (100,000 accounts, 31 days of usage, ~8 % not
logging in, ~4 % seats falling, ~5 % setup stalled). For each backend, in one process:
  - at_risk, first run: every live account assessed, alerts opened and outbox rows inserted;
  - at_risk, second run: nothing changed, nothing queued (the steady state of a daily job);
  - renewals, first run (120/90/60/30-day reminders);
  - outbox: claim and settle every queued row with Slack not configured (rows end `held`);
    this is the database side of delivery, without Slack's own latency.
Figures go into docs/benchmarks.md ("Alerts").
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import resource
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from banso.runtime import build_services
from core.db import make_engine, make_session_factory
from core.settings import load_settings
from cs.alerts.models import Alert, OutboxMessage
from cs.alerts.outbox import Outbox
from jobs.alert_jobs import run_alert_job

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("jobs_scale", ROOT / "bench" / "jobs_scale.py")
assert _spec and _spec.loader
jobs_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(jobs_scale)
NOW = jobs_scale.NOW


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url)
    generated = jobs_scale.generate(engine, args.accounts, args.days, args.seed)
    factory = make_session_factory(engine)
    ctx = build_services(load_settings(database_url=url, csm_channel="CBENCH",
                                       watch_knowledge=False), search=False, slack=False)
    figures: dict[str, Any] = {"generate_s": generated}
    for label, job, at in (("at_risk_first", "at_risk", NOW),
                           ("at_risk_again", "at_risk", NOW),
                           ("renewals_first", "renewals", NOW)):
        started = time.perf_counter()
        report = run_alert_job(job, ctx, at, deliver=False)
        figures[label] = {"seconds": time.perf_counter() - started,
                          "accounts": report.accounts, "opened": len(report.alerts.opened),
                          "queued": len(report.planned), "failed": len(report.failed_accounts)}
    with factory() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        figures["alerts"] = session.scalar(select(func.count()).select_from(Alert)) or 0
    started = time.perf_counter()
    worker, settled = Outbox(factory, None), 0
    while batch := worker.deliver(NOW, limit=500).held:
        settled += len(batch)
    figures["outbox"] = {"rows": queued, "settled": settled,
                         "seconds": time.perf_counter() - started}
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return figures


def report(name: str, f: dict[str, Any]) -> None:
    print(f"[{name}] data generated in {f['generate_s']:.0f} s; {f['alerts']:,} alerts in all")
    for label in ("at_risk_first", "at_risk_again", "renewals_first"):
        r = f[label]
        print(f"[{name}] {label:<15} {r['seconds']:6.1f} s  {r['accounts']:,} accounts, "
              f"{r['opened']:,} opened, {r['queued']:,} outbox rows, {r['failed']} failed "
              f"({r['accounts'] / r['seconds']:,.0f} accounts/s)")
    o = f["outbox"]
    print(f"[{name}] outbox claim+settle {o['seconds']:6.1f} s  {o['settled']:,} of "
          f"{o['rows']:,} rows ({o['settled'] / max(o['seconds'], 1e-9):,.0f} rows/s); "
          f"peak RSS {f['peak_rss_mib']:.0f} MiB", flush=True)


def sqlite_url() -> str:
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "alerts_scale.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def with_postgres(server: str, args: argparse.Namespace) -> dict[str, Any]:
    name = f"banso_bench_alerts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return measure(server.rsplit("/", 1)[0] + "/" + name, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres", default=os.environ.get(
        "BANSO_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    logging.getLogger("cs.alerts").setLevel(logging.ERROR)  # "held" warnings per round
    if args.backend in ("sqlite", "both"):
        report("sqlite", measure(sqlite_url(), args))
    if args.backend in ("postgres", "both"):
        report("postgresql", with_postgres(args.postgres, args))


if __name__ == "__main__":
    main()
