"""CS KPI formulas: pure functions over plain dataclasses (no database, no Slack).

Every formula is documented with a worked example in docs/metrics.md. Revenue KPIs read only the
MRR change log (`MrrEvent`), replayed to "MRR of each account on a day"; money is converted to
one base currency (JPY) with configured rates, and a currency without a rate is refused.
A rate whose denominator is zero is `None` ("n/a"), never a division error.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

DEFAULT_AVOIDABLE_REASONS = ("couldnt_use", "low_usage", "no_roi")
# The product brief's own wording of the avoidable reasons, mapped to their codes.
REASON_ALIASES = {"couldnt_use_it": "couldnt_use", "could_not_use_it": "couldnt_use",
                  "could_not_use": "couldnt_use"}
UNASSIGNED = "(unassigned)"


class CurrencyError(ValueError):
    """MRR in a currency the KPIs cannot convert; the message names the currency and the fix."""


@dataclass(frozen=True)
class Period:
    """Days `start` (inclusive) to `end` (exclusive)."""

    start: date
    end: date
    label: str
    calendar_month: bool = False

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"period {self.label}: end {self.end} is not after start {self.start}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(date(year, month, 1), end, f"{year:04d}-{month:02d}", calendar_month=True)

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """'2026-10' -> October 2026; anything else is a clear ValueError."""
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.month(year, month)
        except ValueError:
            raise ValueError(f"period must look like 2026-10 (year-month), got {text!r}") from None

    @classmethod
    def days_ending(cls, end: date, days: int) -> Period:
        start = end - timedelta(days=days)
        return cls(start, end, f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}")

    def previous(self) -> Period:
        """The period of the same shape just before this one (calendar month or N days)."""
        if self.calendar_month:
            last = self.start - timedelta(days=1)
            return Period.month(last.year, last.month)
        return Period.days_ending(self.start, (self.end - self.start).days)


@dataclass(frozen=True)
class KpiConfig:
    base_currency: str = "JPY"
    # Units of base currency per unit of each currency (the rules' `jpy_per_unit`).
    rates: Mapping[str, float] = field(default_factory=lambda: {"JPY": 1.0})
    churn_warning: float = 0.03
    avoidable_reasons: tuple[str, ...] = DEFAULT_AVOIDABLE_REASONS
    onboarding_days: int = 60

    def to_base(self, amount: int, currency: str) -> int:
        currency = currency.upper()
        if currency == self.base_currency:
            return amount
        rate = self.rates.get(currency)
        if rate is None:
            known = ", ".join(sorted(self.rates)) or "none"
            raise CurrencyError(
                f"MRR in {currency} cannot be added to {self.base_currency}: no rate for "
                f"{currency} (known: {known}); add it under touch_model.jpy_per_unit in the "
                "rules file"
            )
        return round(amount * rate)


# --- revenue: the MRR log --------------------------------------------------------------------


class MrrEvent(NamedTuple):
    """One row of the MRR change log (a NamedTuple: 200,000 of them build 3x faster than a
    frozen dataclass)."""

    account_id: str
    effective_on: date
    mrr_after: int
    currency: str
    seq: int = 0  # orders same-day changes (the log's row id)


class MrrLog:
    """Each account's MRR history in the base currency, answering "MRR on a day" by bisection."""

    def __init__(self, events: Iterable[MrrEvent], config: KpiConfig):
        history: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
        base = config.base_currency
        for account_id, day, mrr, currency, seq in events:
            amount = mrr if currency == base else config.to_base(mrr, currency)
            history[account_id].append((day, seq, amount))
        self._history: dict[str, tuple[list[date], list[int]]] = {}
        for account_id, rows in history.items():
            rows.sort()
            self._history[account_id] = ([row[0] for row in rows], [row[2] for row in rows])

    def accounts(self) -> Iterable[str]:
        return self._history.keys()

    def mrr_before(self, account_id: str, day: date) -> int:
        """MRR at the start of `day`: after every change effective before it."""
        history = self._history.get(account_id)
        return _amount_before(history, day) if history else 0

    def seen_before(self, account_id: str, day: date) -> bool:
        history = self._history.get(account_id)
        return history is not None and history[0][0] < day

    def all_before(self, day: date) -> dict[str, int]:
        """Every logged account's MRR at the start of `day` (0 when not paying)."""
        return {a: _amount_before(h, day) for a, h in self._history.items()}

    def snapshot(self, day: date) -> dict[str, int]:
        """Paying accounts (MRR > 0) at the start of `day`."""
        return {a: m for a, m in self.all_before(day).items() if m > 0}


