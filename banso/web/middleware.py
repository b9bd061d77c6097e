"""Per-request context: request id (X-Request-ID in and out), access log line, HTTP metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_id_var
from core.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("banso.http")

# A caller's id is reused only if it is short and plain, so it cannot forge log lines.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SAFE_ID.match(text):
                return text
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    # Label by template ("/api/ask"), never the raw path: raw paths would let any caller
    # create unbounded metric series.
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "<unmatched>"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id_var.set(rid)
        status = 500
        status_sent = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error")
            if status_sent:
                raise
            # Answer here, inside the request context, so the body and header carry the id.
            await JSONResponse(
                {"detail": "internal error", "request_id": rid}, status_code=500
            )(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            # Probes hit every few seconds; their successes would drown the real traffic.
            level = logging.DEBUG if route in _PROBES and status < 400 else logging.INFO
            log.log(
                level, "%s %s %s", method, route, status,
                extra={"status": status, "ms": round(elapsed * 1000, 1)},
            )
            request_id_var.reset(token)


# Checked on the headers alone, before a byte of the body is read: a response refuses the request.
Gate = Callable[[Headers], Response | None]


@dataclass(frozen=True)
class BodyRule:
    """The largest body a path accepts, and what its headers must show before it is read."""

    limit: int
    gate: Gate | None = None


class BodyLimitMiddleware:
    """Refuses request bodies above a per-path limit with 413, before any of it is parsed.

    FastAPI reads and parses a whole body before any dependency runs, so neither a question's
    length limit nor the ingest token check would stop a 1 GB upload. Every path has a limit
    (`default` unless `rules` names it); the body is read here, counting bytes (chunked uploads
    too), and replayed to the app. A path's gate (the ingest token, Slack's signature headers)
    runs first, so an anonymous caller is refused without the server reading its body at all.
    """

    def __init__(self, app: ASGIApp, rules: dict[str, BodyRule], default: int) -> None:
        self.app = app
        self.rules = rules
        self.default = BodyRule(default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        rule = self.rules.get(path, self.default)
        if path in self.rules:
            # Refusals happen before routing: name the route for the access line and metrics
            # (these paths are a fixed set, so the label stays bounded).
            scope.setdefault("route", _Named(path))
        headers = Headers(scope=scope)
        refusal = rule.gate(headers) if rule.gate else None
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > rule.limit:
            await _too_large(rule.limit)(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > rule.limit:
                await _too_large(rule.limit)(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        await self.app(scope, _replay(messages, receive), send)


@dataclass(frozen=True)
class _Named:
    path: str


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)
