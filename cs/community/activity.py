"""Per-account community activity: members' questions projected from the bot's answer log.

`sync_activity` brings `community_questions` up to date: every Slack question of the last
`RESYNC_DAYS` from a linked member (staff excluded) gets its row, with the account it counted
for, its outcome, its 👍/👎 and its escalation. It is idempotent and cheap (a few thousand
rows), and runs before every alert job, so health and alerts read what members just did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from bot.models import Escalation, Feedback, Question
from core.db import UtcDateTime, session_scope
from core.rules_config import Community
from core.services import Services
from core.slack import messages as slack
from cs.community.identity import Member, members_for, refresh_links
from cs.community.models import CommunityQuestion, Outcome
from cs.rules.models import CommunityActivity, FrictionQuestion

# Feedback and escalations arrive after the question: rows this young are refreshed each sync.
RESYNC_DAYS = 30


@dataclass(frozen=True)
class SyncReport:
    links_looked_up: int = 0
    questions: int = 0  # rows written or refreshed


def sync_activity(services: Services, now: datetime) -> SyncReport:
    """Refresh due email links (when Slack is on), then project the recent questions."""
    settings = services.settings
    with session_scope(services.session_factory) as session:
        looked_up = 0
        if services.slack is not None:
            looked_up = refresh_links(session, services.slack, now,
                                      refresh_days=settings.community_link_refresh_days,
                                      limit=settings.community_lookups_per_run)
        written = project_questions(session, now - timedelta(days=RESYNC_DAYS),
                                    services.timezone, services.staff.is_staff, services.slack)
    return SyncReport(looked_up, written)


CHUNK = 500  # questions per IN (...) list: well inside SQLite's bound-parameter limit


@dataclass(frozen=True)
class _Asked:
    id: int
    user: str
    channel: str | None
    ts: str | None
    decision: str
    created_at: datetime


def project_questions(session: Session, since: datetime, tz: ZoneInfo,
                      is_staff: Callable[[str | None], bool], client: WebClient | None) -> int:
    """Write or refresh the rows of linked members' questions asked since `since`.

    Plain columns, not Question objects: their candidates JSON is most of a row's cost."""
    asked = [_Asked(qid, user, channel, ts, decision, at)
             for qid, user, channel, ts, decision, at in session.execute(
                 select(Question.id, Question.user, Question.channel, Question.ts,
                        Question.decision, Question.created_at)
                 .where(Question.created_at >= since, Question.user.is_not(None))
                 .order_by(Question.id))
             if user is not None]
    members = members_for(session, [q.user for q in asked])
    mine = [q for q in asked if q.user in members and not is_staff(q.user)]
    for start in range(0, len(mine), CHUNK):
        _project_chunk(session, mine[start:start + CHUNK], members, tz, client)
    web = _refresh_web_feedback(session, since)
    session.flush()
    return len(mine) + web


def _refresh_web_feedback(session: Session, since: datetime) -> int:
    """Website-chat questions with an account (cs.community.web): their 👍/👎 since asked."""
    rows = list(session.scalars(select(CommunityQuestion).where(
        CommunityQuestion.slack_user_id.is_(None), CommunityQuestion.asked_at >= since)))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        feedback = _feedback(session, [r.question_id for r in chunk])
        for row in chunk:
            row.helpful, row.unhelpful = feedback.get(row.question_id, (0, 0))
    return len(rows)


def _project_chunk(session: Session, chunk: list[_Asked], members: dict[str, Member],
                   tz: ZoneInfo, client: WebClient | None) -> None:
    ids = [q.id for q in chunk]
    feedback = _feedback(session, ids)
    escalated: dict[int, datetime] = {
        qid: at for qid, at in session.execute(
            select(Escalation.question_id, Escalation.created_at)
            .where(Escalation.question_id.in_(ids)))}
    rows = {r.question_id: r for r in session.scalars(
        select(CommunityQuestion).where(CommunityQuestion.question_id.in_(ids)))}
    for question in chunk:
        row = rows.get(question.id)
        if row is None:
            member = members[question.user]
            row = CommunityQuestion(
                question_id=question.id, account_id=member.account_id,
                contact_id=member.contact_id, slack_user_id=member.slack_user_id,
                channel=question.channel, permalink=_link(client, question),
                asked_at=question.created_at, week=week_of(question.created_at, tz))
            session.add(row)
        elif row.permalink is None:  # first seen while Slack was off
            row.permalink = _link(client, question)
        row.outcome = _outcome(question.decision)
        row.helpful, row.unhelpful = feedback.get(question.id, (0, 0))
        row.escalated_at = escalated.get(question.id)


