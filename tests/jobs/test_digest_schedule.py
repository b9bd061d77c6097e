"""The weekly digests on the scheduler: when they run, only on the leader replica, and what a
failing one leaves behind (a log line and an error in /metrics, the scheduler going on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.metrics import JOB_RUNS
from core.services import Services
from core.settings import Settings
from jobs.scheduler import build_scheduler
from tests.cs.kpis.test_digest import seed_book
from tests.services import services_for
from tests.slack_stub import SlackStub

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday


def _services(settings: Settings, engine: Engine, stub: SlackStub) -> Services:
    return services_for(settings, engine, slack=WebClient(token="xoxb-test", base_url=stub.url),
                        now=lambda: NOW)


def test_digests_are_scheduled_weekly_on_monday_morning_local_time(
    settings: Settings, engine: Engine, stub: SlackStub
) -> None:
    scheduler = build_scheduler(_services(settings, engine, stub))
    jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
    for name in ("cs_digest", "curation_digest"):
        fire = jobs[name].trigger.get_next_fire_time(None, NOW)
        local = fire.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (local.date().isoformat(), local.hour, local.minute) == ("2026-11-30", 9, 30)
        assert jobs[name].max_instances == 1 and jobs[name].coalesce is True


def test_empty_cron_schedules_no_digest(settings: Settings, engine: Engine,
                                        stub: SlackStub) -> None:
    settings = settings.model_copy(update={"digest_cron": ""})
    scheduler = build_scheduler(_services(settings, engine, stub))
    assert {"cs_digest", "curation_digest"}.isdisjoint(scheduler.scheduled)


def test_only_the_leader_replica_sends_the_digest(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    seed_book(session_factory)
    services = _services(settings.model_copy(update={"csm_channel": "CCSM"}), engine, stub)
    one, two = build_scheduler(services), build_scheduler(services)
    sent = one.run("cs_digest", NOW)
    skipped = two.run("cs_digest", NOW + timedelta(seconds=5))
    assert sent is not None and sent.outcome == "ok" and skipped is None
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_a_failing_digest_is_logged_counted_and_the_scheduler_carries_on(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_book(session_factory)
    services = _services(settings.model_copy(update={"csm_channel": "CCSM"}), engine, stub)
    scheduler = build_scheduler(services)
    errors = JOB_RUNS.labels("cs_digest", "error")
    before = errors._value.get()
    stub.fail_next("chat.postMessage", status=500, times=5)
    assert scheduler.run("cs_digest", NOW) is None
    assert "scheduled job failed" in caplog.text
    assert errors._value.get() == before + 1
    assert scheduler.run("curation_digest", NOW) is not None  # the next job still runs
