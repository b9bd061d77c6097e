"""Builds the collaborators once, from Settings, and starts/stops the background parts.

`Services` is what every surface receives (HTTP routes, bolt listeners, jobs): the database,
the retriever, the Slack Web API client (None when Slack is not configured) and a clock.
`Runtime` adds what `banso serve` runs beside the HTTP server: the bolt app, Socket Mode,
the scheduler and the knowledge watcher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from watchfiles import watch

from banso.db import make_engine, make_session_factory, migrate, session_scope
from banso.metrics import INDEX_BUILT_AT
from banso.settings import Settings
from bot.slack import web_client
from retrieval.service import Retriever, build_retriever

log = logging.getLogger(__name__)


class Background(Protocol):
    """The scheduler's shape (APScheduler's BackgroundScheduler behind a leader lock)."""

    def start(self) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...

    def run_jobs_now(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    retriever: Retriever
    slack: WebClient | None  # None: Slack not configured; alerts are stored and logged only
    now: Callable[[], datetime] = utc_now


def build_slack_client(settings: Settings) -> WebClient | None:
    if settings.slack_bot_token is None:
        return None
    return web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)


def build_services(settings: Settings, *, retriever: Retriever | None = None) -> Services:
    """Open (and migrate) the database and load the index; tests may pass a built retriever."""
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    if retriever is None:
        retriever = build_retriever(settings)
    INDEX_BUILT_AT.set_to_current_time()
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        retriever=retriever,
        slack=build_slack_client(settings),
    )


def seed_demo_if_empty(services: Services) -> str | None:
    """`banso serve --demo`: seed the demo customer base only into a database with no accounts.

    Never touches real data; returns the seed summary, or None when accounts already exist.
    """
    from jobs.accounts.models import Account
    from jobs.accounts.seed import seed_demo

    with session_scope(services.session_factory) as session:
        if session.scalar(select(func.count()).select_from(Account)):
            return None
        tz = ZoneInfo(services.settings.timezone)
        return seed_demo(session, services.now(), tz=tz).describe()


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


class KnowledgeWatcher:
    """Reloads the index when knowledge files change; also checks every `poll_seconds`.

    The periodic check is the retriever's cheap one (file mtimes), for file systems where
    change events never arrive (network mounts, some container volumes).
    """

    def __init__(self, root: Path, reload: Callable[[], bool], poll_seconds: float = 30.0):
        self._root = root
        self._reload = reload
        self._poll_ms = int(poll_seconds * 1000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="knowledge-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._root.is_dir():
                log.warning("knowledge folder missing, polling", extra={"path": str(self._root)})
                self._stop.wait(self._poll_ms / 1000)
                self._check()
                continue
            for _changes in watch(
                self._root, stop_event=self._stop, rust_timeout=self._poll_ms,
                yield_on_timeout=True, raise_interrupt=False,
            ):
                self._check()

    def _check(self) -> None:
        try:
            if self._reload():
                INDEX_BUILT_AT.set_to_current_time()
                log.info("knowledge index reloaded")
        except Exception:
            # A broken file must never stop the watcher: the last good index keeps serving.
            log.exception("knowledge reload failed; the previous index keeps serving")


@dataclass
class Runtime:
    """Everything `banso serve` runs; started and stopped by the web app's lifespan."""

    services: Services
    bolt_app: Any = None
    scheduler: Background | None = None
    watcher: KnowledgeWatcher | None = None
    # Connects Socket Mode (SLACK_APP_TOKEN) and returns the handle start() keeps to close.
    connect_socket_mode: Callable[[], Any] | None = None
    socket_mode: Any = None
    # Called by the ingest API with new ContactChange ids, so that alert goes out at once.
    on_contact_changes: Callable[[list[int]], None] | None = None
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
    # Imported here: these modules import `Services` from this one.
    from bot.app import BotServices, build_bolt_app
    from bot.socket import start_socket_mode
    from jobs.alerts.scheduled import JobContext, contact_change_hook
    from jobs.alerts.scheduler import build_scheduler

    services = services or build_services(settings)
    runtime = Runtime(services=services)
    if settings.slack_enabled:
        bolt_app = build_bolt_app(settings, BotServices(
            retriever=services.retriever, session_factory=services.session_factory,
            now=services.now, slack=services.slack,
        ))
        runtime.bolt_app = bolt_app
        app_token = settings.slack_app_token
        if app_token is not None:
            runtime.connect_socket_mode = lambda: start_socket_mode(
                bolt_app, app_token.get_secret_value()
            )
    scheduler = build_scheduler(settings, services) if settings.scheduler_enabled else None
    runtime.scheduler = scheduler
    ctx = scheduler.ctx if scheduler else JobContext.build(
        settings, services.session_factory, services.slack
    )
    runtime.on_contact_changes = contact_change_hook(ctx, services.now)
    if settings.watch_knowledge:
        runtime.watcher = KnowledgeWatcher(
            settings.knowledge_dir, services.retriever.reload_if_changed
        )
    return runtime
