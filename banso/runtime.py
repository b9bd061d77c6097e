"""The shell's wiring: build `Services` once from Settings, and start/stop the background parts.

`build_services` opens (and migrates) the database, reads the rules file once, makes the Slack
client and the one staff directory, and loads the knowledge index where the command searches.
`Runtime` adds what `banso serve` runs beside the HTTP server: the bolt app (every room's
listeners, registered in `banso.slack_app`), Socket Mode, the scheduler and the knowledge watcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_bolt import App
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from banso.knowledge import load_retriever
from banso.migrate import migrate
from banso.slack_app import build_bolt_app
from banso.socket_mode import start_socket_mode
from banso.watcher import KnowledgeWatcher
from core.clock import utc_now
from core.db import make_engine, make_session_factory, session_scope
from core.metrics import INDEX_BUILT_AT
from core.rules_config import load_rules
from core.services import Services
from core.settings import Settings
from core.slack.client import slack_client
from core.slack.staff import StaffDirectory
from cs.accounts.models import Account
from cs.accounts.seed import seed_demo
from cs.community.escalations import describe_asker
from cs.community.seed import seed_community
from jobs.scheduler import build_scheduler
from retrieval.service import Retriever

log = logging.getLogger(__name__)


class Background(Protocol):
    """The scheduler's shape (jobs.scheduler.LeaderScheduler; tests record the calls)."""

    def start(self) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...

    def run_jobs_now(self) -> None: ...


def open_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """The configured database, migrated to the newest schema."""
    engine = make_engine(settings.resolved_database_url,
                         lock_timeout_s=settings.db_lock_timeout_s)
    migrate(engine, settings.timezone)
    return engine, make_session_factory(engine)


def build_services(
    settings: Settings, *, retriever: Retriever | None = None, search: bool = True,
    slack: bool = True, now: Callable[[], Any] = utc_now,
) -> Services:
    """Everything a surface needs; `search=False` skips loading the index (jobs, imports),
    `slack=False` keeps Slack out (dry runs); tests may pass a built retriever and a clock."""
    rules = load_rules(settings.rules_file)  # before the database: a bad file fails fast
    engine, factory = open_database(settings)
    if retriever is None and search:
        retriever = load_retriever(settings)
        INDEX_BUILT_AT.set_to_current_time()
    client = slack_client(settings) if slack else None
    return Services(
        settings=settings, engine=engine, session_factory=factory, rules=rules,
        staff=StaffDirectory.of(settings, client, now), slack=client, knowledge=retriever,
        now=now, asker_context=describe_asker,
    )


def seed_demo_if_empty(services: Services) -> str | None:
    """`banso serve --demo`: seed the demo customer base only into a database with no accounts.

    Never touches real data; returns the seed summary, or None when accounts already exist.
    """
    with session_scope(services.session_factory) as session:
        if session.scalar(select(func.count()).select_from(Account)):
            return None
        summary = seed_demo(session, services.now(), tz=services.timezone).describe()
        community = seed_community(session, services.now(), tz=services.timezone)
        return f"{summary}; {community.describe()}"


def slack_status(settings: Settings) -> str:
    """One log line telling the operator whether Slack is on and, if not, what turns it on."""
    if settings.slack_enabled:
        mode = "Socket Mode" if settings.slack_app_token else "HTTP (POST /slack/events)"
        return f"Slack enabled via {mode}"
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if value is None
    ]
    return (
        "Slack not configured (missing " + ", ".join(missing) + "): set SLACK_BOT_TOKEN + "
        "SLACK_SIGNING_SECRET for HTTP events, or SLACK_BOT_TOKEN + SLACK_APP_TOKEN for "
        "Socket Mode; until then the chat page and /api/ask answer, and alerts are stored "
        "and logged"
    )


@dataclass
class Runtime:
    """Everything `banso serve` runs; started and stopped by the web app's lifespan."""

    services: Services
    bolt_app: App | None = None
    scheduler: Background | None = None
    watcher: KnowledgeWatcher | None = None
    # Connects Socket Mode (SLACK_APP_TOKEN) and returns the handle start() keeps to close.
    connect_socket_mode: Callable[[], Any] | None = None
    socket_mode: Any = None
    # `banso serve --demo`: run the alert jobs right after start so the demo shows alerts.
    run_jobs_at_start: bool = False
    _started: list[str] = field(default_factory=list, init=False)

    def start(self) -> None:
        log.info(slack_status(self.services.settings))
        try:
            self._start_parts()
        except BaseException:
            self.stop()  # whatever did start must not outlive a failed start-up
            raise
        log.info("background started", extra={"parts": ",".join(self._started) or "none"})

    def _start_parts(self) -> None:
        if self.scheduler is not None:
            self.scheduler.start()
            self._started.append("scheduler")
            if self.run_jobs_at_start:
                self.scheduler.run_jobs_now()
        if self.watcher is not None:
            self.watcher.start()
            self._started.append("watcher")
        if self.connect_socket_mode is not None:
            self.socket_mode = self.connect_socket_mode()
            self._started.append("socket_mode")

    def stop(self) -> None:
        """Stop in reverse order; one part failing to stop never keeps the others running."""
        while self._started:
            name = self._started.pop()
            try:
                self._stop_part(name)
            except Exception:
                log.exception("failed to stop %s", name)
        log.info("background stopped")

    def _stop_part(self, name: str) -> None:
        if name == "socket_mode":
            self.socket_mode.close()
        elif name == "watcher" and self.watcher is not None:
            self.watcher.stop()
        elif name == "scheduler" and self.scheduler is not None:
            # wait=True: the running job finishes its account loop; nothing is half-written.
            self.scheduler.shutdown(wait=True)


def build_runtime(settings: Settings, *, services: Services | None = None) -> Runtime:
    """Everything `banso serve` runs, each part only when its settings turn it on."""
    services = services or build_services(settings)
    runtime = Runtime(services=services)
    if settings.slack_enabled:
        bolt_app = build_bolt_app(services)
        runtime.bolt_app = bolt_app
        app_token = settings.slack_app_token
        if app_token is not None:
            runtime.connect_socket_mode = lambda: start_socket_mode(
                bolt_app, app_token.get_secret_value()
            )
    if settings.scheduler_enabled:
        runtime.scheduler = build_scheduler(services)
    if settings.watch_knowledge:
        runtime.watcher = KnowledgeWatcher(
            settings.knowledge_dir, services.retriever.reload_if_changed
        )
    return runtime
