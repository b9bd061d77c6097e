"""Point-in-time book figures: a past month shows its own stored snapshot, else "as of now"."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from cs.accounts.models import Account
from cs.kpis.formulas import Period
from cs.kpis.models import BookSnapshot
from cs.kpis.report import compute_metrics, render_text
from jobs.registry import job
from tests.cs.kpis.test_report import add_account
from tests.services import services_for

END_OF_SEPTEMBER = datetime(2026, 9, 30, 14, 50, tzinfo=UTC)  # 23:50 in Tokyo
END_OF_OCTOBER = datetime(2026, 10, 31, 14, 50, tzinfo=UTC)
LATER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_report_of_a_past_month_shows_the_book_of_its_last_snapshot(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    engine = session_factory.kw["bind"]
    snapshot = job("book_snapshot")
    with session_factory.begin() as session:
        add_account(session, "A", [("2025-01-01", 600_000)], owner="U1")
        add_account(session, "B", [("2025-01-01", 100_000)], owner="U1")
    september = snapshot.run(services_for(settings, engine), END_OF_SEPTEMBER)
    assert september.summary() == "book snapshot of 2026-09-30: 2 live accounts"
    with session_factory.begin() as session:  # October: C joins, B moves to U2
        add_account(session, "C", [("2026-10-05", 30_000)], owner="U2")
        session.get(Account, "B").owner_user_id = "U2"  # type: ignore[union-attr]
    snapshot.run(services_for(settings, engine), END_OF_OCTOBER)
    snapshot.run(services_for(settings, engine), END_OF_OCTOBER)  # a re-run replaces the day
    with session_factory.begin() as session:  # November, after the snapshots: A leaves U1
        session.get(Account, "A").owner_user_id = "U3"  # type: ignore[union-attr]

    services = services_for(settings, engine)
    sep = compute_metrics(services, LATER, Period.month(2026, 9), "en")
    oct_ = compute_metrics(services, LATER, Period.month(2026, 10), "en")
    nov = compute_metrics(services, LATER, Period.month(2026, 11), "en")
    assert (sep.book_as_of, sep.book.accounts, sep.book.per_csm) == (
        date(2026, 9, 30), 2, {"U1": 2})
    assert sep.book.by_touch_model == {"high": 1, "low": 1}
    assert (oct_.book_as_of, oct_.book.per_csm) == (date(2026, 10, 31), {"U1": 1, "U2": 2})
    assert oct_.book.mean_per_csm == 1.5
    assert nov.book_as_of is None and nov.book.per_csm == {"U2": 2, "U3": 1}  # live, as of now
    assert "Accounts (live, as of 2026-10-31, from the daily snapshot)" in render_text(oct_, "en")
    assert "Accounts (live, as of now)" in render_text(nov, "en")
    assert "アカウント（稼働中、2026-10-31 時点、日次スナップショットより）" in render_text(
        compute_metrics(services, LATER, Period.month(2026, 10), "ja"), "ja")
    with session_factory() as session:
        days = session.scalar(select(func.count(func.distinct(BookSnapshot.day))))
        assert days == 2
