"""CS KPI formulas: pure functions over plain dataclasses (no database, no Slack).

Every formula is documented with a worked example in docs/metrics.md. Revenue KPIs read only the
MRR change log (`MrrEvent`), replayed to "MRR of each account on a day"; money is converted to
one base currency (JPY) with configured rates, and a currency without a rate is refused.
A rate whose denominator is zero is `None` ("n/a"), never a division error.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import NamedTuple

DEFAULT_AVOIDABLE_REASONS = ("couldnt_use", "low_usage", "no_roi")
# The product brief's own wording of the avoidable reasons, mapped to their codes.
REASON_ALIASES = {"couldnt_use_it": "couldnt_use", "could_not_use_it": "couldnt_use",
                  "could_not_use": "couldnt_use"}
UNASSIGNED = "(unassigned)"
# The months a report may ask for, on every surface (CLI and API): outside them a period is a
# typo, and far-off years overflow the calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2199
MONTH_FORMAT = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period that is not a month Banso reports on; the message shows the accepted range."""


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
        """'2026-10' -> October 2026; anything else is a PeriodError naming the accepted range."""
        match = MONTH_FORMAT.match(text.strip())
        year, month = (int(match[1]), int(match[2])) if match else (0, 0)
        if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
            raise PeriodError(
                f"period must be a month YYYY-MM from {FIRST_YEAR}-01 to {LAST_YEAR}-12 "
                f"(e.g. 2026-10), got {text!r}"
            )
        return cls.month(year, month)

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
    churn_reason: str | None = None  # why, on a change to 0 (each churn keeps its own)


class _History(NamedTuple):
    days: list[date]
    amounts: list[int]
    reasons: list[str | None]


class MrrLog:
    """Each account's MRR history in the base currency, answering "MRR on a day" by bisection."""

    def __init__(self, events: Iterable[MrrEvent], config: KpiConfig):
        history: dict[str, list[tuple[date, int, int, str | None]]] = defaultdict(list)
        base = config.base_currency
        for account_id, day, mrr, currency, seq, reason in events:
            amount = mrr if currency == base else config.to_base(mrr, currency)
            history[account_id].append((day, seq, amount, reason))
        self._history: dict[str, _History] = {}
        for account_id, rows in history.items():
            rows.sort(key=lambda row: (row[0], row[1]))
            self._history[account_id] = _History(
                [row[0] for row in rows], [row[2] for row in rows], [row[3] for row in rows])

    def accounts(self) -> Iterable[str]:
        return self._history.keys()

    def mrr_before(self, account_id: str, day: date) -> int:
        """MRR at the start of `day`: after every change effective before it."""
        history = self._history.get(account_id)
        return _amount_before(history, day) if history else 0

    def seen_before(self, account_id: str, day: date) -> bool:
        history = self._history.get(account_id)
        return history is not None and history.days[0] < day

    def last_change_before(self, account_id: str, day: date) -> tuple[date, str | None] | None:
        """The day and churn reason of the account's last change effective before `day`."""
        history = self._history.get(account_id)
        i = bisect.bisect_left(history.days, day) if history else 0
        if not history or not i:
            return None
        return history.days[i - 1], history.reasons[i - 1]

    def all_before(self, day: date) -> dict[str, int]:
        """Every logged account's MRR at the start of `day` (0 when not paying)."""
        return {a: _amount_before(h, day) for a, h in self._history.items()}

    def snapshot(self, day: date) -> dict[str, int]:
        """Paying accounts (MRR > 0) at the start of `day`."""
        return {a: m for a, m in self.all_before(day).items() if m > 0}


def _amount_before(history: _History, day: date) -> int:
    days, amounts = history.days, history.amounts
    if days[-1] < day:  # most accounts: nothing changed since; skip the bisection
        return amounts[-1]
    i = bisect.bisect_left(days, day)
    return amounts[i - 1] if i else 0


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


class Movement(StrEnum):
    """The lines of the MRR bridge, in the order they are shown."""

    NEW = "new"
    EXPANSION = "expansion"
    REACTIVATION = "reactivation"
    CONTRACTION = "contraction"
    CHURN = "churn"
    SCHEDULED_CHURN = "scheduled_churn"  # a churn dated after today: not happened yet


ADDS = frozenset({Movement.NEW, Movement.EXPANSION, Movement.REACTIVATION})
# Lines that add or remove a paying logo (expansion and contraction keep it).
LOGO_IN = frozenset({Movement.NEW, Movement.REACTIVATION})
LOGO_OUT = frozenset({Movement.CHURN, Movement.SCHEDULED_CHURN})


@dataclass(frozen=True)
class Moves:
    """Each account's movement over a period: start vs end MRR, classified once."""

    start: dict[str, int]  # paying at the start
    end: dict[str, int]  # paying at the end
    amounts: dict[Movement, dict[str, int]]  # movement -> account -> yen moved (positive)


