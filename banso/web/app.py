"""The FastAPI application factory: one app per Runtime, no module-level state."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
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
    outage,
    page,
    slack_events,
)
from banso.web.answers import AnswerLog
from banso.web.deps import api_token_refusal, bearer_token
from banso.web.middleware import BodyLimitMiddleware, BodyRule, Gate, RequestContextMiddleware
from banso.web.ratelimit import RateLimiter
from banso.web.validation import validation_error
from core.settings import Settings

log = logging.getLogger(__name__)

# Paths not named in `_body_rules` (the pages, probes, CS metrics) take no real body.
DEFAULT_MAX_BODY = 64 * 1024


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
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.ask_limiter = RateLimiter(settings.ask_rate_limit_per_minute, clock=clock)
    app.state.answer_log = AnswerLog(services.session_factory, services.timezone)
    app.state.handoff_limiter = RateLimiter(settings.handoff_rate_limit_per_minute, clock=clock)
    app.state.feedback_limiter = RateLimiter(settings.feedback_rate_limit_per_minute, clock=clock)

    app.include_router(page.router)
    app.include_router(ask.router)
    app.include_router(examples.router)
    app.include_router(handoff.router)
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(cs_metrics.router)
    outage.register(app)

    slack_events.mount(app, runtime.bolt_app, settings.slack_signing_secret)
    docs.mount(app)
    rules = _body_rules(settings, slack=runtime.bolt_app is not None)
    app.add_middleware(BodyLimitMiddleware, rules=rules, default=DEFAULT_MAX_BODY)
    app.add_middleware(RequestContextMiddleware)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def _body_rules(settings: Settings, *, slack: bool) -> dict[str, BodyRule]:
    """Every path's largest body; the ingest token and Slack's signature headers are checked
    before any of it is read."""
    ingest_rule = BodyRule(settings.ingest_max_body_bytes, _token_gate(settings))
    rules = {
        # The question's limit counts characters of the decoded text; the body may carry each
        # as a 12-byte JSON escape (an emoji is \ud83d\ude00), so 1,000 escaped emoji fit.
        "/api/ask": BodyRule(settings.ask_max_chars * 12 + 1024),
        "/api/feedback": BodyRule(1024),
        "/api/handoff": BodyRule(16 * 1024),
        **{path: ingest_rule for path in ingest.PATHS},
    }
    # Without Slack the route answers 503 unread; with it, the signature headers come first.
    gate = slack_events.signature_gate() if slack else None
    rules[slack_events.EVENTS_PATH] = BodyRule(slack_events.MAX_BODY_BYTES, gate)
    return rules


def _token_gate(settings: Settings) -> Gate:
    def gate(headers: Headers) -> Response | None:
        refusal = api_token_refusal(settings, bearer_token(headers.get("authorization")))
        if refusal is None:
            return None
        return JSONResponse({"detail": refusal.detail}, refusal.status_code, refusal.headers)

    return gate


def build_app(settings: Settings, *, demo: bool = False) -> FastAPI:
    """The app `banso serve` runs: every collaborator built once from the settings."""
    runtime = build_runtime(settings)
    if demo:
        summary = seed_demo_if_empty(runtime.services)
        log.info(summary or "demo data not seeded: the database already has accounts")
        runtime.run_jobs_at_start = True
    return create_app(runtime)
