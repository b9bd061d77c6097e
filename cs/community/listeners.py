"""The community room's Slack listener: a staff ✅ on an escalation post closes it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from core.db import session_scope
from core.services import Services
from core.slack.interaction import acknowledge
from cs.community.activity import close_escalation, sync_activity

log = logging.getLogger(__name__)

CLOSE_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check"})


def register(app: App, services: Services) -> None:
    def on_reaction(body: dict[str, Any]) -> None:
        closed_by_reaction(services, body.get("event") or {})

    app.event("reaction_added")(ack=acknowledge, lazy=[on_reaction])


def closed_by_reaction(services: Services, event: dict[str, Any]) -> bool:
    item = event.get("item") or {}
    support, user = services.settings.support_channel, event.get("user")
    if (event.get("reaction") not in CLOSE_REACTIONS or item.get("type") != "message"
            or not support or item.get("channel") != support or not item.get("ts")):
        return False
    if not services.staff.is_staff(user):
        return False  # only the support team's ✅ means a person has followed up
    now = services.now()
    sync_activity(services, now)  # the escalation's row may be younger than the last sync
    with session_scope(services.session_factory) as session:
        closed = close_escalation(session, support, item["ts"], str(user), now)
    if closed:
        log.info("escalation closed", extra={"channel": support, "ts": item["ts"]})
    return closed
