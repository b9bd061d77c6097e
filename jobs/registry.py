"""Every job the scheduler runs, in one list: name, what it does, when, and how to run it.

`banso jobs list` shows this list and `banso jobs run NAME` runs any entry of it by hand; the
scheduler adds each entry with a schedule (jobs.scheduler). Schedules are cron in
settings.timezone: the alert jobs' come from the rules file (`jobs.schedules`), the weekly
digests' from BANSO_DIGEST_CRON, housekeeping's is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.rules_config import OFF
from core.services import Services
from jobs import alert_jobs, digests, housekeeping, kpi_snapshots
from jobs.runner import Outcome

Run = Callable[[Services, datetime], Outcome]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    schedule: Callable[[Services], str | None]  # its cron, or None: not scheduled
    run: Run


def _alert_job(name: str) -> Job:
    def run(services: Services, now: datetime) -> Outcome:
        return alert_jobs.run_alert_job(name, services, now)

    def schedule(services: Services) -> str | None:
        cron = getattr(services.rules.jobs.schedules, name)
        return None if cron == OFF else str(cron)

    return Job(name, alert_jobs.DESCRIPTIONS[name], schedule, run)


def _weekly(services: Services) -> str | None:
    return services.settings.digest_cron.strip() or None


JOBS: tuple[Job, ...] = (
    *(_alert_job(name) for name in (*alert_jobs.ALERT_JOBS, alert_jobs.DIGEST_JOB)),
    Job("cs_digest", "weekly CS digest (KPIs vs last period, chart, accounts needing "
        "attention)", _weekly, digests.send_cs_digest),
    Job("curation_digest", "weekly curation digest (gaps, down-votes, stale entries, drafts)",
        _weekly, digests.send_curation_digest),
    Job("housekeeping", "forget Slack event ids Slack can no longer retry",
        lambda _services: housekeeping.CRON, housekeeping.housekeeping),
    Job("book_snapshot", "store today's book (accounts per CSM, touch model, health band) for "
        "the KPIs of past months", lambda _services: kpi_snapshots.CRON,
        kpi_snapshots.snapshot_book),
)
BY_NAME = {job.name: job for job in JOBS}


class UnknownJobError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown job {name!r}: choose one of {', '.join(BY_NAME)}"
                         + _hint(name))


def _hint(name: str) -> str:
    """A name that is really a digest (or a misspelt job) gets pointed at the right command."""
    spelt = name.lower().replace("-", "_")
    if spelt in BY_NAME:
        return f" (did you mean {spelt!r}?)"
    for kind in ("curation", "cs"):
        if kind in spelt.split("_") and ("digest" in spelt or spelt == kind):
            return f"; to send or preview the weekly {kind} digest: banso digest {kind} [--dry-run]"
    if "digest" in spelt or "weekly" in spelt:
        return "; weekly digests: banso digest cs|curation [--dry-run]"
    return ""


def job(name: str) -> Job:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownJobError(name) from None
