"""The weekly digests on the alert scheduler: when they run, and only on the leader replica."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso.services import Services
from banso.settings import Settings
from jobs.alerts.scheduler import build_scheduler
from jobs.kpis.scheduled import run_weekly
from tests.jobs.test_digest import seed_book
from tests.slack_stub import SlackStub

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday


def services_for(settings: Settings, engine: Engine, session_factory: sessionmaker[Session],
                 stub: SlackStub) -> Services:
    return Services(settings=settings, engine=engine, session_factory=session_factory,
                    retriever=None,  # type: ignore[arg-type]  # digests never search
                    slack=WebClient(token="xoxb-test", base_url=stub.url), now=lambda: NOW)


def test_digests_are_scheduled_weekly_on_monday_morning_local_time(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    scheduler = build_scheduler(settings, services_for(settings, engine, session_factory, stub))
    jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
    for name in ("cs_digest", "curation_digest"):
        fire = jobs[name].trigger.get_next_fire_time(None, NOW)
        local = fire.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (local.date().isoformat(), local.hour, local.minute) == ("2026-11-30", 9, 30)
        assert jobs[name].max_instances == 1 and jobs[name].coalesce is True


def test_empty_cron_schedules_no_digest(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    settings = settings.model_copy(update={"digest_cron": ""})
    scheduler = build_scheduler(settings, services_for(settings, engine, session_factory, stub))
    assert {"cs_digest", "curation_digest"}.isdisjoint(j.id for j in scheduler.scheduler.get_jobs())


def test_only_the_leader_replica_sends_the_digest(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    seed_book(session_factory)
    settings = settings.model_copy(update={"csm_channel": "CCSM"})
    services = services_for(settings, engine, session_factory, stub)
    one, two = build_scheduler(settings, services), build_scheduler(settings, services)
    sent = run_weekly("cs_digest", one, settings, services, NOW)
    skipped = run_weekly("cs_digest", two, settings, services, NOW + timedelta(seconds=5))
    assert sent is not None and sent.sent and skipped is None
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_a_failing_digest_is_logged_and_the_scheduler_carries_on(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("health: [not, a, mapping\n", encoding="utf-8")
    settings = settings.model_copy(update={"csm_channel": "CCSM", "rules_file": broken})
    services = services_for(settings, engine, session_factory, stub)
    scheduler = build_scheduler(settings.model_copy(update={"rules_file": None}), services)
    assert run_weekly("cs_digest", scheduler, settings, services, NOW) is None
    assert "weekly digest failed" in caplog.text and "not valid YAML" in caplog.text
    assert stub.calls_to("chat.postMessage") == []
