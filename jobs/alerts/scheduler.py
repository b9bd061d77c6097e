"""APScheduler behind a database leader lock: with several replicas, one runs the jobs.

The lock is a `scheduler_leases` row (holder id + expires_at) taken with an atomic conditional
UPDATE (free, expired, or already ours) or, when no row exists yet, an INSERT that the primary
key lets only one replica win. The holder renews it with a heartbeat; if a leader dies its lease
expires and another replica takes over within one TTL. Every replica schedules the jobs, and each
run first renews the lease and skips unless it holds it, so a replica that lost the lease (a long
GC pause, a network split) stops at its next run. Works the same on SQLite and PostgreSQL; the
replicas' clocks must agree to well within the TTL (NTP does).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from banso.db import session_scope
from banso.settings import Settings
from jobs.alerts.models import SchedulerLease
from jobs.alerts.scheduled import JOB_NAMES, JobContext, JobReport, run_job

if TYPE_CHECKING:  # banso.services loads the retriever's libraries; the CLI needs none of it
    from banso.services import Services

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)
HEARTBEAT_ID = "_lease_heartbeat"
DELIVER_ID = "deliver"
HOUSEKEEPING_ID = "housekeeping"
HOUSEKEEPING_CRON = "15 4 * * *"  # daily, in the quiet hours of the schedule's time zone


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LeaderLease:
    session_factory: sessionmaker[Session]
    holder: str
    name: str = LEASE_NAME
    ttl: timedelta = LEASE_TTL

    def try_acquire(self, now: datetime) -> bool:
        """Take or renew the lease; True if this holder has it until now + ttl."""
        lease = SchedulerLease
        with session_scope(self.session_factory) as session:
            taken = session.execute(
                update(lease)
                .where(lease.name == self.name,
                       or_(lease.holder == self.holder, lease.expires_at <= now))
                .values(holder=self.holder, expires_at=now + self.ttl,
                        acquired_at=case((lease.holder == self.holder, lease.acquired_at),
                                         else_=now))
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with session_scope(self.session_factory) as session:
                session.add(SchedulerLease(name=self.name, holder=self.holder,
                                           expires_at=now + self.ttl, acquired_at=now))
        except IntegrityError:
            return False  # another replica holds a live lease
        return True

    def release(self, now: datetime) -> None:
        """Hand over at once on a clean shutdown instead of making the others wait a TTL."""
        with session_scope(self.session_factory) as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(expires_at=now)
                .execution_options(synchronize_session=False)
            )


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))


def next_runs(ctx: JobContext, now: datetime) -> list[tuple[str, str | None, datetime | None]]:
    """(job, cron, next run) for every job; unscheduled jobs (no cron) show None."""
    rows = []
    for name in JOB_NAMES:
        cron = ctx.config.active_schedules.get(name)
        at = cron_trigger(cron, ctx.timezone).get_next_fire_time(None, now) if cron else None
        rows.append((name, cron, at))
    return rows


class LeaderScheduler:
    """`start()` / `shutdown(wait=True)`; jobs run only while this replica holds the lease."""

    def __init__(self, ctx: JobContext, lease: LeaderLease,
                 clock: Callable[[], datetime]) -> None:
        self.ctx = ctx
        self.lease = lease
        self._clock = clock
        self._leader = False
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(ctx.timezone))
        self._job_options = {
            "coalesce": True,  # a run missed while down happens once, not N times
            "max_instances": 1,  # a slow run is never overlapped by the next one
            "misfire_grace_time": ctx.config.misfire_grace_seconds,
            "replace_existing": True,
        }
        self._add_jobs()

    @property
    def is_leader(self) -> bool:
        return self._leader

    def _add_jobs(self) -> None:
        options = self._job_options
        for name, cron in self.ctx.config.active_schedules.items():
            self.scheduler.add_job(self.run, cron_trigger(cron, self.ctx.timezone), args=[name],
                                   id=name, name=name, **options)
        self.scheduler.add_job(self.deliver, "interval", id=DELIVER_ID, name=DELIVER_ID,
                               seconds=self.ctx.config.deliver_every_seconds, **options)
        self.scheduler.add_job(self.heartbeat, "interval", id=HEARTBEAT_ID, name=HEARTBEAT_ID,
                               seconds=max(int(self.lease.ttl.total_seconds() / 3), 1),
                               **options)

    def heartbeat(self, now: datetime | None = None) -> bool:
        try:
            leader = self.lease.try_acquire(now or self._clock())
        except Exception:
            # A database hiccup means we cannot prove we lead: stand down until it passes.
            log.exception("scheduler lease heartbeat failed")
            leader = False
        if leader != self._leader:
            log.info("scheduler leadership changed",
                     extra={"holder": self.lease.holder, "leader": leader})
        self._leader = leader
        return leader

    def run(self, name: str, now: datetime | None = None) -> JobReport | None:
        """Run one job if this replica leads (renewing the lease first, as a fence)."""
        now = now or self._clock()
        if not self.heartbeat(now):
            log.debug("not the scheduler leader; skipping", extra={"job": name})
            return None
        return run_job(name, self.ctx, now)

    def deliver(self, now: datetime | None = None) -> None:
        now = now or self._clock()
        if self.heartbeat(now):
            self.ctx.outbox.deliver_all(now)

    def start(self) -> None:
        self.heartbeat()
        self.scheduler.start()
        log.info("scheduler started", extra={"holder": self.lease.holder,
                                             "leader": self._leader,
                                             "jobs": ",".join(self.ctx.config.active_schedules)})

    def housekeeping(self, now: datetime | None = None) -> int:
        """Forget Slack event ids old enough that Slack can no longer retry them."""
        now = now or self._clock()
        if not self.heartbeat(now):
            return 0
        from bot.dedupe import forget_old

        with session_scope(self.ctx.session_factory) as session:
            deleted = forget_old(session, now)
        log.info("housekeeping done", extra={"slack_events_forgotten": deleted})
        return deleted

    def run_jobs_now(self) -> None:
        """Bring every alert job's next run forward to now (`banso serve --demo` shows alerts
        at once instead of at tomorrow's 09:00); the leader check and outbox still apply."""
        now = datetime.now(ZoneInfo(self.ctx.timezone))
        for name in self.ctx.config.active_schedules:
            self.scheduler.modify_job(name, next_run_time=now)

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if self._leader:
            self.lease.release(self._clock())
            self._leader = False


def build_scheduler(settings: Settings, services: Services) -> LeaderScheduler:
    """The scheduler `banso serve` starts: `build_scheduler(settings, services)`."""
    ctx = JobContext.build(settings, services.session_factory, services.slack)
    lease = LeaderLease(services.session_factory, default_holder())
    scheduler = LeaderScheduler(ctx, lease, services.now)
    from jobs.kpis.scheduled import add_weekly_jobs  # the weekly digests (jobs.kpis)

    add_weekly_jobs(scheduler, settings, services)
    scheduler.scheduler.add_job(
        scheduler.housekeeping, cron_trigger(HOUSEKEEPING_CRON, ctx.timezone),
        id=HOUSEKEEPING_ID, name=HOUSEKEEPING_ID, coalesce=True, max_instances=1,
        misfire_grace_time=3600, replace_existing=True,
    )
    return scheduler

