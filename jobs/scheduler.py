"""APScheduler behind the database leader lease (jobs.lease): with several replicas, one runs
the jobs.

Every replica schedules every job of jobs.registry; each run first renews the lease and skips
unless it holds it, so a replica that lost the lease (a long GC pause, a network split) stops at
its next run. Beside the registered jobs, two intervals: the outbox worker (`deliver`) and the
lease heartbeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from core.services import Services
from jobs.alert_jobs import outbox
from jobs.lease import LeaderLease, default_holder
from jobs.registry import JOBS, Job
from jobs.runner import Outcome, recorded

log = logging.getLogger(__name__)

HEARTBEAT_ID = "_lease_heartbeat"
DELIVER_ID = "deliver"


def cron_trigger(cron: str, timezone: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=timezone)


def next_runs(services: Services, now: datetime) -> list[tuple[Job, str | None, datetime | None]]:
    """(job, cron, next run) for every job; unscheduled jobs show None."""
    rows = []
    for job in JOBS:
        cron = job.schedule(services)
        at = cron_trigger(cron, services.timezone).get_next_fire_time(None, now) if cron else None
        rows.append((job, cron, at))
    return rows


class LeaderScheduler:
    """`start()` / `shutdown(wait=True)`; jobs run only while this replica holds the lease."""

    def __init__(self, services: Services, lease: LeaderLease,
                 jobs: tuple[Job, ...] = JOBS) -> None:
        self.services = services
        self.lease = lease
        self._clock: Callable[[], datetime] = services.now
        self._leader = False
        self._jobs = {job.name: job for job in jobs}
        config = services.rules.jobs
        self.scheduler = BackgroundScheduler(timezone=services.timezone)
        self._job_options = {
            "coalesce": True,  # a run missed while down happens once, not N times
            "max_instances": 1,  # a slow run is never overlapped by the next one
            "misfire_grace_time": config.misfire_grace_seconds,
            "replace_existing": True,
        }
        self._add_jobs(config.deliver_every_seconds)

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def scheduled(self) -> list[str]:
        return [job.id for job in self.scheduler.get_jobs() if not job.id.startswith("_")]

    def _add_jobs(self, deliver_every: int) -> None:
        options = self._job_options
        for job in self._jobs.values():
            cron = job.schedule(self.services)
            if cron is None:
                continue
            self.scheduler.add_job(self.run, cron_trigger(cron, self.services.timezone),
                                   args=[job.name], id=job.name, name=job.name, **options)
        self.scheduler.add_job(self.deliver, "interval", id=DELIVER_ID, name=DELIVER_ID,
                               seconds=deliver_every, **options)
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

    def run(self, name: str, now: datetime | None = None) -> Outcome | None:
        """Run one job if this replica leads (renewing the lease first, as a fence). A failure
        is counted and logged by the run wrapper and never stops the scheduler."""
        now = now or self._clock()
        if not self.heartbeat(now):
            log.debug("not the scheduler leader; skipping", extra={"job": name})
            return None
        job = self._jobs[name]
        try:
            return recorded(name, lambda: job.run(self.services, now))
        except Exception:
            log.exception("scheduled job failed", extra={"job": name})
            return None

    def deliver(self, now: datetime | None = None) -> None:
        now = now or self._clock()
        if self.heartbeat(now):
            outbox(self.services).deliver_all(now)

    def start(self) -> None:
        self.heartbeat()
        self.scheduler.start()
        log.info("scheduler started", extra={"holder": self.lease.holder,
                                             "leader": self._leader,
                                             "jobs": ",".join(self.scheduled)})

    def run_jobs_now(self) -> None:
        """Bring every alert job's next run forward to now (`banso serve --demo` shows alerts
        at once instead of at tomorrow's 09:00); the leader check and outbox still apply."""
        now = datetime.now(self.services.timezone)
        for name in self.services.rules.jobs.schedules.active():
            if self.scheduler.get_job(name) is not None:
                self.scheduler.modify_job(name, next_run_time=now)

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if self._leader:
            self.lease.release(self._clock())
            self._leader = False


def build_scheduler(services: Services) -> LeaderScheduler:
    """The scheduler `banso serve` starts."""
    return LeaderScheduler(services, LeaderLease(services.session_factory, default_holder()))
