"""`banso demo seed`: a realistic, deterministic demo customer base dated relative to `now`.

Every CS situation the alert jobs and KPIs look for is present: high/low/tech touch tiers,
onboarding, renewals due in exactly 120/90/60/30 days, no login, stalled setup, falling seats,
a fresh primary-contact change, expansion candidates, 13+ months of MRR history with
expansions, contractions, churns (avoidable and not) and one churn-and-comeback.
Re-running with the same seed and day gives the same data: the demo accounts (ids `demo-*`)
are upserted and their history rows replaced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cs.accounts import demo_names as names
from cs.accounts import rollup
from cs.accounts.importer import mrr_reason
from cs.accounts.models import (
    Account,
    Contact,
    ContactChange,
    MrrChange,
    MrrReason,
    Touchpoint,
    UsageSnapshot,
)

DEMO_PREFIX = "demo-"
HISTORY_MONTHS = 14
USAGE_DAYS = 31  # 30 days back plus today: the rules compare with the day 30 days ago
# Scenarios every demo base contains at least once, before the random mix.
FIXED = ("renewal_120", "renewal_90", "renewal_60", "renewal_30", "contact_changed",
         "contact_changed", "no_login", "no_login", "setup_stalled", "seats_falling",
         "onboarding", "onboarding", "expansion_upsell", "expansion_full", "comeback",
         "churned_avoidable", "churned_other", "trial")
MIX = {"healthy": 46, "onboarding": 7, "no_login": 6, "setup_stalled": 4, "seats_falling": 4,
       "contact_changed": 4, "expansion_upsell": 5, "expansion_full": 3, "churned_avoidable": 6,
       "churned_other": 5, "trial": 3, "renewed_recently": 3}
TIERS = {"high": ((500_000, 2_000_000), 12), "low": ((70_000, 499_000), 40),
         "tech": ((10_000, 69_000), 48)}
SEATS = {"high": (50, 300), "low": (10, 60), "tech": (2, 15)}


@dataclass
class DemoData:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    contact_changes: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    touchpoints: list[dict[str, Any]] = field(default_factory=list)
    mrr_changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SeedSummary:
    accounts: int
    churned: int
    contacts: int
    contact_changes: int
    usage_rows: int
    touchpoints: int
    mrr_changes: int

    def describe(self) -> str:
        return (f"demo data: {self.accounts} accounts ({self.churned} churned), "
                f"{self.contacts} contacts, {self.contact_changes} contact changes, "
                f"{self.usage_rows} usage rows, {self.touchpoints} touchpoints, "
                f"{self.mrr_changes} MRR changes")


def seed_demo(
    session: Session, now: datetime, *, accounts: int = 300, seed: int = 42, tz: tzinfo = UTC
) -> SeedSummary:
    """Replace the demo customer base; the caller commits."""
    data = build_demo(now, accounts=accounts, seed=seed, tz=tz)
    _replace(session, data, now)
    # Written like an import: the rules read the demo's usage from its rollups.
    rollup.rebuild(session.connection(), sorted(row["id"] for row in data.accounts),
                   now.astimezone(tz).date())
    return SeedSummary(
        accounts=len(data.accounts),
        churned=sum(a["status"] == "churned" for a in data.accounts),
        contacts=len(data.contacts), contact_changes=len(data.contact_changes),
        usage_rows=len(data.usage), touchpoints=len(data.touchpoints),
        mrr_changes=len(data.mrr_changes),
    )


def build_demo(now: datetime, *, accounts: int, seed: int, tz: tzinfo = UTC) -> DemoData:
    """Pure: the same (now's day, count, seed) always gives the same rows."""
    rng = random.Random(seed)
    today = now.astimezone(tz).date()
    data = DemoData()
    used_names: set[str] = set()
    for index in range(accounts):
        scenario = FIXED[index] if index < len(FIXED) else _weighted(rng, MIX)
        _DemoAccount(rng, index, scenario, today, tz, _company(rng, used_names)).emit(data)
    return data


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _company(rng: random.Random, used: set[str]) -> str:
    for _ in range(50):
        stem, trade = rng.choice(names.COMPANY_STEMS), rng.choice(names.COMPANY_TRADES)
        name = f"株式会社{stem}{trade}" if rng.random() < 0.7 else f"{stem}{trade}株式会社"
        if name not in used:
            used.add(name)
            return name
    name = f"株式会社{rng.choice(names.COMPANY_STEMS)}{len(used) + 1}"
    used.add(name)
    return name


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _thousands(amount: float) -> int:
    return int(round(amount, -3))


def _at(day: date, hour: int, minute: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tz).astimezone(UTC)


class _DemoAccount:
    """One account's story: contract, MRR history, contacts, usage and touches."""

    def __init__(self, rng: random.Random, index: int, scenario: str, today: date,
                 tz: tzinfo, name: str) -> None:
        self.rng, self.scenario, self.today, self.tz = rng, scenario, today, tz
        self.id = f"{DEMO_PREFIX}{index + 1:04d}"
        self.name = name
        self.tier = _weighted(rng, {k: w for k, (_, w) in TIERS.items()})
        if scenario.startswith(("renewal_", "contact_changed", "expansion")):
            self.tier = rng.choice(("high", "low"))  # situations a CSM handles personally
        low, high = TIERS[self.tier][0]
        self.mrr = rng.randrange(low, high + 1, 1000)
        self.contract_start = self._contract_start()
        self.status = {"trial": "trial", "churned_avoidable": "churned",
                       "churned_other": "churned"}.get(scenario, "active")
        self.churn_date: date | None = None
        self.churn_reason: str | None = None
        self.owner = rng.choice(names.DEMO_CSMS) if self.tier != "tech" else None

    def _contract_start(self) -> date:
        rng, today, scenario = self.rng, self.today, self.scenario
        if scenario.startswith("renewal_"):
            renewal = today + timedelta(days=int(scenario.split("_")[1]))
            return _add_years(renewal, -rng.randint(1, 3))
        if scenario in ("onboarding", "trial"):
            return today - timedelta(days=rng.randint(3, 55))
        if scenario == "setup_stalled":
            return today - timedelta(days=rng.randint(35, 58))
        if scenario == "renewed_recently":
            return _add_years(today - timedelta(days=rng.randint(1, 12)), -rng.randint(1, 2))
        return today - timedelta(days=rng.randint(75, 3 * 365))

    # --- rows -----------------------------------------------------------------------------

    def emit(self, data: DemoData) -> None:
        self._mrr_history(data)
        data.accounts.append(self._account_row())
        self._contacts(data)
        if self.status != "churned":
            self._usage(data)
            self._touches(data)

    def _renewal(self) -> tuple[date | None, date | None]:
        """(next renewal date, last completed renewal) for yearly contracts."""
        if self.status == "churned":
            return None, None
        years = 1
        while _add_years(self.contract_start, years) <= self.today:
            years += 1
        last = _add_years(self.contract_start, years - 1) if years > 1 else None
        return _add_years(self.contract_start, years), last

    def _account_row(self) -> dict[str, Any]:
        rng = self.rng
        renewal_date, renewed_at = self._renewal()
        flags = sorted(f for f, p in (("brand", 0.1), ("feedback", 0.1), ("influencer", 0.05))
                       if rng.random() < p)
        potential = {"expansion_upsell": "upsell", "trial": "trial_growth"}.get(
            self.scenario, _weighted(rng, {"none": 80, "upsell": 12, "trial_growth": 8}))
        if self.scenario == "expansion_full":
            potential = "none"  # a candidate because its seats are full, not by flag
        return {
            "id": self.id, "name": self.name, "mrr": self.mrr if self.status != "trial" else 0,
            "currency": "JPY", "plan": names.PLANS[self.tier],
            "contract_start": self.contract_start, "renewal_date": renewal_date,
            "status": self.status, "owner_user_id": self.owner, "csm_channel": None,
            "flags": flags, "expansion_potential": potential, "churn_date": self.churn_date,
            "churn_reason": self.churn_reason, "renewed_at": renewed_at,
        }

    def _mrr_history(self, data: DemoData) -> None:
        """New MRR at contract start, monthly chances of expansion or contraction, then churn."""
        if self.scenario == "trial":
            return
        if self.scenario == "comeback":
            self._comeback(data)
            return
        rng = self.rng
        mrr = self.mrr
        log = [(self.contract_start, mrr)]
        end = self.today
        if self.status == "churned":
            earliest = max(self.contract_start + timedelta(days=60),
                           self.today - timedelta(days=HISTORY_MONTHS * 30))
            end = earliest + timedelta(days=rng.randint(0, max(0, (self.today - earliest).days)))
            self.churn_date = end
            pool = (names.AVOIDABLE_REASONS if self.scenario == "churned_avoidable"
                    else names.OTHER_REASONS)
            self.churn_reason = rng.choice(pool)
        day = self.contract_start + timedelta(days=90)
        while day < end:
            roll = rng.random()
            if roll < 0.05:
                mrr = _thousands(mrr * rng.uniform(1.1, 1.5))
                log.append((day, mrr))
            elif roll < 0.08:
                mrr = max(1000, _thousands(mrr * rng.uniform(0.7, 0.9)))
                log.append((day, mrr))
            day += timedelta(days=30)
        self.mrr = mrr
        if self.churn_date is not None:
            log.append((self.churn_date, 0))
        self._log(data, log, churned_at_end=self.churn_date is not None)

    def _comeback(self, data: DemoData) -> None:
        rng, today = self.rng, self.today
        first_start = today - timedelta(days=rng.randint(600, 800))
        churned = today - timedelta(days=rng.randint(200, 260))
        back = today - timedelta(days=rng.randint(80, 100))
        old_mrr = self.mrr
        self.mrr = _thousands(self.mrr * 1.2)
        self.contract_start, self.churn_date, self.churn_reason = back, churned, "budget_cut"
        self._log(data, [(first_start, old_mrr), (churned, 0), (back, self.mrr)],
                  churned_at_end=False, comeback_index=2)

    def _log(self, data: DemoData, log: list[tuple[date, int]], *, churned_at_end: bool,
             comeback_index: int | None = None) -> None:
        before = 0
        for position, (day, after) in enumerate(log):
            churn = after == 0 and (churned_at_end or comeback_index is not None)
            old_status = "churned" if position == comeback_index else "active"
            reason = mrr_reason(before, after, old_status, "churned" if churn else "active")
            data.mrr_changes.append({
                "account_id": self.id, "effective_on": day, "mrr_before": before,
                "mrr_after": after, "currency": "JPY", "reason": reason.value,
                "churn_reason": self.churn_reason if reason is MrrReason.CHURN else None,
            })
            before = after

    def _person(self) -> tuple[str, str]:
        family, family_r = self.rng.choice(names.FAMILY_NAMES)
        given, given_r = self.rng.choice(names.GIVEN_NAMES)
        return f"{family} {given}", f"{given_r}.{family_r}@{self.id}.example.jp"

    def _contacts(self, data: DemoData) -> None:
        rng = self.rng
        name, email = self._person()
        data.contacts.append({"account_id": self.id, "name": name, "email": email,
                              "title": rng.choice(names.TITLES), "is_primary": True})
        changed_days = {"contact_changed": rng.randint(1, 25)}.get(self.scenario)
        if changed_days is None and rng.random() < 0.08:
            changed_days = rng.randint(60, 360)  # an older change: history, no longer a risk
        if changed_days is None or changed_days > (self.today - self.contract_start).days:
            return
        old_name, old_email = self._person()
        if old_email == email:
            return
        data.contacts.append({"account_id": self.id, "name": old_name, "email": old_email,
                              "title": rng.choice(names.TITLES), "is_primary": False})
        data.contact_changes.append({
            "account_id": self.id, "previous_name": old_name, "previous_email": old_email,
            "new_name": name, "new_email": email, "moved_to": rng.choice(names.MOVED_TO),
            "changed_at": _at(self.today - timedelta(days=changed_days), 10, 0, self.tz),
        })

    def _usage(self, data: DemoData) -> None:
        rng, scenario = self.rng, self.scenario
        seats = 5 if scenario == "trial" else rng.randint(*SEATS[self.tier])
        ratio = rng.uniform(0.95, 1.0) if scenario == "expansion_full" else rng.uniform(0.55, 0.85)
        silent_since = rng.randint(15, 45) if scenario == "no_login" else None
        stalled_at = rng.randint(20, 60)
        last_login: datetime | None = None
        if silent_since is not None:  # the last login may be older than the usage window
            last_login = _at(self.today - timedelta(days=silent_since), 11, 0, self.tz)
        for back in range(USAGE_DAYS - 1, -1, -1):
            day = self.today - timedelta(days=back)
            age = (day - self.contract_start).days
            if age < 0:
                continue
            share = ratio
            if scenario == "seats_falling":
                share = 0.85 - 0.4 * (USAGE_DAYS - 1 - back) / (USAGE_DAYS - 1)
            jitter = rng.uniform(-0.03, 0.03) if seats >= 20 else 0.0  # small teams are steady
            active = max(1, round(seats * min(1.0, share + jitter)))
            if silent_since is not None and back < silent_since:
                active = 0
            else:
                last_login = _at(day, rng.randint(9, 18), rng.randint(0, 59), self.tz)
            progress = min(100, 10 + age * 2)
            if scenario == "setup_stalled":
                progress = min(stalled_at, age * 3)
            inquiries = 0 if scenario == "setup_stalled" else int(rng.random() < 0.15)
            data.usage.append({
                "account_id": self.id, "day": day, "last_login_at": last_login,
                "active_users": active, "seats": seats, "setup_progress": progress,
                "inquiries": inquiries,
            })

    def _touches(self, data: DemoData) -> None:
        if self.tier == "tech":
            return  # tech touch: automated content only, no individual handling
        rng = self.rng
        self._onboarding_sessions(data)
        neglected = rng.random() < 0.3 or self.scenario in ("no_login", "seats_falling")
        plan = {"high": (("call", 30), ("meeting", 60)), "low": (("meeting", 90),)}[self.tier]
        notes = {"call": "定例の電話", "meeting": "定例ミーティング"}
        for kind, every in plan:
            back = rng.randint(every // 2 + 40, every + 60) if neglected else rng.randint(
                3, every - 5)
            while back < 180 and self.today - timedelta(days=back) >= self.contract_start:
                self._touch(data, kind, back, notes[kind])
                back += every + rng.randint(-5, 10)

    def _onboarding_sessions(self, data: DemoData) -> None:
        """Kickoff and onboarding sessions in the first weeks of contracts from the last year."""
        age = (self.today - self.contract_start).days
        if age > 400:
            return
        days = [self.rng.randint(1, 5)]  # kickoff
        days += sorted(self.rng.sample(range(10, 50), self.rng.randint(0, 3)))
        for day in days:
            if day <= age:
                note = "キックオフ" if day == days[0] else "オンボーディング支援"
                self._touch(data, "meeting", age - day, note)

    def _touch(self, data: DemoData, kind: str, days_ago: int, note: str) -> None:
        at = _at(self.today - timedelta(days=days_ago), self.rng.randint(10, 17), 0, self.tz)
        data.touchpoints.append({
            "account_id": self.id, "kind": kind, "at": at, "user_id": self.owner,
            "note": note, "alert_id": None, "created_at": at,
        })


def _replace(session: Session, data: DemoData, now: datetime) -> None:
    demo = Account.id.like(f"{DEMO_PREFIX}%")
    for model in (UsageSnapshot, Touchpoint, MrrChange, ContactChange, Contact):
        session.execute(delete(model).where(model.account_id.like(f"{DEMO_PREFIX}%")))
    wanted = {row["id"] for row in data.accounts}
    existing = set(session.scalars(select(Account.id).where(demo)))
    if existing - wanted:
        session.execute(delete(Account).where(Account.id.in_(sorted(existing - wanted))))
    for row in data.accounts:
        # Upsert keeps demo alerts (which reference accounts) across re-seeds.
        session.merge(Account(**row, created_at=now, updated_at=now))
    session.flush()
    stamped = {"created_at": now}
    for model, rows, extra in (
        (Contact, data.contacts, {**stamped, "updated_at": now}),
        (ContactChange, data.contact_changes, {}),
        (MrrChange, data.mrr_changes, stamped),
        (UsageSnapshot, data.usage, {}),
        (Touchpoint, data.touchpoints, {}),
    ):
        if rows:
            session.execute(insert(model), [{**row, **extra} for row in rows])
