"""The alert jobs: assess every live account, let selection and the state machine decide,
queue what Slack should see, then send it.

A failing account is isolated (its savepoint rolls back, the others commit); a dry run does all
of it inside a transaction that is rolled back and reports what would have been posted. The
timing, metrics and log line of every run are the one run wrapper's (jobs.runner).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.i18n import Lang
from core.services import Services
from core.slack import text
from cs.accounts.models import Account, ContactChange
from cs.accounts.service import facts_for
from cs.alerts import cards
from cs.alerts.details import card_details, with_details
from cs.alerts.digest import build_digests, page_message
from cs.alerts.models import Alert, AlertKind, AlertStatus, DigestPage, OutboxMessage, OutboxOp
from cs.alerts.outbox import DeliveryReport, Outbox, outbox_for
from cs.alerts.parallel import BookSelector, Chunk, select_chunk
from cs.alerts.selection import SelectionContext
from cs.alerts.service import (
    AlertCandidate,
    ReconcileResult,
    begin_write,
    current_alerts,
    end_state,
    fired_keys,
    reconcile,
)
from cs.community.activity import sync_activity, window_activity
from cs.rules.rules import Assessor

log = logging.getLogger(__name__)

COMMIT_EVERY = 2000  # accounts per transaction in a real run (at least)
CHUNK = 500  # accounts assessed, then reconciled with one prefetch of their alerts
ANALYZE_EVERY = 2000  # new alerts between statistics refreshes on PostgreSQL

# Alert jobs: the kinds each one speaks for. A job only opens/resolves alerts of its kinds.
ALERT_JOBS: dict[str, tuple[AlertKind, ...]] = {
    "at_risk": (AlertKind.AT_RISK,),
    "contact_changes": (AlertKind.CONTACT_CHANGE,),
    "renewals": (AlertKind.RENEWAL, AlertKind.RENEWAL_THANKS),
    "onboarding": (AlertKind.ONBOARDING,),
    "expansion": (AlertKind.EXPANSION,),
    "cadence": (AlertKind.CADENCE,),
    "support_friction": (AlertKind.SUPPORT_FRICTION,),
}
DIGEST_JOB = "digest"  # the day's tech-touch digest per channel
DESCRIPTIONS = {
    "at_risk": "at-risk accounts, worst first, with the reasons",
    "contact_changes": "primary-contact changes (also sent at import time)",
    "renewals": "renewal reminders (120/90/60/30 days) and thank-you after renewal",
    "onboarding": "onboarding check-ins in the first 60 days",
    "expansion": "expansion candidates",
    "cadence": "touch-model cadence reminders (monthly call, meetings)",
    "digest": "the day's tech-touch digest per channel",
    "support_friction": "accounts whose members' questions go unanswered or escalated",
}


def outbox(services: Services) -> Outbox:
    return outbox_for(services, services.slack)


def selection(services: Services, now: datetime) -> SelectionContext:
    """What alert selection reads besides an assessment, with `now` in the team's time zone."""
    jobs = services.rules.jobs
    return SelectionContext(rules=services.rules, now=now.astimezone(services.timezone),
                            default_channel=services.settings.csm_channel,
                            onboarding_checkins=jobs.onboarding_checkins, lang=jobs.lang,
                            account_url_template=services.settings.account_url_template)


NO_CHANNEL = "no channel set: BANSO_CSM_CHANNEL (or the account's csm_channel)"


@dataclass(frozen=True)
class PlannedMessage:
    """A message a run queued (what a dry run prints): `card` is the message as plain text."""

    op: str
    channel: str | None
    account_id: str | None
    kind: str | None
    dedupe_key: str
    card: str = ""

    def describe(self) -> str:
        who = f"{self.kind} {self.account_id}" if self.account_id else self.dedupe_key
        return f"{self.op:<13} {self.channel or '(no channel)':<12} {who}"

    def as_read(self) -> str:
        """What a person would see: where it goes, then the card as it reads in Slack."""
        where = f"to {self.channel}" if self.channel else f"nowhere ({NO_CHANNEL})"
        head = f"{self.op} {where}: " + (
            f"{self.kind} {self.account_id}" if self.account_id else self.dedupe_key)
        if not self.card:
            return head
        return head + "\n" + "\n".join(f"  │ {line}" for line in self.card.splitlines())


@dataclass
class JobReport:
    job: str
    dry_run: bool = False
    accounts: int = 0
    failed_accounts: list[str] = field(default_factory=list)
    alerts: ReconcileResult = field(default_factory=ReconcileResult)
    planned: list[PlannedMessage] = field(default_factory=list)
    delivery: DeliveryReport | None = None
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        return "partial" if self.failed_accounts else "ok"

    def summary(self) -> str:
        a = self.alerts
        return (f"{self.job}: {self.accounts} accounts, {len(a.opened)} opened, "
                f"{len(a.updated)} updated, {len(a.resolved)} resolved, "
                f"{len(a.resurfaced)} resurfaced, {len(self.failed_accounts)} failed, "
                f"{len(self.planned)} messages queued in {self.seconds:.2f}s"
                + (" (dry run: nothing written)" if self.dry_run else ""))


