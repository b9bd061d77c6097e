"""Socket Mode: the bot connects out to Slack (SLACK_APP_TOKEN), no public URL needed.

Envelopes get the shape check HTTP requests get (`check_shape` before bolt dispatches): bolt's
request builder and our listeners read fields with no type checks, so a malformed payload is
acknowledged and dropped with one INFO line instead of reaching them and ending in a traceback.
"""

from __future__ import annotations

import logging
from typing import Protocol

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from core.slack.shape import MalformedPayload, check_shape

log = logging.getLogger(__name__)


class SocketHandle(Protocol):
    def close(self) -> None: ...


class ShapeCheckedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler, refusing envelopes whose payload is not Slack's shape."""

    def handle(self, client: BaseSocketModeClient,
               req: SocketModeRequest) -> None:
        try:
            check_shape(req.payload)
        except MalformedPayload as exc:
            log.info("socket mode envelope dropped: %s", str(exc)[:120],
                     extra={"envelope_type": req.type, "envelope_id": req.envelope_id})
            # Acknowledged all the same: unacknowledged, Slack would deliver it again.
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        super().handle(client, req)  # type: ignore[arg-type]


def start_socket_mode(bolt_app: App, app_token: str) -> SocketHandle:
    """Connect in a background thread and return at once; `.close()` disconnects."""
    if not app_token.startswith("xapp-"):
        raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
    handler = ShapeCheckedSocketModeHandler(bolt_app, app_token)
    handler.connect()
    return handler
