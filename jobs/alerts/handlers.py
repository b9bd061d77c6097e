"""Bolt listeners for the alert buttons and `/banso-alerts`: parse, call the service, render.

Each listener acks first (Slack's 3 seconds), then checks the clicker is staff, applies the click
in one transaction and sends the queued re-render and thread line through the outbox, so the
card is rebuilt from the stored alert exactly as a scheduled run would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from banso.db import session_scope
from banso.metrics import ALERT_ACTIONS
from banso.settings import Settings
from bot.channels import StaffDirectory
from jobs.accounts.service import TouchpointError, UnknownAccountError
from jobs.alerts.actions import AlertNotFoundError, BadClickError, Click, apply_click
from jobs.alerts.blocks import SNOOZE_CHOICES, TOUCH_CHOICES, ActionId, AlertRef, t
from jobs.alerts.delivery import Outbox
from jobs.alerts.models import ActionKind
from jobs.alerts.routing import RoutingError, parse_scope, set_scope
from jobs.alerts.scheduled import JobsConfig
from jobs.alerts.service import begin_write
from jobs.kpis.home import refresh_after_click
from jobs.rules.config import load_rules

log = logging.getLogger(__name__)

ALERTS_COMMAND = "/banso-alerts"
SNOOZE_UNTIL_HOUR = 9  # a snooze "until a date" ends that morning, in settings.timezone

ACTION_KINDS = {
    ActionId.ACKNOWLEDGE: ActionKind.ACKNOWLEDGE,
    ActionId.ASSIGN: ActionKind.ASSIGN,
    ActionId.RESOLVE: ActionKind.RESOLVE,
    ActionId.NOT_USEFUL: ActionKind.NOT_USEFUL,
    ActionId.SNOOZE: ActionKind.SNOOZE,
    ActionId.SNOOZE_UNTIL: ActionKind.SNOOZE,
    ActionId.LOG_TOUCH: ActionKind.LOG_TOUCH,
}

FAILED = {
    "ja": "操作を記録できませんでした。しばらくしてからもう一度お試しください。",
    "en": "That action could not be recorded. Please try again in a moment.",
}

REFUSALS = {
    "ja": "この操作はスタッフのみ可能です。",
    "en": "Only staff can act on alerts.",
}


class HandlerServices(Protocol):
    """What the listeners use: `banso.services.Services` or bot.app's RoomServices."""

    @property
    def settings(self) -> Settings: ...

    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def slack(self) -> WebClient | None: ...

    @property
    def now(self) -> Callable[[], datetime]: ...


@dataclass(frozen=True)
class ClickRequest:
    """The parts of a block_actions payload an alert click needs."""

    user_id: str
    channel: str | None
    click: Click


