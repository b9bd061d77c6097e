"""The FastAPI application factory: one app per Runtime, no module-level state."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from banso import __version__
from banso.runtime import Runtime, build_runtime, seed_demo_if_empty
from banso.web import (
    ask,
    cs_metrics,
    docs,
    examples,
    handoff,
    health,
    ingest,
    page,
    slack_events,
)
from banso.web.middleware import BodyLimitMiddleware, RequestContextMiddleware
from banso.web.ratelimit import RateLimiter
from core.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    runtime: Runtime,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    services = runtime.services
    settings = services.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Start/stop block (Socket Mode connect, scheduler waiting for its job): keep them off
        # the event loop.
        await anyio.to_thread.run_sync(runtime.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(runtime.stop)

    app = FastAPI(
        title="Banso",
        version=__version__,
        description="Customer-success chat-ops: website chat API, ingest API, health and metrics.",
        lifespan=lifespan,
        docs_url=None,  # served from packaged assets instead of a CDN (banso.web.docs)
        redoc_url=None,
    )
    app.state.services = services
    app.state.ask_limiter = RateLimiter(settings.ask_rate_limit_per_minute, clock=clock)
    app.state.handoff_limiter = RateLimiter(settings.handoff_rate_limit_per_minute, clock=clock)

    app.include_router(page.router)
    app.include_router(ask.router)
    app.include_router(examples.router)
    app.include_router(handoff.router)
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(cs_metrics.router)

    slack_events.mount(app, runtime.bolt_app)
    docs.mount(app)
    app.add_middleware(BodyLimitMiddleware, limits=_body_limits(settings))
    app.add_middleware(RequestContextMiddleware)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def _body_limits(settings: Settings) -> dict[str, int]:
    # A question of ask_max_chars characters is at most 4 bytes each in UTF-8, 6 JSON-escaped.
    return {"/api/ask": settings.ask_max_chars * 6 + 1024, "/api/feedback": 1024,
            "/api/handoff": 16 * 1024}


def build_app(settings: Settings, *, demo: bool = False) -> FastAPI:
    """The app `banso serve` runs: every collaborator built once from the settings."""
    runtime = build_runtime(settings)
    if demo:
        summary = seed_demo_if_empty(runtime.services)
        log.info(summary or "demo data not seeded: the database already has accounts")
        runtime.run_jobs_at_start = True
    return create_app(runtime)