def _outcome(decision: str) -> str:
    return {"answer": Outcome.ANSWERED, "suggest": Outcome.SUGGESTED}.get(
        decision, Outcome.ABSTAINED).value


def _feedback(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = session.execute(
        select(Feedback.question_id,
               func.sum(case((Feedback.helpful.is_(True), 1), else_=0)),
               func.sum(case((Feedback.helpful.is_(False), 1), else_=0)))
        .where(Feedback.question_id.in_(ids)).group_by(Feedback.question_id))
    return {qid: (int(up or 0), int(down or 0)) for qid, up, down in rows}


def _link(client: WebClient | None, question: _Asked) -> str | None:
    """The question's place in Slack (asked in a channel or DM; /ask answers have none)."""
    if client is None or not question.channel or not question.ts:
        return None
    return slack.permalink(client, question.channel, question.ts)


def week_of(at: datetime, tz: ZoneInfo) -> date:
    day = at.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


# --- reading it back --------------------------------------------------------------------------


def window_activity(
    session: Session, now: datetime, rules: Community, account_ids: Iterable[str] | None = None,
    *, details_from: int | None = 1,
) -> dict[str, CommunityActivity]:
    """Each account's activity in the last `rules.window_days` (only accounts with some).

    Counted from the covering asked-at index alone; the friction questions themselves
    (with their links) only for accounts with at least `details_from` of them (None: none),
    so the health run looks up rows only where an alert may want them. Accounts with
    questions in a week are few next to the book, so this is a dict, not a merge (measured in
    bench/community_scale.py, docs/benchmarks.md "Community signals").
    """
    q = CommunityQuestion
    window = [q.asked_at >= now - timedelta(days=rules.window_days), q.asked_at <= now]
    if account_ids is not None:
        window.append(q.account_id.in_(list(account_ids)))
    still_open = and_(q.escalated_at.is_not(None),
                      or_(q.escalation_closed_at.is_(None), q.escalation_closed_at > now))
    # Plain rows from the covering index, counted here: SQLite's GROUP BY picked the
    # (account, asked) index and skip-scanned it over every account (2-3x slower).
    engaged = or_(q.outcome == Outcome.ANSWERED.value, q.helpful > 0)
    rows = session.execute(
        select(q.account_id, q.slack_user_id, q.outcome, q.helpful, q.unhelpful,
               q.escalated_at.is_not(None),
               case((still_open, 1), else_=0),
               # Only engaged rows carry their time: fewer datetimes to convert.
               type_coerce(case((engaged, q.asked_at)), UtcDateTime()))
        .where(*window))
    tally: dict[str, _Tally] = {}
    for account, member, outcome, up, down, escalated, is_open, engaged_at in rows:
        one = tally.get(account)
        if one is None:
            one = tally[account] = _Tally()
        one.add(member, outcome, up, down, bool(escalated), bool(is_open), engaged_at)
    found = {account: one.activity() for account, one in tally.items()}
    wanted = [a for a, act in found.items()
              if details_from is not None and act.friction_asked >= max(1, details_from)]
    for account, questions in _friction(session, window, still_open, wanted).items():
        found[account] = replace(found[account], friction_questions=tuple(questions))
    return found


class _Tally:
    """One account's counts while its window's rows stream by."""

    __slots__ = ("answered", "engaged", "escalations", "first", "hard", "more", "open",
                 "questions", "suggested", "unanswered", "unhelpful", "up")

    def __init__(self) -> None:
        self.questions = self.answered = self.suggested = self.unanswered = 0
        self.up = self.unhelpful = self.escalations = self.open = self.hard = 0
        self.engaged: datetime | None = None
        # Most accounts have one asking member: a set only once a second one asks.
        self.first: str | None = None
        self.more: set[str] | None = None

    def add(self, member: str | None, outcome: str, up: int, down: int, escalated: bool,
            is_open: bool, engaged_at: datetime | None) -> None:
        self.questions += 1
        if member:  # web chat questions carry an account, not a member
            if self.first is None:
                self.first = member
            elif member != self.first:
                self.more = self.more or set()
                self.more.add(member)
        abstained = outcome == Outcome.ABSTAINED
        self.answered += outcome == Outcome.ANSWERED
        self.suggested += outcome == Outcome.SUGGESTED
        self.unanswered += abstained
        self.up += up
        self.unhelpful += down
        self.escalations += escalated
        self.open += is_open
        self.hard += abstained or escalated
        if engaged_at is not None and (self.engaged is None or engaged_at > self.engaged):
            self.engaged = engaged_at

    def activity(self) -> CommunityActivity:
        return CommunityActivity(
            questions=self.questions, answered=self.answered, suggested=self.suggested,
            unanswered=self.unanswered, helpful=self.up, unhelpful=self.unhelpful,
            escalations=self.escalations, open_escalations=self.open,
            last_engaged_at=self.engaged, friction_asked=self.hard,
            active_members=(self.first is not None) + len(self.more or ()))


def _friction(session: Session, window: list[Any], still_open: Any,
              accounts: list[str]) -> dict[str, list[FrictionQuestion]]:
    q = CommunityQuestion
    found: dict[str, list[FrictionQuestion]] = defaultdict(list)
    for chunk in (accounts[i:i + 500] for i in range(0, len(accounts), 500)):
        rows = session.execute(
            select(q.account_id, q.question_id, q.asked_at, q.outcome,
                   q.escalated_at.is_not(None), case((still_open, 1), else_=0), q.permalink)
            .where(*window, q.account_id.in_(chunk),
                   or_(q.outcome == Outcome.ABSTAINED.value, q.escalated_at.is_not(None)))
            .order_by(q.asked_at, q.question_id))
        for account, qid, asked, outcome, escalated, is_open, link in rows:
            found[account].append(FrictionQuestion(qid, asked, outcome, bool(escalated),
                                                   bool(is_open), link))
    return found


@dataclass(frozen=True)
class WeekActivity:
    week: date
    questions: int
    answered: int
    suggested: int
    unanswered: int
    helpful: int
    unhelpful: int
    escalations: int
    escalations_closed: int
    members: int
    hours_open: float | None = None  # mean time from escalation to its close, closed ones


def weekly_activity(session: Session, account_id: str, since: date,
                    until: date | None = None, *,
                    contact_id: int | None = None) -> list[WeekActivity]:
    """One account's (or one of its contacts') activity by week (Mondays from `since`)."""
    q = CommunityQuestion
    outcome = q.outcome
    query = (select(
        q.week, func.count(),
        func.sum(case((outcome == Outcome.ANSWERED.value, 1), else_=0)),
        func.sum(case((outcome == Outcome.SUGGESTED.value, 1), else_=0)),
        func.sum(case((outcome == Outcome.ABSTAINED.value, 1), else_=0)),
        func.sum(q.helpful), func.sum(q.unhelpful),
        func.count(q.escalated_at), func.count(q.escalation_closed_at),
        func.count(func.distinct(q.slack_user_id)))
        .where(q.account_id == account_id, q.week >= since))
    if until is not None:
        query = query.where(q.week <= until)
    if contact_id is not None:
        query = query.where(q.contact_id == contact_id)
    rows = session.execute(query.group_by(q.week).order_by(q.week)).all()
    open_for = _hours_open(session, account_id, since, until, contact_id)
    return [WeekActivity(week, *_ints(counts), open_for.get(week)) for week, *counts in rows]


def _ints(counts: Sequence[Any]) -> tuple[int, int, int, int, int, int, int, int, int]:
    n = [int(c or 0) for c in counts]
    return n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8]