def parse_click(body: dict[str, Any], now: datetime, timezone: str) -> ClickRequest:
    """Turn Slack's payload into a Click; BadClickError names what is wrong."""
    try:
        action = body["actions"][0]
        user_id = str(body["user"]["id"])
        action_id = ActionId(action["action_id"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise BadClickError("not an alert action") from None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id")
    click = Click(
        alert_id=_alert_id(action), user_id=user_id, action=ACTION_KINDS[action_id],
        action_ts=str(action.get("action_ts") or body.get("trigger_id") or ""), at=now,
        snooze_until=_snooze_until(action_id, action, now, timezone),
        touch_kind=_touch_kind(action_id, action),
    )
    return ClickRequest(user_id=user_id, channel=channel, click=click)


def _alert_id(action: dict[str, Any]) -> int:
    try:
        if action.get("value"):
            return AlertRef.model_validate_json(action["value"]).alert_id
        prefix, _, alert_id = str(action.get("block_id", "")).partition(":")
        if prefix != "alert":
            raise ValueError(prefix)
        return int(alert_id)
    except (ValidationError, ValueError):
        raise BadClickError("the button does not name an alert") from None


def _selected(action: dict[str, Any]) -> str | None:
    option = action.get("selected_option") or {}
    return option.get("value")


def _snooze_until(action_id: ActionId, action: dict[str, Any], now: datetime,
                  timezone: str) -> datetime | None:
    if action_id is ActionId.SNOOZE:
        choice = _selected(action)
        if choice not in SNOOZE_CHOICES:
            raise BadClickError(f"unknown snooze choice {choice!r}")
        return now + timedelta(days=SNOOZE_CHOICES[choice])
    if action_id is ActionId.SNOOZE_UNTIL:
        try:
            day = date.fromisoformat(str(action.get("selected_date")))
        except ValueError:
            raise BadClickError("snooze needs a date") from None
        local = datetime.combine(day, time(SNOOZE_UNTIL_HOUR), ZoneInfo(timezone))
        return local.astimezone(now.tzinfo)
    return None


def _touch_kind(action_id: ActionId, action: dict[str, Any]) -> str | None:
    if action_id is not ActionId.LOG_TOUCH:
        return None
    kind = _selected(action)
    if kind not in TOUCH_CHOICES:
        raise BadClickError(f"unknown touch kind {kind!r}: use call, meeting or email")
    return kind


class AlertHandlers:
    def __init__(self, services: HandlerServices, staff: StaffDirectory, lang: str = "ja") -> None:
        self.services = services
        self.staff = staff
        self.lang = lang

    def on_action(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id")
        if not self.staff.is_staff(user):
            self._tell(client, channel, user, REFUSALS.get(self.lang, REFUSALS["ja"]))
            return
        try:
            request = parse_click(body, self.services.now(), self.services.settings.timezone)
            with session_scope(self.services.session_factory) as session:
                begin_write(session)
                outcome = apply_click(session, request.click)
                kind = outcome.alert.kind
        except (BadClickError, AlertNotFoundError, TouchpointError, UnknownAccountError) as exc:
            self._tell(client, channel, user, str(exc))
            return
        except Exception:
            # The database or Slack failed mid-click: say so, nothing was half-recorded.
            log.exception("alert click failed", extra={"user": user})
            self._tell(client, channel, user, FAILED.get(self.lang, FAILED["ja"]))
            return
        if outcome.recorded:
            ALERT_ACTIONS.labels(kind, request.click.action.value).inc()
        Outbox(self.services.session_factory, self.services.slack or client,
               lang=self.lang).deliver(self.services.now(), alert_id=request.click.alert_id)
        # A click made in App Home re-renders the clicker's Home from the database as well.
        refresh_after_click(body, client, self.services.settings, self.services.session_factory,
                            self.staff, self.services.now())

    def on_alerts_command(self, ack: Ack, command: dict[str, Any]) -> None:
        user = str(command.get("user_id", ""))
        if not self.staff.is_staff(user):
            ack(REFUSALS.get(self.lang, REFUSALS["ja"]))
            return
        try:
            scope = parse_scope(str(command.get("text", "")) or "own")
            with session_scope(self.services.session_factory) as session:
                set_scope(session, self.services.settings, user, scope, self.services.now())
        except RoutingError as exc:
            ack(str(exc))
            return
        ack(t(self.lang, "routing.set", scope=scope.value))

    def _tell(self, client: WebClient, channel: str | None, user: str | None, text: str) -> None:
        if not channel or not user:
            return
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("could not tell the user", extra={"error": exc.response.get("error")})


def register(app: App, services: HandlerServices, lang: str | None = None) -> AlertHandlers:
    """Add the alert listeners to the bot's bolt app (called by `bot.app.build_bolt_app`)."""
    settings = services.settings
    if lang is None:
        lang = JobsConfig.model_validate(load_rules(settings.rules_file).jobs).lang
    staff = StaffDirectory(services.slack or app.client, settings.staff_usergroup,
                           settings.staff_users, services.now)
    handlers = AlertHandlers(services, staff, lang)
    for action_id in ActionId:
        app.action(action_id.value)(handlers.on_action)
    app.command(ALERTS_COMMAND)(handlers.on_alerts_command)
    return handlers