def _amount_before(history: tuple[list[date], list[int]], day: date) -> int:
    days, amounts = history
    if days[-1] < day:  # most accounts: nothing changed since; skip the bisection
        return amounts[-1]
    i = bisect.bisect_left(days, day)
    return amounts[i - 1] if i else 0


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class ChurnKpis:
    period: str
    customers_at_start: int
    mrr_at_start: int
    churned_logos: int
    churned_mrr: int  # start MRR of the churned logos
    contraction_mrr: int
    expansion_mrr: int
    new_logos: int
    new_mrr: int
    reactivated_logos: int
    logo_churn_rate: float | None
    mrr_churn_rate: float | None  # (churned + contraction) / start MRR
    warning_line: float
    above_warning: bool


def churn(log: MrrLog, period: Period, config: KpiConfig) -> tuple[ChurnKpis, list[str]]:
    """Churn over `period` comparing each account's MRR at its start and end; also the churned ids.

    Start and end are compared per account, so an account that cancels and comes back inside
    the period (at the same MRR) is not churned; one that left before the period and pays again
    at its end counts as reactivated, not new.
    """
    start_all, end_all = log.all_before(period.start), log.all_before(period.end)
    start = {a: m for a, m in start_all.items() if m > 0}
    churned: list[str] = []
    churned_mrr = contraction = expansion = new = new_mrr = reactivated = 0
    for account_id, after in end_all.items():
        before = start_all[account_id]
        if before and not after:
            churned.append(account_id)
            churned_mrr += before
        elif before and after < before:
            contraction += before - after
        elif before and after > before:
            expansion += after - before
        elif not before and after:
            if log.seen_before(account_id, period.start):
                reactivated += 1
            else:
                new += 1
                new_mrr += after
    mrr_start = sum(start.values())
    logo_rate = _ratio(len(churned), len(start))
    mrr_rate = _ratio(churned_mrr + contraction, mrr_start)
    worst = max((r for r in (logo_rate, mrr_rate) if r is not None), default=None)
    kpis = ChurnKpis(
        period=period.label,
        customers_at_start=len(start),
        mrr_at_start=mrr_start,
        churned_logos=len(churned),
        churned_mrr=churned_mrr,
        contraction_mrr=contraction,
        expansion_mrr=expansion,
        new_logos=new,
        new_mrr=new_mrr,
        reactivated_logos=reactivated,
        logo_churn_rate=logo_rate,
        mrr_churn_rate=mrr_rate,
        warning_line=config.churn_warning,
        above_warning=worst is not None and worst > config.churn_warning,
    )
    return kpis, sorted(churned)


@dataclass(frozen=True)
class RetentionKpis:
    cohort_day: date  # the cohort: accounts paying at the start of this day
    as_of: date  # ... compared with their MRR at the start of this day
    cohort_size: int
    cohort_mrr: int
    retained_mrr: int  # sum of min(now, then): no expansion
    current_mrr: int  # sum of now: expansion included
    grr: float | None
    nrr: float | None


def retention(log: MrrLog, as_of: date) -> RetentionKpis:
    """GRR and NRR of the cohort paying a year before `as_of`, measured at `as_of`."""
    cohort_day = _year_before(as_of)
    cohort = log.snapshot(cohort_day)
    today = log.all_before(as_of)
    now = {a: today[a] for a in cohort}
    retained = sum(min(now[a], then) for a, then in cohort.items())
    current = sum(now.values())
    total = sum(cohort.values())
    return RetentionKpis(
        cohort_day=cohort_day,
        as_of=as_of,
        cohort_size=len(cohort),
        cohort_mrr=total,
        retained_mrr=retained,
        current_mrr=current,
        grr=_ratio(retained, total),
        nrr=_ratio(current, total),
    )


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class AvoidableChurn:
    reasons: tuple[str, ...]
    count: int
    mrr: int
    share_of_churned_logos: float | None
    by_reason: dict[str, int]  # every churned logo's reason ("(none)" when not recorded)


def normalize_reason(reason: str | None) -> str:
    """A reason code from free text: "Couldn't use it" -> couldnt_use, "No ROI" -> no_roi."""
    if not reason or not reason.strip():
        return "(none)"
    code = reason.strip().lower().replace("'", "").replace("’", "")
    code = "_".join(code.replace("-", " ").split())
    return REASON_ALIASES.get(code, code)


def avoidable_churn(
    churned: Iterable[str],
    reasons: Mapping[str, str | None],
    log: MrrLog,
    period: Period,
    config: KpiConfig,
) -> AvoidableChurn:
    """Churned logos whose reason is in the configured avoidable list, by count and lost MRR."""
    avoidable = {normalize_reason(r) for r in config.avoidable_reasons}
    by_reason: Counter[str] = Counter()
    count = mrr = 0
    churned = list(churned)
    for account_id in churned:
        reason = normalize_reason(reasons.get(account_id))
        by_reason[reason] += 1
        if reason in avoidable:
            count += 1
            mrr += log.mrr_before(account_id, period.start)
    return AvoidableChurn(
        reasons=tuple(sorted(avoidable)),
        count=count,
        mrr=mrr,
        share_of_churned_logos=_ratio(count, len(churned)),
        by_reason=dict(by_reason.most_common()),
    )


