"""Time and memory of `banso report` (and the weekly CS digest's data) over 100,000 accounts.

    .venv/bin/python bench/report_scale.py [--accounts 100000] [--db URL]

Generates a deterministic book once (accounts, an MRR log with new/expansion/contraction/churn/
reactivation, three usage snapshots per live account, onboarding touches, alerts, questions)
into a database that is reused on the next run, then times `compute_metrics` (what the CLI and
GET /api/metrics/cs run). Figures go into docs/benchmarks.md "Reports".
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from banso.migrate import migrate
from banso.runtime import build_services
from bot.models import Question
from core.db import make_engine, make_session_factory
from core.rules_config import load_rules
from core.settings import Settings, load_settings
from cs.accounts.models import Account, MrrChange, Touchpoint, UsageSnapshot
from cs.alerts.models import Alert
from cs.home.service import load_staff_home
from cs.home.view import staff_view
from cs.kpis.chart import render_png, trend
from cs.kpis.digest import DIGEST_DAYS, TREND_MONTHS
from cs.kpis.formulas import Period, bridge
from cs.kpis.report import compute_metrics
from cs.kpis.service import kpi_config, last_complete_month, load_book, metrics_for
from cs.rules.rules import Assessor

NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
TODAY = NOW.date()
REASONS = ("low_usage", "no_roi", "couldnt_use", "price", "merger", "closed_business", None)
CHUNK = 5000


def _account(i: int, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    account_id = f"ACC{i:06d}"
    start = TODAY - timedelta(days=rng.randint(10, 1500))
    mrr = rng.choice((30_000, 50_000, 80_000, 150_000, 300_000, 600_000, 1_200_000))
    changes = [(start, 0, mrr, "new")]
    day = start
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        day = day + timedelta(days=rng.randint(30, 300))
        if day >= TODAY:
            break
        before = changes[-1][2]
        roll = rng.random()
        if before == 0:
            after, reason = mrr, "reactivation"
        elif roll < 0.35:
            after, reason = 0, "churn"
        elif roll < 0.7:
            after, reason = before + rng.choice((20_000, 50_000, 100_000)), "expansion"
        else:
            after, reason = max(10_000, before // 2), "contraction"
        changes.append((day, before, after, reason))
    live = changes[-1][2] > 0
    row = {
        "id": account_id, "name": f"Company {i}", "mrr": changes[-1][2], "currency": "JPY",
        "contract_start": start, "renewal_date": start + timedelta(days=365 * 3),
        "status": "active" if live else "churned",
        "owner_user_id": f"U{rng.randint(1, 40):03d}", "flags": [],
        "expansion_potential": "none",
        "churn_date": None if live else changes[-1][0],
        "churn_reason": None if live else rng.choice(REASONS),
        "created_at": NOW, "updated_at": NOW,
    }
    log = [{"account_id": account_id, "effective_on": d, "mrr_before": b, "mrr_after": a,
            "currency": "JPY", "reason": r, "created_at": NOW} for d, b, a, r in changes]
    return row, log


def _usage(account_id: str, rng: random.Random) -> list[dict[str, Any]]:
    seats = rng.randint(5, 200)
    return [{"account_id": account_id, "day": TODAY - timedelta(days=back),
             "last_login_at": NOW - timedelta(days=back + rng.randint(0, 40)),
             "active_users": rng.randint(0, seats), "seats": seats,
             "setup_progress": rng.randint(0, 100), "inquiries": rng.randint(0, 2)}
            for back in (0, 14, 30)]


def _chunks(n: int) -> Iterator[range]:
    for lo in range(0, n, CHUNK):
        yield range(lo, min(n, lo + CHUNK))


def generate(factory: sessionmaker[Session], accounts: int) -> None:
    rng = random.Random(42)
    for ids in _chunks(accounts):
        rows, logs, usage, touches = [], [], [], []
        for i in ids:
            row, log = _account(i, rng)
            rows.append(row)
            logs += log
            if row["status"] == "active":
                usage += _usage(row["id"], rng)
            if rng.random() < 0.5:
                touches.append({"account_id": row["id"], "kind": rng.choice(("call", "meeting")),
                                "at": datetime.combine(row["contract_start"] + timedelta(days=9),
                                                       datetime.min.time(), UTC),
                                "user_id": row["owner_user_id"], "created_at": NOW})
        with factory.begin() as session:
            session.execute(insert(Account), rows)
            session.execute(insert(MrrChange), logs)
            if usage:
                session.execute(insert(UsageSnapshot), usage)
            session.execute(insert(Touchpoint), touches)
    _activity(factory, rng, accounts)


def _activity(factory: sessionmaker[Session], rng: random.Random, accounts: int) -> None:
    """A month of alerts and questions, at the rate a team of 40 CSMs would see."""
    alerts: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    for n in range(accounts // 20):
        opened = NOW - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 1440))
        ack = opened + timedelta(minutes=rng.randint(5, 3000)) if rng.random() < 0.7 else None
        alerts.append({"account_id": f"ACC{rng.randrange(accounts):06d}", "kind": "at_risk",
                       "dedupe_key": f"bench:{n}", "status": "acknowledged" if ack else "open",
                       "owner_user_id": f"U{rng.randint(1, 40):03d}",
                       "evidence": {"account_name": f"Company {n}", "touch_model": "low"},
                       "opened_at": opened, "acknowledged_at": ack, "updated_at": NOW})
    for n in range(accounts // 10):
        questions.append({"surface": "slack", "text": f"質問 {n % 500} について教えて",
                          "lang": "ja", "visibility": "public",
                          "decision": rng.choice(("answer", "answer", "suggest", "abstain")),
                          "candidates": [],
                          "created_at": NOW - timedelta(days=rng.randint(1, 60))})
    with factory.begin() as session:
        session.execute(insert(Alert), alerts)
        session.execute(insert(Question), questions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path('var/bench') / f'report_{args.accounts}.db'}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        existing = session.scalar(select(func.count()).select_from(Account))
    if existing != args.accounts:
        if existing:
            raise SystemExit(f"{url} holds {existing} accounts; remove it or pass --db")
        started = time.perf_counter()
        generate(factory, args.accounts)
        print(f"generated {args.accounts:,} accounts in {time.perf_counter() - started:.1f} s")
    settings = load_settings(database_url=url, data_dir=Path("var/bench"), watch_knowledge=False)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    services = build_services(settings, search=False, slack=False)
    metrics = compute_metrics(services, NOW, Period.month(2026, 10))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"db={engine.dialect.name} accounts={metrics.book.accounts:,} live, "
          f"customers_at_start={metrics.churn.customers_at_start:,}")
    # CPU time too: on a shared machine the wall time depends on the neighbours.
    print(f"report: {seconds:.2f} s wall, {cpu:.2f} s CPU (this process), "
          f"peak RSS {rss_after / 1024:.0f} MiB "
          f"(+{(rss_after - rss_before) / 1024:.0f} MiB during the report), cpus={os.cpu_count()}")
    digest_data(settings, factory)
    home(settings, factory)


def home(settings: Settings, factory: sessionmaker[Session]) -> None:
    """App Home of the CSM with the most accounts: their open alerts and (capped) accounts."""
    with factory() as session:
        owner = session.execute(
            select(Account.owner_user_id).where(Account.owner_user_id.is_not(None))
            .group_by(Account.owner_user_id).order_by(func.count().desc()).limit(1)
        ).scalar_one()
    assert owner is not None
    started, cpu = time.perf_counter(), time.process_time()
    with factory() as session:
        staff_home = load_staff_home(session, settings, owner, NOW, Assessor(load_rules()))
    view = staff_view(staff_home, "ja")
    print(f"home ({owner}: {staff_home.total_accounts:,} accounts, {len(staff_home.alerts)} open "
          f"alerts, {len(view['blocks'])} blocks): {time.perf_counter() - started:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU")


def digest_data(settings: Settings, factory: sessionmaker[Session]) -> None:
    """What send_cs_digest computes before posting: two 30-day periods, the trend, the PNG."""
    tz = ZoneInfo(settings.timezone)
    rules = load_rules(settings.rules_file)
    config = kpi_config(settings, rules)
    period = Period.days_ending(NOW.astimezone(tz).date(), DIGEST_DAYS)
    started, cpu = time.perf_counter(), time.process_time()
    with factory() as session:
        book = load_book(session, NOW.astimezone(tz), rules, config, rules.jobs.lang)
        cur = metrics_for(session, book, period, config=config, rules=rules, tz=tz, now=NOW)
        metrics_for(session, book, period.previous(), config=config, rules=rules, tz=tz,
                    now=NOW)
    loaded = time.perf_counter()
    months = trend(book.log, last_complete_month(NOW, tz), TREND_MONTHS, config)
    trended = time.perf_counter()
    last_month = last_complete_month(NOW, tz)
    png = render_png(months, cur.book.by_health_band, config.churn_warning,
                     bridge(book.log, last_month, NOW.astimezone(tz).date()), last_month.label)
    done, cpu = time.perf_counter(), time.process_time() - cpu
    print(f"digest: data {loaded - started:.2f} s, {TREND_MONTHS}-month trend "
          f"{trended - loaded:.2f} s, chart {done - trended:.2f} s ({len(png):,} bytes PNG); "
          f"total {done - started:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
