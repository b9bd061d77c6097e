"""Import rows (one pydantic model per kind) and the import result shared by CLI and API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from core.plain_text import plain_text
from cs.accounts.models import AccountStatus, ExpansionPotential, ImportanceFlag

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE = {"true", "1", "yes", "y", "はい", "○"}
_FALSE = {"false", "0", "no", "n", "いいえ", "×"}


# The documented bounds of every number and date an import accepts (docs/import.md). They keep
# each value inside its column (BIGINT / INTEGER on PostgreSQL, 64-bit on SQLite), a sum over
# every account inside BIGINT, and date arithmetic of the rules (renewal - 120 days, start +
# 60 days, a login converted to UTC) far from Python's year 1 and 9999.
MAX_MRR = 1_000_000_000_000  # 1 trillion a month: any real contract, x 100,000 accounts < 2**63
MAX_SEATS = 999_999  # iter_facts packs seats and active users into 6 decimal digits
MAX_DAILY_COUNT = 1_000_000  # inquiries a day
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
_DIGITS = re.compile(r"-?\d+")


def _whole_number(value: Any) -> Any:
    """CSV money and counts may be written "1,200,000", "¥500,000" or in full-width digits."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, str):
        cleaned = re.sub(r"[,，¥￥\s]", "", value)
        if not _DIGITS.fullmatch(cleaned):
            raise ValueError("must be a whole number")
        if len(cleaned) > 40:  # out of every bound; int() of a huge string is slow
            raise ValueError("is too large")
        return int(cleaned)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number")  # also NaN and infinity
    return value


def _in_calendar(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def _flag_list(value: Any) -> Any:
    if isinstance(value, str):
        return sorted({part.strip() for part in re.split(r"[;,|]", value) if part.strip()})
    return value


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("must be true or false")
    return value


Money = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=MAX_MRR)]
Count = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=MAX_DAILY_COUNT)]
Seats = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=MAX_SEATS)]
Percent = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=100)]
Day = Annotated[date, AfterValidator(_in_calendar)]
Moment = Annotated[datetime, AfterValidator(_in_calendar)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
SlackId = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,32}$")]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return plain_text(value)


class AccountRow(_Row):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Text200
    mrr: Money
    contract_start: Day
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "JPY"
    plan: Annotated[str, Field(max_length=100)] | None = None
    renewal_date: Day | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    owner_user_id: SlackId | None = None
    csm_channel: SlackId | None = None
    flags: Annotated[list[ImportanceFlag], BeforeValidator(_flag_list)] = Field(
        default_factory=list
    )
    expansion_potential: ExpansionPotential = ExpansionPotential.NONE
    churn_date: Day | None = None
    churn_reason: Annotated[str, Field(max_length=2000)] | None = None
    renewed_at: Day | None = None
    # The day this row's MRR or status takes effect (default: the import day; a churn is dated
    # by churn_date). Lets a history be back-filled row by row, oldest first.
    effective_date: Day | None = None

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def check_dates(self) -> str | None:
        if self.renewal_date is not None and self.renewal_date < self.contract_start:
            return "renewal_date: must not be before contract_start"
        if self.churn_date is not None and self.churn_date < self.contract_start:
            return "churn_date: must not be before contract_start"
        if self.effective_date is not None and self.effective_date < self.contract_start:
            return "effective_date: must not be before contract_start"
        return None


class ContactRow(_Row):
    account_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Text200
    email: Annotated[str, Field(max_length=320)]
    title: Annotated[str, Field(max_length=200)] | None = None
    is_primary: Annotated[bool, BeforeValidator(_yes_no)] = True
    # Where the former primary contact moved (department or company), if known: told to sales.
    moved_to: Annotated[str, Field(max_length=200)] | None = None
    # Optional: links the contact to a Slack member explicitly (else the email is looked up).
    slack_user_id: SlackId | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("not an email address")
        return value.lower()


class UsageRow(_Row):
    account_id: Annotated[str, Field(min_length=1, max_length=64)]
    day: Day
    last_login_at: Moment | None = None  # no offset: read in settings.timezone
    active_users: Seats = 0
    seats: Seats = 0
    setup_progress: Percent = 0
    inquiries: Count = 0


@dataclass(frozen=True)
class RowError:
    index: int  # 0-based position in the rows given
    line: int | None  # CSV line number (header = line 1), None for API rows
    reason: str


@dataclass
class ImportResult:
    kind: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    contact_changes: list[int] = field(default_factory=list)  # ContactChange ids created

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return (f"{self.kind}: {self.inserted} inserted, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.rejected} rejected")