def movements(log: MrrLog, period: Period, today: date | None = None) -> Moves:
    """Classify every account by its MRR at the period's start and end.

    Start and end are compared per account, so an account that cancels and comes back inside
    the period (at the same MRR) moves nowhere; one that left before the period and pays again
    at its end is a reactivation, not new. A churn dated after `today` is scheduled, not churned.
    """
    start_all, end_all = log.all_before(period.start), log.all_before(period.end)
    amounts: dict[Movement, dict[str, int]] = {m: {} for m in Movement}
    for account_id, after in end_all.items():
        before = start_all[account_id]
        if before == after:
            continue
        if before and not after:
            last = log.last_change_before(account_id, period.end)
            scheduled = today is not None and last is not None and last[0] > today
            amounts[Movement.SCHEDULED_CHURN if scheduled else Movement.CHURN][account_id] = before
        elif before:
            kind = Movement.EXPANSION if after > before else Movement.CONTRACTION
            amounts[kind][account_id] = abs(after - before)
        else:
            returned = log.seen_before(account_id, period.start)
            amounts[Movement.REACTIVATION if returned else Movement.NEW][account_id] = after
    return Moves({a: m for a, m in start_all.items() if m > 0},
                 {a: m for a, m in end_all.items() if m > 0}, amounts)


@dataclass(frozen=True)
class ChurnKpis:
    period: str
    customers_at_start: int
    mrr_at_start: int
    churned_logos: int  # churns that happened (dated today or before)
    churned_mrr: int  # start MRR of the churned logos
    contraction_mrr: int
    expansion_mrr: int
    new_logos: int
    new_mrr: int
    reactivated_logos: int
    reactivated_mrr: int
    scheduled_churn_logos: int  # churns dated after today, shown apart
    scheduled_churn_mrr: int
    customers_at_end: int
    mrr_at_end: int
    logo_churn_rate: float | None
    mrr_churn_rate: float | None  # (churned + contraction) / start MRR
    warning_line: float
    above_warning: bool


def churn(
    log: MrrLog, period: Period, config: KpiConfig, today: date | None = None
) -> tuple[ChurnKpis, list[str]]:
    """Churn over `period` comparing each account's MRR at its start and end; also the churned ids.

    Churns dated after `today` (a cancellation booked for the month's end) are counted apart as
    scheduled and left out of the churn rates until they happen.
    """
    return churn_of(movements(log, period, today), period, config)


def churn_of(moves: Moves, period: Period, config: KpiConfig) -> tuple[ChurnKpis, list[str]]:
    """`churn` over movements already classified (the report classifies a period once)."""
    a = moves.amounts
    churned = a[Movement.CHURN]
    churned_mrr, contraction = sum(churned.values()), sum(a[Movement.CONTRACTION].values())
    mrr_start = sum(moves.start.values())
    logo_rate = _ratio(len(churned), len(moves.start))
    mrr_rate = _ratio(churned_mrr + contraction, mrr_start)
    worst = max((r for r in (logo_rate, mrr_rate) if r is not None), default=None)
    kpis = ChurnKpis(
        period=period.label,
        customers_at_start=len(moves.start),
        mrr_at_start=mrr_start,
        churned_logos=len(churned),
        churned_mrr=churned_mrr,
        contraction_mrr=contraction,
        expansion_mrr=sum(a[Movement.EXPANSION].values()),
        new_logos=len(a[Movement.NEW]),
        new_mrr=sum(a[Movement.NEW].values()),
        reactivated_logos=len(a[Movement.REACTIVATION]),
        reactivated_mrr=sum(a[Movement.REACTIVATION].values()),
        scheduled_churn_logos=len(a[Movement.SCHEDULED_CHURN]),
        scheduled_churn_mrr=sum(a[Movement.SCHEDULED_CHURN].values()),
        customers_at_end=len(moves.end),
        mrr_at_end=sum(moves.end.values()),
        logo_churn_rate=logo_rate,
        mrr_churn_rate=mrr_rate,
        warning_line=config.churn_warning,
        above_warning=worst is not None and worst > config.churn_warning,
    )
    return kpis, sorted(churned)


# --- the MRR bridge: start + new + expansion + reactivation - contraction - churn = end ----


@dataclass(frozen=True)
class BridgeAccount:
    account_id: str
    name: str
    mrr: int  # yen this account moved on the line (always positive)


@dataclass(frozen=True)
class BridgeLine:
    movement: Movement
    sign: int  # +1 adds to the start MRR, -1 takes away
    mrr: int
    logos: int
    accounts: list[BridgeAccount]  # every account behind the line, largest first


