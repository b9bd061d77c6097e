"""HTTP mode: `POST /slack/events` on the FastAPI app, for events, commands and interactivity.

The route always exists and is documented: without Slack settings it answers 503 with the
variables that turn it on (a 404 read as "wrong URL" to whoever set up the Slack app).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

EVENTS_PATH = "/slack/events"
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


def mount(fastapi_app: FastAPI, bolt_app: App | None, path: str = EVENTS_PATH) -> None:
    """Add the Slack endpoint. Bolt verifies the signature and timestamp (bad or old → 401).

    bolt's own `SlackRequestHandler.handle` calls the synchronous `App.dispatch` inside an
    `async def`, which would block the event loop for every other request while it runs; the
    same conversion is done here with `dispatch` moved to the thread pool.
    """

    async def slack_events(request: Request) -> Response:
        if bolt_app is None:
            return JSONResponse({"detail": NOT_CONFIGURED}, status_code=503)
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    fastapi_app.add_api_route(path, slack_events, methods=["POST"], name="slack_events",
                              tags=["slack"], **_DOC)
