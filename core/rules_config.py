"""RulesConfig: the CS rules' numbers and the job schedules, from rules_defaults.yaml overlaid
with settings.rules_file. Loaded once at start-up (banso.runtime) and carried on `Services`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.i18n import Lang

DEFAULTS_FILE = Path(__file__).with_name("rules_defaults.yaml")
OFF = "off"  # a job schedule that is not scheduled (`banso jobs run` still runs it)


class TouchModel(StrEnum):
    HIGH = "high"
    LOW = "low"
    TECH = "tech"


class RulesConfigError(Exception):
    """The rules file is unreadable or a value is wrong; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TouchModelRules(_Strict):
    high_min_mrr: int = Field(ge=0)
    low_min_mrr: int = Field(ge=0)
    jpy_per_unit: dict[str, float]

    @model_validator(mode="after")
    def _ordered(self) -> TouchModelRules:
        if self.low_min_mrr > self.high_min_mrr:
            raise ValueError("low_min_mrr must not exceed high_min_mrr")
        return self


class PhaseRules(_Strict):
    onboarding_days: int = Field(ge=0)
    renewal_window_days: int = Field(ge=0)


class RenewalRules(_Strict):
    reminder_days: list[int]
    thank_you_within_days: int = Field(ge=0)


class RiskRules(_Strict):
    no_login_days: int = Field(gt=0)
    setup_stalled_days: int = Field(gt=0)
    setup_min_gain: int = Field(ge=0)
    setup_complete: int = Field(ge=0, le=100)
    setup_stalled_max_inquiries: int = Field(ge=0)
    contact_change_days: int = Field(ge=0)
    seats_falling_points: float = Field(gt=0, le=1)
    # Unanswered or escalated community questions in the community window for a
    # "support friction" alert.
    support_friction_questions: int = Field(3, ge=1)


class LoginRecency(_Strict):
    weight: float = Field(ge=0)
    full_days: float = Field(ge=0)
    zero_days: float = Field(gt=0)


class ActiveRatio(_Strict):
    weight: float = Field(ge=0)
    full: float = Field(gt=0, le=1)
    zero: float = Field(ge=0, lt=1)


class SetupProgress(_Strict):
    weight: float = Field(ge=0)


class SeatTrend(_Strict):
    weight: float = Field(ge=0)
    zero_drop: float = Field(gt=0, le=1)


class ContactStability(_Strict):
    weight: float = Field(ge=0)
    full_days: float = Field(gt=0)


class Community(_Strict):
    """The community measure: signed points added to the weighted score (docs/metrics.md).

    Counted over the last `window_days` of the account's members' questions; an account none
    of whose members asked has no community measure and keeps its score."""

    window_days: int = Field(7, gt=0)
    friction_points: float = Field(5, ge=0)  # per unanswered question, 👎, open escalation
    max_penalty: float = Field(20, ge=0)
    engagement_points: float = Field(2, ge=0)  # per answered question, 👍
    member_points: float = Field(1, ge=0)  # per distinct member asking (within max_bonus)
    max_bonus: float = Field(10, ge=0)


class HealthMeasures(_Strict):
    login_recency: LoginRecency
    active_ratio: ActiveRatio
    setup_progress: SetupProgress
    seat_trend: SeatTrend
    contact_stability: ContactStability
    community: Community = Field(default_factory=lambda: Community())


class HealthRules(_Strict):
    at_risk_below: int = Field(ge=0, le=100)
    healthy_from: int = Field(ge=0, le=100)
    measures: HealthMeasures

    @model_validator(mode="after")
    def _ordered(self) -> HealthRules:
        if self.at_risk_below > self.healthy_from:
            raise ValueError("at_risk_below must not exceed healthy_from")
        return self


class PriorityRules(_Strict):
    touch_model: dict[TouchModel, int]
    flags: dict[str, int]
    expansion_potential: dict[str, int]


class ExpansionRules(_Strict):
    full_seats_ratio: float = Field(gt=0, le=1)


class Schedules(_Strict):
    """Cron (minute hour day month day-of-week, in settings.timezone) or "off", per alert job."""

    at_risk: str = OFF
    contact_changes: str = OFF
    renewals: str = OFF
    onboarding: str = OFF
    cadence: str = OFF
    expansion: str = OFF
    digest: str = OFF
    support_friction: str = OFF

    @field_validator("*")
    @classmethod
    def _cron_or_off(cls, value: str) -> str:
        if value != OFF:
            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"bad cron {value!r}: {exc}") from None
        return value

    def active(self) -> dict[str, str]:
        """job name -> cron, for the scheduled ones."""
        return {name: cron for name, cron in self.model_dump().items() if cron != OFF}


class JobsConfig(_Strict):
    """The `jobs:` section: the language of cards and digests, schedules and delivery knobs."""

    lang: Lang = "ja"
    onboarding_checkins: tuple[int, ...] = (7, 30, 50)
    deliver_every_seconds: int = Field(30, ge=5)
    misfire_grace_seconds: int = Field(3600, ge=1)
    schedules: Schedules = Field(default_factory=lambda: Schedules())


class RulesConfig(_Strict):
    touch_model: TouchModelRules
    cadence: dict[TouchModel, dict[str, int]]
    phase: PhaseRules
    renewal: RenewalRules
    risk: RiskRules
    health: HealthRules
    priority: PriorityRules
    expansion: ExpansionRules
    jobs: JobsConfig = Field(default_factory=lambda: JobsConfig())


def load_rules(path: Path | None = None) -> RulesConfig:
    """The built-in defaults, overlaid key by key with `path` (settings.rules_file) if given."""
    data = _read_yaml(DEFAULTS_FILE)
    if path is not None:
        data = _merge(data, _read_yaml(path))
    return rules_from_dict(data, source=str(path or DEFAULTS_FILE))


def rules_from_dict(data: dict[str, Any], source: str = "rules") -> RulesConfig:
    try:
        return RulesConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            + (f" (got {err['input']!r})" if err["type"] != "missing" else "")
            for err in exc.errors()
        ]
        # One line per problem, each naming the file (the CLI prints them as they are).
        raise RulesConfigError("\n".join(f"BANSO_RULES_FILE: {source}: {line}"
                                         for line in lines)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesConfigError(f"{path}: cannot read rules file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RulesConfigError(f"BANSO_RULES_FILE: {path}:{_yaml_where(exc)} not valid YAML: "
                               f"{_yaml_problem(exc)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise RulesConfigError(f"{path}: the rules file must be a mapping of keys to values")
    return loaded


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"{mark.line + 1}:" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.context, exc.problem) if part)
    return str(exc).splitlines()[0]


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
