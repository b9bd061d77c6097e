"""The demo's community: members linked to demo contacts and two months of their questions.

Part of `banso demo seed` (and `banso serve --demo`): some demo accounts' contacts get a Slack
member id, their questions are written to the answer log as the bot would have (answered,
suggested, abstained, 👍/👎, escalations, some closed) and projected into community activity.
One high-touch account has this week's support friction, so the `support_friction` job has
a card to post; tech-touch accounts show healthy engagement. Deterministic for a seed and day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models import Escalation, Feedback, Question, Surface
from cs.accounts.models import LIVE_STATUSES, Account, Contact
from cs.community.activity import project_questions
from cs.community.models import CommunityQuestion

DEMO_CHANNEL = "CDEMOCOMMUNITY"
DEMO_SUPPORT = "CDEMOSUPPORT"
DEMO_MEMBER_PREFIX = "UDEMO"
HISTORY_DAYS = 56
MEMBER_SHARE = 0.45  # demo accounts whose contacts are community members
ANSWERED = (("パスワードを忘れました。再設定するには？", "password-reset"),
            ("スタッフを招待する方法は？", "invite-users"),
            ("請求書はどこからダウンロードできますか？", "invoice-download"),
            ("シフトのテンプレートを作りたい", "shift-template"),
            ("打刻を修正するには？", "punch-correction"),
            ("有給休暇の申請方法を教えてください", "paid-leave"))
SUGGESTED = ("CSVの取り込みでエラーが出ます", "ログインできないときは？")
UNANSWERED = ("給与明細を従業員ごとに別のレイアウトで出せますか？",
              "複数の会社をまたいだシフトを一画面で組めますか？",
              "勤怠データを独自の会計ソフトに自動で送れますか？",
              "店舗ごとに違う締め日を設定できますか？")


@dataclass(frozen=True)
class CommunitySeedSummary:
    members: int
    questions: int
    escalations: int

    def describe(self) -> str:
        return (f"community: {self.members} members, {self.questions} questions, "
                f"{self.escalations} escalations")


def seed_community(session: Session, now: datetime, *, tz: ZoneInfo,
                   seed: int = 42) -> CommunitySeedSummary:
    """Replace the demo community (the caller commits); run after `seed_demo`."""
    rng = random.Random(seed)
    _forget(session)
    accounts = session.execute(
        select(Account.id, Account.mrr).where(Account.id.like("demo-%"),
                                              Account.status.in_(list(LIVE_STATUSES)))
        .order_by(Account.id)).all()
    friction = next((account for account, mrr in accounts if mrr >= 500_000), None)
    seeder = _Seeder(session, rng, now, tz)
    for account, _ in accounts:
        if account == friction:
            seeder.friction(account)
        elif rng.random() < MEMBER_SHARE:
            seeder.ordinary(account)
    session.flush()
    project_questions(session, now - timedelta(days=HISTORY_DAYS + 1), tz,
                      lambda _user: False, None)
    seeder.close_escalations()
    return CommunitySeedSummary(seeder.members, seeder.questions, len(seeder.escalations))


def _forget(session: Session) -> None:
    demo = select(Question.id).where(Question.channel == DEMO_CHANNEL).scalar_subquery()
    for model in (CommunityQuestion, Feedback, Escalation):
        session.execute(delete(model).where(model.question_id.in_(demo)))
    session.execute(delete(Question).where(Question.channel == DEMO_CHANNEL))
    session.flush()


class _Seeder:
    def __init__(self, session: Session, rng: random.Random, now: datetime,
                 tz: ZoneInfo) -> None:
        self.session, self.rng, self.now, self.tz = session, rng, now, tz
        self.members = self.questions = 0
        self.escalations: list[tuple[Question, bool]] = []  # (question, closed later)

    def _members(self, account: str) -> list[str]:
        contacts = list(self.session.scalars(
            select(Contact).where(Contact.account_id == account)
            .order_by(Contact.is_primary.desc(), Contact.id)))
        chosen = contacts[: self.rng.randint(1, 2)]
        for contact in chosen:
            contact.slack_user_id = f"{DEMO_MEMBER_PREFIX}{contact.id:06d}"
        self.members += len(chosen)
        return [str(c.slack_user_id) for c in chosen]

    def ordinary(self, account: str) -> None:
        members = self._members(account)
        if not members:
            return
        for _ in range(self.rng.randint(1, 6)):
            days = self.rng.randint(0, HISTORY_DAYS)
            kind = self.rng.choices(("answer", "suggest", "abstain"), (65, 15, 20))[0]
            self._ask(self.rng.choice(members), days, kind, escalate=kind == "abstain"
                      and self.rng.random() < 0.5, closed=self.rng.random() < 0.6)

    def friction(self, account: str) -> None:
        """This week: three questions the knowledge base cannot answer, two escalated, open."""
        members = self._members(account)
        if not members:
            return
        for day, escalate in ((1, True), (2, True), (3, False)):
            self._ask(members[0], day, "abstain", escalate=escalate, closed=False)
        self._ask(members[-1], 20, "answer", escalate=False, closed=False)

    def _ask(self, user: str, days_ago: int, decision: str, *, escalate: bool,
             closed: bool) -> None:
        day = (self.now.astimezone(self.tz) - timedelta(days=days_ago)).date()
        at = datetime.combine(day, time(self.rng.randint(9, 18), self.rng.randint(0, 59)),
                              self.tz)
        at = min(at, self.now)
        if decision == "answer":
            text, entry = self.rng.choice(ANSWERED)
        else:
            text, entry = self.rng.choice(SUGGESTED if decision == "suggest" else UNANSWERED), None
        self.questions += 1
        ts = f"{int(at.timestamp())}.{self.questions:06d}"
        question = Question(surface=Surface.SLACK.value, channel=DEMO_CHANNEL, user=user,
                            ts=ts, thread_ts=ts, reply_ts=ts, text=text, lang="ja",
                            visibility="public", decision=decision, top_entry_id=entry,
                            candidates=[], created_at=at)
        self.session.add(question)
        self.session.flush()
        if decision == "answer" and self.rng.random() < 0.6:
            self.session.add(Feedback(question_id=question.id, user=user,
                                      helpful=self.rng.random() < 0.85, entry_id=entry,
                                      updated_at=at))
        if escalate:
            self.session.add(Escalation(question_id=question.id, requested_by=user,
                                        support_channel=DEMO_SUPPORT, created_at=at))
            self.escalations.append((question, closed))

    def close_escalations(self) -> None:
        for question, closed in self.escalations:
            row = self.session.get(CommunityQuestion, question.id)
            if closed and row is not None:
                row.escalation_closed_at = min(self.now, question.created_at + timedelta(
                    hours=self.rng.randint(2, 40)))
                row.escalation_closed_by = "UDEMOSTAFF"
        self.session.flush()
