"""The outbox worker: claims pending messages atomically, sends them once, retries with backoff.

Claiming is one conditional UPDATE (`status` still claimable) over ids picked with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers, so the plain UPDATE is
already atomic there): two replicas never claim the same row. A row whose worker died mid-send
becomes claimable again after `CLAIM_SECONDS`.

Exactly once across ambiguous failures: every post carries its dedupe key as message metadata
(`cs.alerts.lookup`). Before each send the worker renews its claim and stamps `attempted_at`
(committed before the HTTP call). A timeout after the request went out, a reset connection or a
5xx leaves the stamp; so does a kill -9. The next worker to send that row first reads the
channel back and records the ts it finds instead of posting again. A sure refusal (429, an
`ok: false` answer, a refused connection) clears the stamp: nothing was posted.

Slack not configured (no client): rows are marked `held` with the reason and logged, never
dropped. Once a worker runs with a Slack client it sends held rows too, rendered from the
alert as it is then (a card resolved meanwhile is posted resolved, so nobody acts on it).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import session_scope
from core.i18n import Lang, t
from core.metrics import ALERTS_POSTED, ALERTS_RECOVERED
from core.services import Services
from cs.alerts import blocks, cards, digest
from cs.alerts.lookup import PostedIndex, metadata
from cs.alerts.models import Alert, Delivery, DigestPage, OutboxMessage, OutboxOp, OutboxStatus

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # the default of BANSO_OUTBOX_CLAIM_SECONDS
MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
NOT_CONFIGURED = "Slack not configured (no SLACK_BOT_TOKEN): held until it is"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at an hour: rides out Slack outages without hammering."""
    return timedelta(seconds=min(BASE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0),
                                 MAX_BACKOFF_SECONDS))


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    hold_reason: str | None = None

    def merge(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.held += other.held
        self.skipped += other.skipped
        self.hold_reason = other.hold_reason or self.hold_reason


class _Defer(Exception):
    """Not yet: the message this one goes in the thread of (a card, a digest) is not posted."""


class _Skip(Exception):
    """Nothing to send any more (e.g. an update of a card that was never posted)."""


class _Hold(Exception):
    """Cannot be sent until the operator configures something (the reason is the message)."""


@dataclass(frozen=True)
class Outbox:
    """The worker: `deliver(now)` sends what is due. `client` None = Slack not configured."""

    session_factory: sessionmaker[Session]
    client: WebClient | None
    lang: Lang = "ja"
    claim_seconds: int = CLAIM_SECONDS
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def deliver(
        self, now: datetime, limit: int = 100, alert_id: int | None = None
    ) -> DeliveryReport:
        report = DeliveryReport()
        token = f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
        claimed = self.claim(now, limit, alert_id, token=token)
        if self.client is None:
            self._hold_all(claimed, token, report)
        else:
            self._send_claimed(claimed, token, now, report, PostedIndex(self.client))
        if report.held:
            log.warning("alert messages held", extra={"count": len(report.held),
                                                      "reason": report.hold_reason})
        return report

    def _send_claimed(self, claimed: list[int], token: str, now: datetime,
                      report: DeliveryReport, posted: PostedIndex) -> None:
        started = time.monotonic()
        for row_id in claimed:
            # `now` moved on by the real time this batch took: slow sends renew the claim
            # from the moment they start, not from the start of the batch.
            at = now + timedelta(seconds=time.monotonic() - started)
            self._deliver_one(row_id, token, now, at, report, posted)

    def deliver_all(self, now: datetime, batch: int = 100) -> DeliveryReport:
        """Deliver batch after batch until nothing due is left (retries wait for their time)."""
        total = DeliveryReport()
        while True:
            report = self.deliver(now, limit=batch)
            total.merge(report)
            if not (report.sent or report.held or report.skipped or report.failed):
                return total

    def claim(self, now: datetime, limit: int, alert_id: int | None = None,
              token: str | None = None) -> list[int]:
        """Mark up to `limit` due rows as ours (one atomic UPDATE); returns their ids."""
        token = token or f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
        statuses = [OutboxStatus.PENDING.value]
        if self.client is not None:
            statuses.append(OutboxStatus.HELD.value)
        claimable = or_(
            and_(OutboxMessage.status.in_(statuses), OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == OutboxStatus.SENDING.value,
                 OutboxMessage.claimed_until < now),
        )
        if alert_id is not None:
            claimable = and_(claimable, OutboxMessage.alert_id == alert_id)
        # Worst first (a run's at-risk cards reach the channel in priority order); one alert's
        # rows share its priority, so its post still precedes its updates and thread lines.
        picked = (select(OutboxMessage.id)
                  .outerjoin(Alert, Alert.id == OutboxMessage.alert_id)
                  .where(claimable)
                  .order_by(Alert.priority.desc().nulls_last(), OutboxMessage.id)
                  .limit(limit).with_for_update(skip_locked=True, of=OutboxMessage))
        with session_scope(self.session_factory) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(picked.scalar_subquery()), claimable)
                .values(status=OutboxStatus.SENDING.value, claimed_by=token,
                        claimed_until=now + timedelta(seconds=self.claim_seconds))
                .execution_options(synchronize_session=False)
            )
        with session_scope(self.session_factory) as session:
            return list(session.scalars(
                select(OutboxMessage.id)
                .outerjoin(Alert, Alert.id == OutboxMessage.alert_id)
                .where(OutboxMessage.claimed_by == token,
                       OutboxMessage.status == OutboxStatus.SENDING.value)
                .order_by(Alert.priority.desc().nulls_last(), OutboxMessage.id)))

    def _take(self, row_id: int, token: str, now: datetime) -> tuple[bool, datetime | None]:
        """Renew our claim and stamp the attempt, committed before anything is sent.

        Returns (still ours, the stamp of an earlier unconfirmed attempt or None). The UPDATE is
        conditional on our claim, so a worker that took the row over meanwhile keeps it."""
        with session_scope(self.session_factory) as session:
            earlier = session.scalar(select(OutboxMessage.attempted_at)
                                     .where(OutboxMessage.id == row_id))
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == token,
                       OutboxMessage.status == OutboxStatus.SENDING.value)
                .values(claimed_until=now + timedelta(seconds=self.claim_seconds),
                        attempted_at=earlier or now)
                .execution_options(synchronize_session=False))
            return bool(getattr(result, "rowcount", 0)), earlier

    def _deliver_one(self, row_id: int, token: str, now: datetime, at: datetime,
                     report: DeliveryReport, posted: PostedIndex) -> None:
        client = self.client
        assert client is not None
        ours, earlier = self._take(row_id, token, at)
        recall = _Recall(posted, earlier)
        if not ours:
            return  # someone took over our expired claim: theirs to send
        with session_scope(self.session_factory) as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != OutboxStatus.SENDING.value or row.claimed_by != token:
                return
            alert = session.get(Alert, row.alert_id) if row.alert_id is not None else None
            try:
                ts = self._send(client, session, row, alert, recall)
            except _Skip:
                self._settle(row, OutboxStatus.SKIPPED, now)
                report.skipped.append(row.id)
            except _Hold as exc:
                self._hold(row, str(exc), report)
                row.next_attempt_at = now + timedelta(seconds=MAX_BACKOFF_SECONDS)
                row.attempted_at = earlier  # nothing was sent this time
            except _Defer:
                row.status, row.next_attempt_at = OutboxStatus.PENDING.value, now + backoff(1)
                row.claimed_by, row.attempted_at = None, earlier
                report.retrying.append(row.id)
            except (SlackApiError, SlackClientError, OSError, HTTPException) as exc:
                self._failed_attempt(row, now, exc, report, earlier)
            else:
                row.result_ts = ts
                self._settle(row, OutboxStatus.SENT, now)
                report.sent.append(row.id)
                ALERTS_POSTED.labels(alert.kind if alert else "digest").inc()

    def _send(self, client: WebClient, session: Session, row: OutboxMessage,
              alert: Alert | None, recall: _Recall) -> str | None:
        op = OutboxOp(row.op)
        if op is OutboxOp.DIGEST:
            return self._post_digest(client, session, row, recall)
        if alert is None:
            raise _Skip
        if op is OutboxOp.POST_ALERT:
            return self._post_card(client, session, row, alert, recall)
        if alert.ts is None or alert.channel is None:
            if op is OutboxOp.THREAD and alert.delivery == Delivery.CARD.value:
                raise _Defer
            if op is OutboxOp.UPDATE_ALERT and _post_rendered(session, alert):
                # Another worker may have rendered the first post before this change committed:
                # skipping now could leave the card without it (an alert that joined the card).
                raise _Defer
            raise _Skip  # the card's first post renders the latest state anyway
        if op is OutboxOp.UPDATE_ALERT:
            card = cards.render(session, alert, self.lang)
            client.chat_update(channel=alert.channel, ts=alert.ts, text=card.text,
                               blocks=card.blocks)
            return alert.ts
        found = recall(row, alert.channel, thread_ts=alert.ts)
        if found is not None:
            return found
        response = client.chat_postMessage(channel=alert.channel, thread_ts=alert.ts,
                                           text=self._thread_text(alert, row),
                                           metadata=metadata(row.dedupe_key))
        return str(response["ts"])

    def _post_card(self, client: WebClient, session: Session, row: OutboxMessage, alert: Alert,
                   recall: _Recall) -> str:
        if alert.ts is not None:
            return alert.ts  # posted by an earlier attempt that died before marking the row
        if alert.channel is None:
            raise _Hold("no channel: set the account's csm_channel or BANSO_CSM_CHANNEL")
        found = recall(row, alert.channel)
        if found is not None:
            alert.ts = found
            return found
        card = cards.render(session, alert, self.lang)
        response = client.chat_postMessage(channel=alert.channel, text=card.text,
                                           blocks=card.blocks, metadata=metadata(row.dedupe_key))
        alert.ts = str(response["ts"])
        alert.channel = str(response.get("channel") or alert.channel)
        return alert.ts

    def _post_digest(self, client: WebClient, session: Session, row: OutboxMessage,
                     recall: _Recall) -> str:
        page = DigestPage.model_validate(row.payload)
        if not page.alert_ids or row.channel is None:
            raise _Skip
        thread_ts = self._digest_thread(session, page)
        found = recall(row, row.channel, thread_ts=thread_ts)
        if found is not None:
            return found
        message = digest.page_message(session, page, self.lang)
        response = client.chat_postMessage(
            channel=row.channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks,
            metadata=metadata(row.dedupe_key))
        return str(response["ts"])

    @staticmethod
    def _digest_thread(session: Session, page: DigestPage) -> str | None:
        """Where a page after the first goes: its first page's thread, once that is posted.

        A first page that can never be posted (failed for good) leaves the rest in the channel
        rather than nowhere."""
        if page.parent is None:
            return None
        parent = session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == page.parent))
        if parent is not None and parent.result_ts is not None:
            return parent.result_ts
        if parent is None or parent.status in (OutboxStatus.FAILED.value,
                                               OutboxStatus.SKIPPED.value):
            return None
        raise _Defer

    def _thread_text(self, alert: Alert, row: OutboxMessage) -> str:
        payload = row.payload
        event = str(payload.get("event", ""))
        until = payload.get("until")
        values = {
            "user": blocks.mention(payload.get("user")),
            "owner": blocks.mention(alert.owner_user_id),
            "touch": t(f"alerts.touch.{payload.get('touch', 'call')}", self.lang),
            "until": blocks.when(datetime.fromisoformat(until)) if until else "",
        }
        return blocks.thread_text(event, self.lang, note=payload.get("note"), **values)

    def _hold_all(self, ids: list[int], token: str, report: DeliveryReport) -> None:
        """Without Slack there is nothing to send: park the whole claim in one statement."""
        if not ids:
            return
        with session_scope(self.session_factory) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == token)
                .values(status=OutboxStatus.HELD.value, last_error=NOT_CONFIGURED,
                        claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
        report.held += ids
        report.hold_reason = NOT_CONFIGURED

    def _hold(self, row: OutboxMessage, reason: str, report: DeliveryReport) -> None:
        row.status, row.last_error, row.claimed_by = OutboxStatus.HELD.value, reason, None
        report.held.append(row.id)
        report.hold_reason = reason
        log.debug("alert message held", extra={"outbox_id": row.id, "op": row.op,
                                               "dedupe_key": row.dedupe_key, "reason": reason})

    def _settle(self, row: OutboxMessage, status: OutboxStatus, now: datetime) -> None:
        row.status, row.sent_at, row.claimed_by, row.claimed_until = status.value, now, None, None
        row.attempted_at = None

    def _failed_attempt(self, row: OutboxMessage, now: datetime, exc: Exception,
                        report: DeliveryReport, earlier: datetime | None) -> None:
        row.attempts += 1
        row.last_error = _describe(exc)
        row.claimed_by, row.claimed_until = None, None
        ambiguous = _may_have_posted(exc)
        if not ambiguous:
            # Slack said no to this call; an earlier unconfirmed attempt (if any) still counts
            # (the refusal may have been the look-up's own).
            row.attempted_at = earlier
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED.value
            report.failed.append(row.id)
            log.error("alert message failed for good", extra={
                "outbox_id": row.id, "attempts": row.attempts, "error": row.last_error})
            return
        row.status = OutboxStatus.PENDING.value
        row.next_attempt_at = now + backoff(row.attempts)
        report.retrying.append(row.id)
        log.warning("alert message will be retried", extra={
            "outbox_id": row.id, "attempts": row.attempts, "error": row.last_error,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "look_up_first": row.attempted_at is not None})


@dataclass(frozen=True)
class _Recall:
    """Look before posting, when an unconfirmed attempt began at `earlier` (None: no need)."""

    posted: PostedIndex
    earlier: datetime | None

    def __call__(self, row: OutboxMessage, channel: str,
                 thread_ts: str | None = None) -> str | None:
        if self.earlier is None:
            return None
        found = self.posted.find(channel, row.dedupe_key, self.earlier, thread_ts=thread_ts)
        if found is not None:
            ALERTS_RECOVERED.labels(row.op).inc()
            log.warning("alert message was already in Slack; recorded, not posted again",
                        extra={"outbox_id": row.id, "op": row.op, "dedupe_key": row.dedupe_key,
                               "ts": found, "attempts": row.attempts})
        return found


def _post_rendered(session: Session, alert: Alert) -> bool:
    """Has the alert's first post been rendered: being sent, or sent since its ts was read?

    SQLite reads outside a write are not one snapshot (each SELECT sees the latest commit), so
    a post can finish between reading the alert's ts and this look-up: "sent" counts too, and
    the deferred update finds the ts on its next round."""
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.alert_id == alert.id, OutboxMessage.op == OutboxOp.POST_ALERT.value,
        OutboxMessage.status.in_([OutboxStatus.SENDING.value, OutboxStatus.SENT.value]))
        .limit(1)) is not None


def outbox_for(services: Services, client: WebClient | None) -> Outbox:
    """The worker as configured (language, claim time), sending through `client`."""
    return Outbox(services.session_factory, client, lang=services.lang,
                  claim_seconds=services.settings.outbox_claim_seconds)


def _may_have_posted(exc: Exception) -> bool:
    """Could Slack have stored the message although the call failed?

    No for a 429 or any answer below 500 (Slack refused and said so) and for a connection that
    was refused (nothing was sent); yes for a 5xx, a timeout, a reset or a cut-off answer."""
    if isinstance(exc, SlackApiError):
        return int(exc.response.status_code) >= 500
    refused = exc.reason if isinstance(exc, URLError) else exc
    return not isinstance(refused, ConnectionRefusedError)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"slack error {exc.response.status_code}: {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"[:1000]
