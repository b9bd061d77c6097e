"""The KPI room's scheduled jobs: the weekly CS and curation digests.

Each job is a plain function `(settings, session_factory, client, now) -> DigestResult`.
`add_weekly_jobs` puts them on the alert scheduler (jobs.alerts.scheduler) at
`settings.digest_cron`; like the alert jobs, a run first renews the leader lease and skips
unless this replica holds it, so one replica sends each digest once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from banso.settings import Settings
from jobs.kpis.digest import DigestResult, send_cs_digest, send_curation_digest

log = logging.getLogger(__name__)

DigestJob = Callable[[Settings, sessionmaker[Session], WebClient | None, datetime], DigestResult]

WEEKLY_JOBS: dict[str, DigestJob] = {
    "cs_digest": send_cs_digest,
    "curation_digest": send_curation_digest,
}
DESCRIPTIONS = {
    "cs_digest": "weekly CS digest (KPIs vs last period, chart, accounts needing attention)",
    "curation_digest": "weekly curation digest (gaps, down-votes, stale entries, drafts)",
}
MISFIRE_GRACE_SECONDS = 3600  # a digest missed by less (a restart) is still sent, once


class Leader(Protocol):
    """The part of jobs.alerts.scheduler.LeaderScheduler the digests use."""

    scheduler: BaseScheduler

    def heartbeat(self, now: datetime | None = None) -> bool: ...


class DigestServices(Protocol):
    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def slack(self) -> WebClient | None: ...

    @property
    def now(self) -> Callable[[], datetime]: ...


def run_weekly(name: str, leader: Leader, settings: Settings, services: DigestServices,
               now: datetime | None = None) -> DigestResult | None:
    """Run one digest if this replica leads; a failure is logged, never kills the scheduler."""
    now = now or services.now()
    if not leader.heartbeat(now):
        log.debug("not the scheduler leader; skipping", extra={"job": name})
        return None
    try:
        return WEEKLY_JOBS[name](settings, services.session_factory, services.slack, now)
    except Exception:
        log.exception("weekly digest failed", extra={"job": name})
        return None


def add_weekly_jobs(leader: Leader, settings: Settings, services: DigestServices) -> list[str]:
    """Schedule both digests at settings.digest_cron (none when it is empty); their job ids."""
    if not settings.digest_cron.strip():
        return []
    try:
        trigger = CronTrigger.from_crontab(settings.digest_cron, timezone=settings.timezone)
    except ValueError as exc:
        raise ValueError(f"BANSO_DIGEST_CRON: bad cron {settings.digest_cron!r}: {exc}") from None
    for name in WEEKLY_JOBS:
        leader.scheduler.add_job(
            run_weekly, trigger, args=[name, leader, settings, services], id=name, name=name,
            coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE_SECONDS,
            replace_existing=True,
        )
    return list(WEEKLY_JOBS)