def run_alert_job(name: str, services: Services, now: datetime, *, dry_run: bool = False,
                  deliver: bool = True) -> JobReport:
    """One alert job (a key of ALERT_JOBS, or DIGEST_JOB), then send what it queued.

    `dry_run` does all of it inside a transaction that is rolled back and reports what would
    have been posted. Timing and metrics are the run wrapper's (jobs.runner)."""
    report = JobReport(job=name, dry_run=dry_run)
    started = time.monotonic()
    if name != DIGEST_JOB and not dry_run:
        # Health reads members' latest questions, 👍/👎 and escalations (cs.community).
        sync_activity(services, now)
    with services.session_factory() as session:
        _run_in_session(session, name, services, now, report, dry_run)
    if deliver and not dry_run:
        report.delivery = outbox(services).deliver_all(now)
        if services.slack is None:
            _log_unsent(name, report.planned)
    report.seconds = time.monotonic() - started
    return report


LOGGED_CARDS = 20  # per run: the rest are one `banso jobs run NAME --dry-run` away


def _log_unsent(name: str, planned: list[PlannedMessage]) -> None:
    """Without Slack the cards wait in the outbox; the log shows each as a person reads it
    (one line, clipped), so a team trying Banso sees what its CSMs would get."""
    cards = [p for p in planned if p.card]
    for message in cards[:LOGGED_CARDS]:
        text = " | ".join(line for line in message.card.splitlines() if line.strip())
        log.info("alert stored, Slack not connected (set SLACK_BOT_TOKEN): %s", text[:600],
                 extra={"job": name, "channel": message.channel, "kind": message.kind})
    if len(cards) > LOGGED_CARDS:
        log.info("%d more alert cards stored; `banso jobs run %s --dry-run` shows them all",
                 len(cards) - LOGGED_CARDS, name, extra={"job": name})


def _run_in_session(session: Session, name: str, services: Services, now: datetime,
                    report: JobReport, dry_run: bool) -> None:
    # A dry run is one transaction rolled back at the end; a real run commits every
    # COMMIT_EVERY accounts so the write lock (SQLite) is never held for a whole long run.
    batch = None if dry_run else COMMIT_EVERY
    begin_write(session, immediate=not dry_run)
    first_new = _next_outbox_id(session)
    try:
        if name == DIGEST_JOB:
            build_digests(session, now.astimezone(services.timezone).date(), now)
        else:
            _assess_all(session, ALERT_JOBS[name], services, now, report, batch)
        # Cards as text only for whoever reads them: a dry run, or the log when Slack is off.
        as_text = dry_run or services.slack is None
        report.planned = _planned(session, first_new, services.lang, as_text)
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()


def _assess_all(session: Session, kinds: tuple[AlertKind, ...], services: Services, now: datetime,
                report: JobReport, commit_every: int | None) -> None:
    seen: set[str] = set()
    context = selection(services, now)
    assess = Assessor(services.rules, context.lang)
    # Facts stream from their own session: committing the writes every few hundred accounts
    # must not close the connection the reader is paging through.
    analyzed_at = done = committed = 0
    select_all = BookSelector(assess, kinds, context, chunk=CHUNK,
                              parallel_after=services.settings.job_parallel_after)
    with services.session_factory() as reader:
        community = window_activity(reader, context.now, services.rules.health.measures.community,
                                    details_from=services.rules.risk.support_friction_questions)
        for chunk in select_all(reader, community):
            seen.update(chunk.account_ids)
            _chunk(session, chunk, kinds, context, now, report)
            done += len(chunk.account_ids)
            if commit_every and done - committed >= commit_every:
                committed = done
                session.commit()
                session.expunge_all()  # done with these rows: keep memory flat
                analyzed_at = _refresh_stats(session, report, analyzed_at)
    begin_write(session, immediate=commit_every is not None)
    _end_for_gone_accounts(session, kinds, seen, now, report)


def _refresh_stats(session: Session, report: JobReport, analyzed_at: int) -> int:
    """ANALYZE the alert tables on PostgreSQL after each few thousand new alerts.

    Measured: while `alerts` still had the statistics of an empty table, the FK check of each
    outbox INSERT (a cached plan) seq-scanned `alerts`, ~2 ms per row at 40k rows, tripling a
    first run. ANALYZE refreshes the estimates and invalidates those plans (~50 ms).
    """
    opened = len(report.alerts.opened)
    if session.get_bind().dialect.name != "postgresql" or opened - analyzed_at < ANALYZE_EVERY:
        return analyzed_at
    session.execute(sql("ANALYZE alerts, alert_outbox"))
    session.commit()
    return opened


