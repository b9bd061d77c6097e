"""One leader among replicas: the database lease, and the scheduler that obeys it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from core.rules_config import JobsConfig, RulesConfigError, load_rules
from core.settings import Settings
from jobs.lease import LeaderLease
from jobs.scheduler import LeaderScheduler, build_scheduler, next_runs
from tests.cs.alerts_support import (
    NOW,
    Clock,
    account_row,
    alerts,
    client_for,
    job_context,
    seed,
    usage_rows,
)
from tests.slack_stub import SlackStub


def test_two_replicas_on_one_database_elect_one_leader(
    session_factory: sessionmaker[Session],
) -> None:
    a, b = LeaderLease(session_factory, "replica-a"), LeaderLease(session_factory, "replica-b")

    assert a.try_acquire(NOW) is True
    assert b.try_acquire(NOW) is False
    assert a.try_acquire(NOW + timedelta(seconds=20)) is True  # the heartbeat renews it
    assert b.try_acquire(NOW + timedelta(seconds=70)) is False  # renewed: still a's


def test_a_dead_leaders_lease_expires_and_another_replica_takes_over(
    session_factory: sessionmaker[Session],
) -> None:
    a, b = LeaderLease(session_factory, "replica-a"), LeaderLease(session_factory, "replica-b")
    a.try_acquire(NOW)

    assert b.try_acquire(NOW + timedelta(seconds=61)) is True
    assert a.try_acquire(NOW + timedelta(seconds=62)) is False  # came back too late


def test_clean_shutdown_hands_the_lease_over_at_once(
    session_factory: sessionmaker[Session],
) -> None:
    a, b = LeaderLease(session_factory, "replica-a"), LeaderLease(session_factory, "replica-b")
    a.try_acquire(NOW)
    a.release(NOW + timedelta(seconds=1))

    assert b.try_acquire(NOW + timedelta(seconds=2)) is True


def test_replicas_racing_for_a_fresh_lease_get_exactly_one_leader(
    session_factory: sessionmaker[Session],
) -> None:
    leases = [LeaderLease(session_factory, f"replica-{i}") for i in range(4)]
    won: list[str] = []
    barrier = threading.Barrier(len(leases))

    def race(lease: LeaderLease) -> None:
        barrier.wait()
        if lease.try_acquire(NOW):
            won.append(lease.holder)

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(won) == 1


def _scheduler(settings: Settings, factory: sessionmaker[Session], holder: str,
               client: object = None) -> LeaderScheduler:
    services = job_context(settings, factory, client, now=Clock())  # type: ignore[arg-type]
    return LeaderScheduler(services, LeaderLease(factory, holder))


def test_only_the_leader_runs_a_job_and_the_alert_is_posted_once(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    one = _scheduler(alert_settings, session_factory, "replica-a", client_for(stub))
    two = _scheduler(alert_settings, session_factory, "replica-b", client_for(stub))

    ran = [one.run("at_risk", NOW), two.run("at_risk", NOW)]
    again = [two.run("at_risk", NOW + timedelta(seconds=30)),
             one.run("at_risk", NOW + timedelta(seconds=40))]

    assert ran[0] is not None and ran[1] is None and again[0] is None
    assert one.is_leader and not two.is_leader
    assert len(alerts(session_factory)) == 1
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_jobs_have_fixed_ids_never_overlap_and_coalesce_missed_runs(
    alert_settings: Settings, session_factory: sessionmaker[Session],
) -> None:
    scheduler = _scheduler(alert_settings, session_factory, "replica-a")

    jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}

    assert {"at_risk", "contact_changes", "renewals", "digest", "deliver", "cs_digest",
            "housekeeping"} <= set(jobs)
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True
        assert job.misfire_grace_time == 3600


def test_scheduler_starts_and_stops_cleanly_and_releases_its_lease(
    alert_settings: Settings, engine: object, session_factory: sessionmaker[Session],
) -> None:
    clock = Clock()
    first = build_scheduler(job_context(alert_settings, session_factory, None, now=clock))
    first.start()
    try:
        assert first.is_leader and first.scheduler.running
    finally:
        first.shutdown(wait=True)
    assert not first.scheduler.running
    assert LeaderLease(session_factory, "next").try_acquire(clock()) is True


def test_next_run_times_are_in_the_configured_time_zone(
    alert_settings: Settings, session_factory: sessionmaker[Session],
) -> None:
    services = job_context(alert_settings, session_factory, None)

    runs = {job.name: at for job, _cron, at in next_runs(services, NOW)}  # Wed 10:00 JST

    assert runs["at_risk"] == datetime.fromisoformat("2026-11-26T09:00:00+09:00")
    assert runs["expansion"] == datetime.fromisoformat("2026-11-30T10:00:00+09:00")


def test_a_schedule_with_a_bad_cron_or_unknown_job_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(ValidationError, match=r"schedules.at_risk\n.*bad cron 'every morning'"):
        JobsConfig.model_validate({"schedules": {"at_risk": "every morning"}})
    with pytest.raises(ValidationError, match=r"schedules.at_rsik\n.*Extra inputs are not"):
        JobsConfig.model_validate({"schedules": {"at_rsik": "0 9 * * *"}})


def test_schedules_come_from_the_rules_file(
    alert_settings: Settings, session_factory: sessionmaker[Session], tmp_path: object,
) -> None:
    from pathlib import Path

    override = Path(str(tmp_path)) / "rules.yaml"
    override.write_text('jobs:\n  schedules:\n    at_risk: "15 8 * * *"\n    expansion: "off"\n',
                        encoding="utf-8")
    settings = alert_settings.model_copy(update={"rules_file": override})

    services = job_context(settings, session_factory, None)

    assert services.rules.jobs.schedules.at_risk == "15 8 * * *"
    assert services.rules.jobs.schedules.renewals == "0 9 * * mon-fri"  # others keep defaults
    scheduled = LeaderScheduler(services, LeaderLease(session_factory, "a")).scheduled
    assert "at_risk" in scheduled and "expansion" not in scheduled
    with pytest.raises(RulesConfigError):
        override.write_text("jobs: [", encoding="utf-8")
        load_rules(override)


def test_daily_housekeeping_forgets_old_slack_event_ids_only_on_the_leader(
    alert_settings: Settings, session_factory: sessionmaker[Session],
) -> None:
    from bot.dedupe import claim_message
    from bot.models import SlackEventSeen

    assert claim_message(session_factory, "C1", "1.000001", NOW - timedelta(days=10))
    assert claim_message(session_factory, "C1", "2.000001", NOW - timedelta(hours=1))
    leader = build_scheduler(job_context(alert_settings, session_factory, None, now=Clock(NOW)))
    follower = _scheduler(alert_settings, session_factory, "replica-b")

    assert "housekeeping" in leader.scheduled
    done = leader.run("housekeeping", NOW)
    assert done is not None and done.summary() == "housekeeping: 1 Slack event id forgotten"
    assert follower.run("housekeeping", NOW) is None
    with session_factory() as session:
        assert [row.ts for row in session.query(SlackEventSeen)] == ["2.000001"]
