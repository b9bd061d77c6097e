"""HTTP mode: `POST /slack/events` on the FastAPI app, for events, commands and interactivity.

Anything anonymous is refused before bolt sees it, in the order that costs the least: the
signature headers (401, before the body is read: `signature_gate`, run by the body limit
middleware), the size (413, 1 MB), the HMAC over the raw bytes (401), and only then the
parsing (400 for a signed body bolt cannot read). Bolt itself builds its request by parsing the
body first, so `{{{` or invalid UTF-8 would be a 500 there; and its own verifier logs the whole
body of a badly signed request at INFO, so an unsigned 200 MB POST was one 200 MB log line.

The route always exists and is documented: without Slack settings it answers 503 with the
variables that turn it on (a 404 read as "wrong URL" to whoever set up the Slack app).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import SecretStr
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import parse_body
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from core.slack.shape import check_shape

EVENTS_PATH = "/slack/events"
# Slack's event, command and interaction payloads are a few KB; a modal with long inputs or a
# message with many blocks stays far below this.
MAX_BODY_BYTES = 1024 * 1024
# Slack's documented replay window for X-Slack-Request-Timestamp.
MAX_CLOCK_SKEW_SECONDS = 5 * 60

log = logging.getLogger(__name__)

NOT_CONFIGURED = ("Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
                  "(HTTP mode) and restart")

_DOC: dict[str, Any] = {
    "summary": "Slack events, slash commands and interactivity (HTTP mode)",
    "description": "Set this URL as the Slack app's Request URL. Slack signs every request "
    "(`X-Slack-Signature`, `X-Slack-Request-Timestamp`); a missing, wrong or older than five "
    "minutes signature is refused with 401. The body is Slack's: JSON for the Events API "
    "(including the `url_verification` challenge), form-encoded for commands and interactivity. "
    "Without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET the endpoint answers 503.",
    "responses": {
        200: {"description": "Acknowledged (or the url_verification challenge echoed)."},
        401: {"description": "Signature missing, invalid or expired."},
        503: {"description": "Slack is not configured on this server.",
              "content": {"application/json": {"example": {"detail": NOT_CONFIGURED}}}},
    },
    "openapi_extra": {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
    }}},
}


def _refused() -> JSONResponse:
    return JSONResponse({"error": "invalid request"}, status_code=401)


def _timestamp(headers: Headers, now: float) -> str | None:
    """The request's timestamp if it is a plain integer within the replay window."""
    value = headers.get("x-slack-request-timestamp", "")
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        return None
    return value if abs(now - int(value)) <= MAX_CLOCK_SKEW_SECONDS else None


def signature_gate(clock: Callable[[], float] = time.time) -> Callable[[Headers], Response | None]:
    """Refuses (401) a request without a signature or with a stale or malformed timestamp."""

    def gate(headers: Headers) -> Response | None:
        if not headers.get("x-slack-signature") or _timestamp(headers, clock()) is None:
            return _refused()
        return None

    return gate


def is_signed(secret: str, body: bytes, headers: Headers, now: float) -> bool:
    """Slack's v0 signature, computed over the raw bytes (slack_sdk's verifier decodes them
    first and raises on invalid UTF-8 or a non-numeric timestamp)."""
    timestamp = _timestamp(headers, now)
    signature = headers.get("x-slack-signature", "")
    if timestamp is None or not signature.isascii():
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def mount(
    fastapi_app: FastAPI, bolt_app: App | None, signing_secret: SecretStr | None,
    path: str = EVENTS_PATH, clock: Callable[[], float] = time.time,
) -> None:
    """Add the Slack endpoint: verified here, then dispatched by bolt (which verifies again).

    Without a signing secret (Socket Mode only) every HTTP request is refused with 401.

    bolt's own `SlackRequestHandler.handle` calls the synchronous `App.dispatch` inside an
    `async def`, which would block the event loop for every other request while it runs; the
    same conversion is done here with `dispatch` moved to the thread pool.
    """
    secret = signing_secret.get_secret_value() if signing_secret else None

    async def slack_events(request: Request) -> Response:
        if bolt_app is None:
            return JSONResponse({"detail": NOT_CONFIGURED}, status_code=503)
        body = await _read_capped(request)
        if body is None:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        if secret is None or not is_signed(secret, body, request.headers, clock()):
            log.info("slack request refused: bad signature", extra={"bytes": len(body)})
            return _refused()
        try:
            bolt_request = _readable(request, body)
        except ValueError as exc:  # invalid UTF-8, not JSON / a form, or not Slack's shape
            log.info("signed slack request not readable: %s", str(exc)[:120],
                     extra={"bytes": len(body)})
            return JSONResponse({"error": "malformed body"}, status_code=400)
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    fastapi_app.add_api_route(path, slack_events, methods=["POST"], name="slack_events",
                              tags=["slack"], **_DOC)


def _readable(request: Request, body: bytes) -> BoltRequest:
    """The bolt request, once the body is known to parse as bolt parses it into Slack's shape
    (bolt's own builder reads fields with no type checks)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip() or None
    try:
        parsed = parse_body(body.decode("utf-8"), content_type)
    except RecursionError:  # json.loads on a few KB of "[[[[…": not a 500
        raise ValueError("JSON nested too deeply") from None
    check_shape(parsed)
    return to_bolt_request(request, body)


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None past MAX_BODY_BYTES (the middleware caps it first in `banso serve`;
    this keeps the route safe wherever it is mounted)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
