"""Demo seed: deterministic, idempotent, covers every CS situation, consistent MRR history."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.imports import register
from core.rules_config import TouchModel, load_rules
from cs.accounts.models import (
    Account,
    Contact,
    ContactChange,
    MrrChange,
    Touchpoint,
    UsageSnapshot,
)
from cs.accounts.seed import build_demo, seed_demo
from cs.accounts.service import iter_facts
from cs.rules.models import Assessment, RiskKind
from cs.rules.rules import assess

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory.begin() as session:
        seed_demo(session, NOW, accounts=300, seed=42)
    return session_factory


def snapshot(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Table contents without surrogate ids, to compare two seeds."""
    with factory() as session:
        return {
            "accounts": sorted(session.execute(select(
                Account.id, Account.name, Account.mrr, Account.status, Account.renewal_date,
                Account.flags, Account.expansion_potential)).all()),
            "mrr": sorted(session.execute(select(
                MrrChange.account_id, MrrChange.effective_on, MrrChange.mrr_before,
                MrrChange.mrr_after, MrrChange.reason)).all()),
            "usage": sorted(session.execute(select(
                UsageSnapshot.account_id, UsageSnapshot.day, UsageSnapshot.active_users,
                UsageSnapshot.last_login_at)).all()),
            "changes": sorted(session.execute(select(
                ContactChange.account_id, ContactChange.new_email, ContactChange.changed_at,
                ContactChange.moved_to)).all(), key=repr),
            "contacts": sorted(session.execute(select(
                Contact.account_id, Contact.email, Contact.is_primary)).all()),
        }


def assessments(factory: sessionmaker[Session]) -> list[Assessment]:
    rules = load_rules()
    with factory() as session:
        return [assess(facts, NOW, rules) for facts in iter_facts(session, NOW)]


def test_same_seed_and_day_give_the_same_data_and_another_seed_does_not() -> None:
    assert build_demo(NOW, accounts=50, seed=7) == build_demo(NOW, accounts=50, seed=7)
    assert build_demo(NOW, accounts=50, seed=7) != build_demo(NOW, accounts=50, seed=8)


def test_reseeding_replaces_instead_of_duplicating(seeded: sessionmaker[Session]) -> None:
    before = snapshot(seeded)
    with seeded.begin() as session:
        seed_demo(session, NOW, accounts=300, seed=42)
    assert snapshot(seeded) == before
    with seeded.begin() as session:
        seed_demo(session, NOW, accounts=40, seed=42)
    with seeded() as session:
        assert len(session.scalars(select(Account.id)).all()) == 40


def test_demo_base_covers_every_situation_the_jobs_look_for(
    seeded: sessionmaker[Session],
) -> None:
    found = assessments(seeded)
    risks = {risk.kind for a in found for risk in a.risks}
    assert risks == set(RiskKind)
    assert {a.touch_model for a in found} == set(TouchModel)
    assert {120, 90, 60, 30} <= {a.days_to_renewal for a in found}
    assert any(a.phase == "onboarding" for a in found)
    assert any(a.expansion_candidate for a in found)
    assert any(a.cadence_due for a in found)
    assert any(a.facts.renewed_at and (NOW.date() - a.facts.renewed_at).days <= 14
               for a in found)
    with seeded() as session:
        moved = session.scalars(select(ContactChange.moved_to)).all()
        assert any(moved)
        names = session.scalars(select(Account.name)).all()
        assert all("株式会社" in name for name in names)
        assert len(set(names)) == len(names)


def test_mrr_log_is_a_consistent_history_of_13_months_or_more(
    seeded: sessionmaker[Session],
) -> None:
    with seeded() as session:
        log = session.scalars(select(MrrChange).order_by(MrrChange.effective_on,
                                                         MrrChange.id)).all()
        accounts = {a.id: a for a in session.scalars(select(Account))}
    by_account: dict[str, list[MrrChange]] = defaultdict(list)
    for change in log:
        by_account[change.account_id].append(change)
    for account_id, changes in by_account.items():
        live = 0
        for change in changes:
            assert change.mrr_before == live, account_id
            live = change.mrr_after
        account = accounts[account_id]
        assert live == (0 if account.status == "churned" else account.mrr), account_id
    reasons = {change.reason for change in log}
    assert reasons == {"new", "expansion", "contraction", "churn", "reactivation"}
    assert min(change.effective_on for change in log) <= date(2025, 10, 25)
    churned = [a for a in accounts.values() if a.status == "churned"]
    assert {a.churn_reason for a in churned} & {"couldnt_use", "low_usage", "no_roi"}
    assert {a.churn_reason for a in churned} - {"couldnt_use", "low_usage", "no_roi"}
    assert all(a.churn_date is not None for a in churned)


def test_usage_covers_the_last_30_days_of_live_accounts(
    seeded: sessionmaker[Session],
) -> None:
    with seeded() as session:
        days = set(session.scalars(select(UsageSnapshot.day)))
        churned = set(session.scalars(select(Account.id).where(Account.status == "churned")))
        with_usage = set(session.scalars(select(UsageSnapshot.account_id)))
    assert max(days) == NOW.date()
    assert (NOW.date() - min(days)).days == 30
    assert not churned & with_usage


def test_demo_seed_command_seeds_the_configured_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    session_factory: sessionmaker[Session],
) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL", database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BANSO_CONFIG", raising=False)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["demo", "seed", "--accounts", "25", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "demo data: 25 accounts" in result.stdout
    with session_factory() as session:
        assert len(session.scalars(select(Account.id)).all()) == 25


def test_new_personal_touch_accounts_get_a_kickoff_and_tech_touch_gets_no_touches(
    seeded: sessionmaker[Session],
) -> None:
    with seeded() as session:
        live = session.scalars(select(Account).where(Account.status == "active")).all()
        kickoffs = set(session.scalars(select(Touchpoint.account_id)
                                       .where(Touchpoint.note == "キックオフ")))
        touched = set(session.scalars(select(Touchpoint.account_id)))
    # The demo tier shows in the plan: ライト is the tech-touch tier.
    personal_new = {a.id for a in live if a.plan != "ライト"
                    and 6 <= (NOW.date() - a.contract_start).days <= 400}
    tech = {a.id for a in live if a.plan == "ライト"}
    assert personal_new and personal_new <= kickoffs
    assert tech and not tech & touched