def _hours_open(session: Session, account_id: str, since: date, until: date | None,
                contact_id: int | None) -> dict[date, float]:
    """Mean hours escalations stayed open, by week (in Python: date arithmetic differs by
    database, and closed escalations are few)."""
    q = CommunityQuestion
    query = select(q.week, q.escalated_at, q.escalation_closed_at).where(
        q.account_id == account_id, q.week >= since, q.escalation_closed_at.is_not(None),
        q.escalated_at.is_not(None))
    if until is not None:
        query = query.where(q.week <= until)
    if contact_id is not None:
        query = query.where(q.contact_id == contact_id)
    spans: dict[date, list[float]] = defaultdict(list)
    for week, opened, closed in session.execute(query):
        if opened is not None and closed is not None:
            spans[week].append((closed - opened).total_seconds() / 3600)
    return {week: round(sum(hours) / len(hours), 1) for week, hours in spans.items()}


def close_escalation(session: Session, support_channel: str, support_ts: str, user: str,
                     now: datetime) -> bool:
    """A staff ✅ on the escalation's post in the support channel closes it (once)."""
    question_id = session.scalar(select(Escalation.question_id).where(
        Escalation.support_channel == support_channel, Escalation.support_ts == support_ts))
    row = session.get(CommunityQuestion, question_id) if question_id is not None else None
    if row is None or row.escalation_closed_at is not None:
        return False
    row.escalation_closed_at, row.escalation_closed_by = now, user
    session.flush()
    return True