# --- the book of accounts ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    """One live account as the book-of-business KPIs see it."""

    account_id: str
    owner_user_id: str | None
    touch_model: str | None = None
    health_band: str | None = None


@dataclass(frozen=True)
class BookKpis:
    accounts: int
    per_csm: dict[str, int]
    by_touch_model: dict[str, int]
    by_health_band: dict[str, int]
    mean_per_csm: float | None  # assigned accounts / CSMs with at least one


def book(rows: Iterable[AccountRow]) -> BookKpis:
    per_csm: Counter[str] = Counter()
    touch: Counter[str] = Counter()
    band: Counter[str] = Counter()
    total = 0
    for row in rows:
        total += 1
        per_csm[row.owner_user_id or UNASSIGNED] += 1
        touch[row.touch_model or "(unknown)"] += 1
        band[row.health_band or "(unknown)"] += 1
    owners = [o for o in per_csm if o != UNASSIGNED]
    return BookKpis(
        accounts=total,
        per_csm=dict(sorted(per_csm.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_touch_model=dict(sorted(touch.items())),
        by_health_band=dict(sorted(band.items())),
        mean_per_csm=_ratio(sum(per_csm[o] for o in owners), len(owners)),
    )


@dataclass(frozen=True)
class Touch:
    account_id: str
    kind: str
    at: datetime


@dataclass(frozen=True)
class OnboardingKpis:
    accounts: int  # accounts whose onboarding window ended in the period
    sessions: int  # their calls + meetings inside the window
    per_account: float | None
    without_session: int


ONBOARDING_SESSION_KINDS = frozenset({"call", "meeting"})


def onboarding_sessions(
    contract_starts: Mapping[str, date],
    touches: Iterable[Touch],
    period: Period,
    config: KpiConfig,
) -> OnboardingKpis:
    """Calls and meetings in each account's first `onboarding_days`, for windows ending in period.

    Only complete windows count, so a month's figure is never diluted by accounts that
    started onboarding yesterday.
    """
    window = timedelta(days=config.onboarding_days)
    cohort = {
        a: start for a, start in contract_starts.items()
        if period.start <= start + window < period.end
    }
    sessions: Counter[str] = Counter()
    for touch in touches:
        start = cohort.get(touch.account_id)
        if start is None or touch.kind not in ONBOARDING_SESSION_KINDS:
            continue
        if start <= touch.at.date() < start + window:
            sessions[touch.account_id] += 1
    total = sum(sessions.values())
    return OnboardingKpis(
        accounts=len(cohort),
        sessions=total,
        per_account=_ratio(total, len(cohort)),
        without_session=sum(1 for a in cohort if not sessions[a]),
    )


# --- alerts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    kind: str
    owner: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    acted: bool  # a person clicked an action other than "not useful"
    dismissed: bool = False  # marked "not useful"


@dataclass(frozen=True)
class AckTimes:
    alerts: int
    acknowledged: int
    median_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True)
class AlertUse:
    alerts: int
    acted: int
    dismissed: int
    ignored: int
    acted_rate: float | None


@dataclass(frozen=True)
class AlertKpis:
    ack_by_owner: dict[str, AckTimes]
    ack_all: AckTimes
    use_by_kind: dict[str, AlertUse]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _ack_times(alerts: list[AlertRow]) -> AckTimes:
    minutes = [
        (a.acknowledged_at - a.created_at).total_seconds() / 60
        for a in alerts if a.acknowledged_at is not None
    ]
    return AckTimes(
        alerts=len(alerts),
        acknowledged=len(minutes),
        median_minutes=statistics.median(minutes) if minutes else None,
        p90_minutes=percentile(minutes, 0.9),
    )


def _use(alerts: list[AlertRow]) -> AlertUse:
    acted = sum(1 for a in alerts if a.acted)
    dismissed = sum(1 for a in alerts if a.dismissed and not a.acted)
    return AlertUse(
        alerts=len(alerts),
        acted=acted,
        dismissed=dismissed,
        ignored=len(alerts) - acted - dismissed,
        acted_rate=_ratio(acted, len(alerts)),
    )


def alert_kpis(alerts: Iterable[AlertRow]) -> AlertKpis:
    """Time to acknowledge per owner and acted/dismissed/ignored per kind, for the given alerts."""
    rows = list(alerts)
    by_owner: dict[str, list[AlertRow]] = defaultdict(list)
    by_kind: dict[str, list[AlertRow]] = defaultdict(list)
    for row in rows:
        by_owner[row.owner or UNASSIGNED].append(row)
        by_kind[row.kind].append(row)
    return AlertKpis(
        ack_by_owner={o: _ack_times(r) for o, r in sorted(by_owner.items())},
        ack_all=_ack_times(rows),
        use_by_kind={k: _use(r) for k, r in sorted(by_kind.items())},
    )