@dataclass(frozen=True)
class MrrBridge:
    start_mrr: int
    end_mrr: int
    start_logos: int
    end_logos: int
    lines: list[BridgeLine]
    balanced: bool  # start + Σ sign × line == end, for MRR and for logos

    def line(self, movement: Movement) -> BridgeLine:
        return next(line for line in self.lines if line.movement is movement)


def bridge(
    log: MrrLog, period: Period, today: date | None = None,
    names: Mapping[str, str] | None = None,
) -> MrrBridge:
    """Start MRR to end MRR of `period`, line by line, with the accounts behind each line.

    It balances by construction (each account's end − start lands on exactly one line), and
    `balanced` checks it again so a surface can never show a bridge that does not add up.
    """
    return bridge_of(movements(log, period, today), names)


def bridge_of(moves: Moves, names: Mapping[str, str] | None = None) -> MrrBridge:
    """`bridge` over movements already classified."""
    names = names or {}
    lines = []
    for movement in Movement:
        moved = moves.amounts[movement]
        accounts = sorted((BridgeAccount(a, names.get(a, a), m) for a, m in moved.items()),
                          key=lambda b: (-b.mrr, b.account_id))
        lines.append(BridgeLine(movement, 1 if movement in ADDS else -1, sum(moved.values()),
                                len(moved), accounts))
    start_mrr, end_mrr = sum(moves.start.values()), sum(moves.end.values())
    mrr_ok = start_mrr + sum(line.sign * line.mrr for line in lines) == end_mrr
    logos_in = sum(line.logos for line in lines if line.movement in LOGO_IN)
    logos_out = sum(line.logos for line in lines if line.movement in LOGO_OUT)
    logos_ok = len(moves.start) + logos_in - logos_out == len(moves.end)
    return MrrBridge(start_mrr, end_mrr, len(moves.start), len(moves.end), lines,
                     mrr_ok and logos_ok)


# The two cohorts GRR and NRR are measured on (labelled in JSON; `t("report.basis.<code>")`).
TRAILING_12_MONTHS = "trailing_12_months"
START_TO_END = "start_to_end"
DEFINITIONS = {
    TRAILING_12_MONTHS: "accounts paying a year before the period's end: their MRR at the end "
                        "over their MRR then",
    START_TO_END: "accounts paying at the period's start: their MRR at its end over their MRR "
                  "at its start",
}


@dataclass(frozen=True)
class RetentionKpis:
    """GRR (losses only, expansion capped) and NRR (expansion included) of one cohort."""

    basis: str  # which cohort: TRAILING_12_MONTHS or START_TO_END
    definition: str  # the basis in words
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
    return cohort_retention(log, _year_before(as_of), as_of, TRAILING_12_MONTHS)


def period_retention(log: MrrLog, period: Period) -> RetentionKpis:
    """GRR and NRR of the accounts paying at the period's start, measured at its end."""
    return cohort_retention(log, period.start, period.end, START_TO_END)


def cohort_retention(log: MrrLog, cohort_day: date, as_of: date, basis: str) -> RetentionKpis:
    cohort = log.snapshot(cohort_day)
    today = log.all_before(as_of)
    now = {a: today[a] for a in cohort}
    retained = sum(min(now[a], then) for a, then in cohort.items())
    current = sum(now.values())
    total = sum(cohort.values())
    return RetentionKpis(
        basis=basis,
        definition=DEFINITIONS[basis],
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
    churned: Iterable[str], log: MrrLog, period: Period, config: KpiConfig,
) -> AvoidableChurn:
    """Churned logos whose reason is in the configured avoidable list, by count and lost MRR.

    The reason is the one recorded with this churn in the log, so a customer who left, came
    back and left again is counted with each churn's own reason.
    """
    avoidable = {normalize_reason(r) for r in config.avoidable_reasons}
    by_reason: Counter[str] = Counter()
    count = mrr = 0
    churned = list(churned)
    for account_id in churned:
        last = log.last_change_before(account_id, period.end)
        reason = normalize_reason(last[1] if last else None)
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
    return book_of_counts(total, per_csm, touch, band)


def book_of_counts(
    total: int, per_csm: Mapping[str, int], touch: Mapping[str, int], band: Mapping[str, int]
) -> BookKpis:
    """The book figures from counts (live, or as a daily snapshot stored them)."""
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
    tz: tzinfo,
) -> OnboardingKpis:
    """Calls and meetings in each account's first `onboarding_days`, for windows ending in period.

    Only complete windows count, so a month's figure is never diluted by accounts that
    started onboarding yesterday. A touch is dated by its day in `tz`, the zone contract
    starts are written in: a call at 07:57 in Tokyo is on that Tokyo day, not the UTC day before.
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
        if start <= touch.at.astimezone(tz).date() < start + window:
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