def _chunk(session: Session, chunk: Chunk, kinds: tuple[AlertKind, ...],
           selection: SelectionContext, now: datetime, report: JobReport) -> None:
    """A chunk's selection (pure, cs.alerts.parallel) reconciled with the database, which is
    touched only for accounts with something to do: most accounts have no candidate and no
    current alert, and cost no query of their own."""
    report.accounts += len(chunk.account_ids)
    found: list[tuple[str, list[AlertCandidate]]] = []
    for account_id, candidates in zip(chunk.account_ids, chunk.selected, strict=True):
        if candidates is None:
            report.failed_accounts.append(account_id)  # logged by select_one
        else:
            found.append((account_id, candidates))
    begin_write(session)
    details = card_details(session, (c for _, found_ in found for c in found_), selection.now)
    found = [(account_id, [with_details(c, details.get(c.account_id)) for c in candidates])
             for account_id, candidates in found]
    current = current_alerts(session, chunk.account_ids, kinds)
    day = selection.now.date().isoformat()
    fired = fired_keys(session, [key for key, candidates in found if candidates], kinds)
    todo = [(account_id, candidates, current.get(account_id, {}))
            for account_id, candidates in found if candidates or account_id in current]
    result = ReconcileResult()
    try:
        # One savepoint for the chunk: PostgreSQL slows down badly past 64 subtransactions
        # in one transaction, so per-account savepoints are only the fallback below.
        with session.begin_nested():
            for account_id, candidates, mine in todo:
                result.add(reconcile(session, account_id, kinds, candidates, now, day,
                                     mine, fired, one_card=True))
    except Exception:
        log.warning("alert chunk failed; retrying its accounts one by one", exc_info=True)
        for account_id, candidates, _ in todo:
            _reconcile_one(session, account_id, kinds, candidates, now, day, report)
        return
    report.alerts.add(result)


def _reconcile_one(session: Session, account_id: str, kinds: tuple[AlertKind, ...],
                   candidates: list[AlertCandidate], now: datetime, day: str,
                   report: JobReport) -> None:
    try:
        with session.begin_nested():
            report.alerts.add(reconcile(session, account_id, kinds, candidates, now, day,
                                        one_card=True))
    except IntegrityError:
        # Another writer (the import path) opened the same alert first: the next run sees it.
        log.info("alert opened concurrently; skipped", extra={"account_id": account_id})
    except Exception:
        # One account's data error must not stop the others.
        log.exception("alert reconcile failed for one account",
                      extra={"account_id": account_id})
        report.failed_accounts.append(account_id)


def _end_for_gone_accounts(session: Session, kinds: tuple[AlertKind, ...], seen: set[str],
                           now: datetime, report: JobReport) -> None:
    """Alerts of accounts no longer live (churned, deleted from the import) end with them."""
    active = session.scalars(select(Alert).where(
        Alert.kind.in_([k.value for k in kinds]), Alert.status != AlertStatus.RESOLVED.value))
    for alert in active:
        if alert.account_id not in seen:
            end_state(session, alert, now, report.alerts)


def _next_outbox_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0))) or 0) + 1


def _planned(session: Session, first_id: int, lang: Lang,
             as_text: bool) -> list[PlannedMessage]:
    session.flush()
    rows = session.execute(
        select(OutboxMessage, Alert)
        .outerjoin(Alert, Alert.id == OutboxMessage.alert_id)
        .where(OutboxMessage.id >= first_id).order_by(OutboxMessage.id))
    return [PlannedMessage(row.op, row.channel, alert.account_id if alert else None,
                           alert.kind if alert else None, row.dedupe_key,
                           _card_text(session, row, alert, lang) if as_text else "")
            for row, alert in rows]


def _card_text(session: Session, row: OutboxMessage, alert: Alert | None, lang: Lang) -> str:
    """The card as the outbox would render it now (new cards and digests), as plain text."""
    if row.op == OutboxOp.POST_ALERT.value and alert is not None:
        return text.render(cards.render(session, alert, lang).blocks)
    if row.op == OutboxOp.DIGEST.value:
        page = DigestPage.model_validate(row.payload)
        return text.render(page_message(session, page, lang).blocks)
    return ""


def alert_contact_changes(services: Services, change_ids: list[int], now: datetime) -> JobReport:
    """Alert at once on freshly imported contact changes (the import paths call this)."""
    report = JobReport(job="contact_changes")
    kinds = ALERT_JOBS["contact_changes"]
    context = selection(services, now)
    with services.session_factory() as session:
        begin_write(session)
        # In account id order, as the jobs go: writers that lock rows and claim cards in one
        # order never deadlock each other.
        accounts = session.scalars(
            select(ContactChange.account_id).where(ContactChange.id.in_(change_ids)).distinct()
            .order_by(ContactChange.account_id)
        ).all()
        community = window_activity(session, context.now,
                                    services.rules.health.measures.community, accounts)
        facts = [facts_for(session, account_id, context.now, community.get(account_id))
                 for account_id in accounts if session.get(Account, account_id) is not None]
        assess = Assessor(services.rules, context.lang)
        _chunk(session, select_chunk(assess, facts, kinds, context), kinds, context, now, report)
        session.commit()
    report.delivery = outbox(services).deliver_all(now)
    return report
