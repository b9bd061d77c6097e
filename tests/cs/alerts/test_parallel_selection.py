"""Alert jobs over a large book: worker processes select exactly what one process selects."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from cs.alerts.models import Alert
from jobs.alert_jobs import JobReport, run_alert_job
from tests.cs.alerts_support import NOW, account_row, job_context, seed, usage_rows

ACCOUNTS = 1_100  # three chunks of the job's 500


def _book(session_factory: sessionmaker[Session]) -> None:
    accounts, usage = [], []
    for i in range(ACCOUNTS):
        key = f"P{i:04d}"
        # Every fifth account silent for 20-40 days, every seventh losing seats, one in a
        # currency the rules have no rate for (that account fails, the others go on).
        currency = "XXX" if i == 7 else "JPY"
        accounts.append(account_row(key, mrr=50_000 + 1_000 * (i % 700), currency=currency))
        usage += usage_rows(key, last_login_days_ago=20 + i % 21 if i % 5 == 0 else 1,
                            days=31, active=3 if i % 7 == 0 else 8)
    seed(session_factory, accounts, usage)


def _dry_run(settings: Settings, session_factory: sessionmaker[Session],
             parallel_after: int | None, *, dry_run: bool = True) -> JobReport:
    settings = settings.model_copy(update={"job_parallel_after": parallel_after})
    return run_alert_job("at_risk", job_context(settings, session_factory, None), NOW,
                         dry_run=dry_run)


def test_worker_processes_select_the_same_alerts_as_one_process(
    alert_settings: Settings, session_factory: sessionmaker[Session],
) -> None:
    _book(session_factory)
    serial = _dry_run(alert_settings, session_factory, parallel_after=None)
    parallel = _dry_run(alert_settings, session_factory, parallel_after=0)
    assert serial.accounts == parallel.accounts == ACCOUNTS
    assert len(serial.planned) > 100
    assert parallel.planned == serial.planned
    assert parallel.failed_accounts == serial.failed_accounts == ["P0007"]


def test_a_run_in_worker_processes_opens_each_alert_once(
    alert_settings: Settings, session_factory: sessionmaker[Session],
) -> None:
    """Ranges end on short chunks: the job still commits everything, and the next run finds
    every alert already open."""
    _book(session_factory)
    serial = _dry_run(alert_settings, session_factory, parallel_after=None)
    first = _dry_run(alert_settings, session_factory, parallel_after=0, dry_run=False)
    again = _dry_run(alert_settings, session_factory, parallel_after=0, dry_run=False)
    opened = len(serial.alerts.opened)
    assert len(first.alerts.opened) == opened > 100
    assert [p.dedupe_key for p in first.planned] == [p.dedupe_key for p in serial.planned]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == opened
    assert (again.accounts, len(again.alerts.opened), again.planned) == (ACCOUNTS, 0, [])
