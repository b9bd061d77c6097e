"""Plain data the CS rules read (AccountFacts) and return (Assessment). No database, no Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from core.rules_config import TouchModel


class Phase(StrEnum):
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    RENEWAL = "renewal"
    EXPANSION = "expansion"


class HealthBand(StrEnum):
    AT_RISK = "at_risk"  # prioritised support
    MIDDLE = "middle"  # periodic updates
    HEALTHY = "healthy"  # propose expansion


class RiskKind(StrEnum):
    NO_LOGIN = "no_login"
    SETUP_STALLED = "setup_stalled"
    CONTACT_CHANGED = "contact_changed"
    SEATS_FALLING = "seats_falling"
    LOW_HEALTH = "low_health"


@dataclass(frozen=True)
class FrictionQuestion:
    """A community question that went badly: unanswered by the bot, or handed to a human."""

    question_id: int
    asked_at: datetime
    outcome: str  # answered | suggested | abstained
    escalated: bool
    escalation_open: bool
    permalink: str | None  # the question's Slack thread


@dataclass(frozen=True)
class CommunityActivity:
    """An account's members' questions within the community window (cs.community).

    Friction: unanswered questions, 👎 and escalations still open; engagement: answered
    questions and 👍 — defined here only (the health score, the community report and App Home
    read them from this). `friction_questions` are the questions an alert links to."""

    questions: int = 0
    answered: int = 0
    suggested: int = 0
    unanswered: int = 0
    helpful: int = 0
    unhelpful: int = 0
    escalations: int = 0
    open_escalations: int = 0
    last_engaged_at: datetime | None = None  # latest answered question or 👍
    active_members: int = 0  # distinct linked members who asked in the window
    friction_asked: int = 0  # questions unanswered or escalated (each counted once)
    friction_questions: tuple[FrictionQuestion, ...] = ()  # loaded where an alert may need them

    @property
    def friction(self) -> int:
        return self.unanswered + self.unhelpful + self.open_escalations

    @property
    def engagement(self) -> int:
        return self.answered + self.helpful


@dataclass(frozen=True)
class AccountFacts:
    """Everything the rules know about one account at one moment."""

    account_id: str
    name: str
    mrr: int  # whole units of `currency` (yen for JPY)
    currency: str
    plan: str | None
    contract_start: date
    renewal_date: date | None
    status: str
    owner_user_id: str | None
    csm_channel: str | None
    flags: frozenset[str]
    expansion_potential: str  # "none" | "trial_growth" | "upsell"
    last_login_at: datetime | None
    active_users: int
    seats: int
    setup_progress: int  # 0–100, latest snapshot
    setup_progress_14d_ago: int | None  # latest snapshot on or before now - 14 days
    inquiries_30d: int
    active_ratio_30d_ago: float | None  # active_users / seats on or before now - 30 days
    last_contact_change_at: datetime | None
    last_touch_at: dict[str, datetime] = field(default_factory=dict)  # by touch kind
    renewed_at: date | None = None
    community: CommunityActivity | None = None  # None: no member asked in the window

    @property
    def active_ratio(self) -> float | None:
        return self.active_users / self.seats if self.seats > 0 else None


@dataclass(frozen=True)
class Measure:
    """One weighted part of the health score; `explanation` is plain Japanese with the numbers."""

    name: str
    value: float
    weight: float  # 0 when the measure had no data and was left out of the score
    points: float  # 0..weight; the community measure's are signed points added to the score
    explanation: str


@dataclass(frozen=True)
class Health:
    score: int  # 0–100
    band: HealthBand
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class RiskSignal:
    kind: RiskKind
    detail: str  # the figure in words, in the assessor's language
    value: float | None = None  # the figure itself (days, %, score): cards show its trend


@dataclass(frozen=True)
class Assessment:
    facts: AccountFacts
    touch_model: TouchModel
    priority: int  # higher = more important
    phase: Phase
    health: Health
    risks: tuple[RiskSignal, ...]
    days_to_renewal: int | None  # negative once the renewal date has passed
    cadence_due: tuple[str, ...]  # touch kinds overdue for this touch model
    expansion_candidate: bool
    # Tech-touch: healthy community engagement counts as a touch (cs.rules.rules).
    community_touch_at: datetime | None = None

    def touched_since(self, when: datetime) -> bool:
        """Has anyone (or, for tech-touch, the community) touched the account since `when`?"""
        if self.community_touch_at is not None and self.community_touch_at >= when:
            return True
        return any(at >= when for at in self.facts.last_touch_at.values())

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)
