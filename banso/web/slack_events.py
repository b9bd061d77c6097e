"""HTTP mode: `POST /slack/events` on the FastAPI app, for events, commands and interactivity."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

EVENTS_PATH = "/slack/events"


def mount(fastapi_app: FastAPI, bolt_app: App, path: str = EVENTS_PATH) -> None:
    """Add the Slack endpoint. Bolt verifies the signature and timestamp (bad or old → 401).

    bolt's own `SlackRequestHandler.handle` calls the synchronous `App.dispatch` inside an
    `async def`, which would block the event loop for every other request while it runs; the
    same conversion is done here with `dispatch` moved to the thread pool.
    """

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    fastapi_app.add_api_route(path, slack_events, methods=["POST"], include_in_schema=False,
                              name="slack_events")
