"""`banso serve`: one process running HTTP, the Slack connection, the scheduler and the watcher."""

from __future__ import annotations

import logging
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from banso.cli.support import require_knowledge, settings_or_exit, start_up_errors

log = logging.getLogger("banso.serve")

# Seconds uvicorn lets in-flight requests finish after SIGTERM before closing connections.
GRACEFUL_SECONDS = 20


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after its graceful shutdown, so the exit status would
        # read "killed by SIGTERM"; a finished shutdown is exit 0 for Docker and systemd.
        self._captured_signals.clear()


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default BANSO_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Bind port (default BANSO_PORT).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed demo accounts first if the database has none.")
    ] = False,
) -> None:
    """Run the HTTP API, chat page, Slack connection, scheduler and knowledge watcher."""
    from banso.web.app import build_app
    from core.logs import configure_logging

    settings = settings_or_exit(announce=False, host=host, port=port)
    require_knowledge(settings)
    configure_logging(settings)
    log.info("using %s", settings.data_location)
    with start_up_errors(settings):
        app = build_app(settings, demo=demo)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # ours (core.logs) already routes uvicorn's loggers
        access_log=False,
        # Forwarded headers are handled by the app, only for BANSO_TRUSTED_PROXIES.
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    log.info("serving on http://%s:%s (chat page /, API docs /docs)", settings.host, settings.port)
    server = _Server(config)
    server.run()
    if not server.started:
        log.error("banso failed to start (see the error above)")
        raise typer.Exit(3)
    log.info("banso stopped cleanly")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
