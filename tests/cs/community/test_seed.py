"""`banso demo seed` includes community activity: linked members, two months of questions, and
one high-touch account whose friction the support_friction job alerts on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.imports import register
from core.settings import Settings
from cs.alerts.models import Alert
from cs.community.models import CommunityQuestion
from jobs.alert_jobs import run_alert_job
from tests.services import services_for


def _seed(runner: CliRunner, app: typer.Typer) -> str:
    result = runner.invoke(app, ["demo", "seed", "--accounts", "60", "--seed", "7"])
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def test_demo_seed_has_community_activity_and_a_support_friction_account(
    settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "var"))
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    first = _seed(runner, app)
    assert "community:" in first and "members" in first
    with session_factory() as session:
        rows = session.scalar(select(func.count()).select_from(CommunityQuestion))
        accounts = session.scalar(select(func.count(func.distinct(
            CommunityQuestion.account_id))))
        weeks = session.scalar(select(func.count(func.distinct(CommunityQuestion.week))))
    assert rows and rows > 20 and accounts and accounts > 5 and weeks and weeks >= 6
    assert _seed(runner, app).split("; ")[1] == first.split("; ")[1]  # re-seeding replaces

    services = services_for(settings, session_factory.kw["bind"], now=lambda: datetime.now(UTC))
    run_alert_job("support_friction", services, services.now())
    with session_factory() as session:
        found = session.scalars(select(Alert).where(Alert.kind == "support_friction")).all()
    assert any(a.delivery == "card" and a.account_id.startswith("demo-") for a in found)
