"""Bolt listeners for the alert buttons and `/banso-alerts`: parse, call the service, render.

Each listener acks first (Slack's 3 seconds), then checks the clicker is staff, applies the click
in one transaction and sends the queued re-render and thread line through the outbox, so the
card is rebuilt from the stored alert exactly as a scheduled run would.

"Snooze…" opens a modal instead; its submission is validated before the ack (Slack shows
`response_action: errors` beside the inputs and keeps the modal open) and then applied through
the same `apply_click` as a button, keyed by the view's id so one modal is one action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from core.db import session_scope
from core.i18n import t
from core.metrics import ALERT_ACTIONS
from core.services import Services
from core.slack.ids import ActionId, CommandName, ViewId
from core.slack.interaction import Interaction, Refusal, handle
from core.slack.messages import Origin, clicked_in_home, replace
from cs.accounts.service import TouchpointError, UnknownAccountError
from cs.alerts.actions import AlertNotFoundError, BadClickError, Click, apply_click
from cs.alerts.blocks import (
    SNOOZE_CHOICES,
    SNOOZE_NOTE_MAX,
    SNOOZE_ON_DATE,
    TOUCH_CHOICES,
    SnoozeField,
    snooze_form,
)
from cs.alerts.digest import posted_digest
from cs.alerts.models import ActionKind, Alert
from cs.alerts.outbox import outbox_for
from cs.alerts.payloads import AlertRef, SnoozeViewRef
from cs.alerts.routing import RoutingError, parse_scope, set_scope
from cs.alerts.service import begin_write

log = logging.getLogger(__name__)

HomeRefresh = Callable[[WebClient, str], object]  # re-publish this user's App Home
SNOOZE_UNTIL_HOUR = 9  # a snooze "until a date" ends that morning, in settings.timezone

# Clicks applied at once; ActionId.SNOOZE_FORM opens the snooze modal instead.
ACTION_KINDS = {
    ActionId.ACKNOWLEDGE: ActionKind.ACKNOWLEDGE,
    ActionId.ASSIGN: ActionKind.ASSIGN,
    ActionId.RESOLVE: ActionKind.RESOLVE,
    ActionId.NOT_USEFUL: ActionKind.NOT_USEFUL,
    ActionId.SNOOZE: ActionKind.SNOOZE,
    ActionId.SNOOZE_UNTIL: ActionKind.SNOOZE,
    ActionId.LOG_TOUCH: ActionKind.LOG_TOUCH,
}
# The buttons of a tech-touch digest's items: applied the same way, then the digest re-renders.
DIGEST_ACTION_KINDS = {
    ActionId.DIGEST_TAKE_OVER: ActionKind.TAKE_OVER,
    ActionId.DIGEST_NOT_USEFUL: ActionKind.NOT_USEFUL,
}




@dataclass(frozen=True)
class ClickRequest:
    """The parts of a block_actions payload an alert click needs."""

    user_id: str
    channel: str | None
    click: Click


class SnoozeFormError(ValueError):
    """The snooze modal was submitted with bad input: input -> text key of what to fix."""

    def __init__(self, errors: dict[SnoozeField, str]) -> None:
        super().__init__(", ".join(f"{field}: {key}" for field, key in errors.items()))
        self.errors = errors


def parse_click(body: dict[str, Any], now: datetime, timezone: str) -> ClickRequest:
    """Turn Slack's payload into a Click; BadClickError names what is wrong."""
    try:
        action = body["actions"][0]
        user_id = str(body["user"]["id"])
        action_id = ActionId(action["action_id"])
        # An answer button's id is not an alert action either.
        kind = (ACTION_KINDS | DIGEST_ACTION_KINDS)[action_id]
    except (KeyError, IndexError, TypeError, ValueError):
        raise BadClickError("not an alert action") from None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id")
    click = Click(
        alert_id=_alert_id(action), user_id=user_id, action=kind,
        action_ts=str(action.get("action_ts") or body.get("trigger_id") or ""), at=now,
        day=today_in(now, timezone), snooze_until=_snooze_until(action_id, action, now, timezone),
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
        return AlertRef(alert_id=int(alert_id)).alert_id
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
        return snooze_for(SNOOZE_CHOICES[choice], now, timezone)
    if action_id is ActionId.SNOOZE_UNTIL:
        try:
            day = date.fromisoformat(str(action.get("selected_date")))
        except ValueError:
            raise BadClickError("snooze needs a date") from None
        return snooze_on(day, now, timezone)
    return None


def snooze_on(day: date, now: datetime, timezone: str) -> datetime:
    """A snooze "until a date" ends that morning in the team's time zone."""
    local = datetime.combine(day, time(SNOOZE_UNTIL_HOUR), ZoneInfo(timezone))
    return local.astimezone(now.tzinfo)


def snooze_for(days: int, now: datetime, timezone: str) -> datetime:
    """A quick snooze of N days ends at 09:00 on the team's calendar day N days from today
    (docs/alerts.md), not N × 24 hours after the click."""
    return snooze_on(today_in(now, timezone) + timedelta(days=days), now, timezone)


def today_in(now: datetime, timezone: str) -> date:
    """The team's calendar day at `now`: the day a click counts in (its snooze, its card)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def parse_snooze_form(body: dict[str, Any], now: datetime,
                      timezone: str) -> tuple[ClickRequest, SnoozeViewRef]:
    """Turn a snooze modal's view_submission into a Click.

    SnoozeFormError names the inputs to fix (shown in the modal); BadClickError means the
    payload is not our modal at all.
    """
    try:
        view = body["view"]
        user_id = str(body["user"]["id"])
        ref = SnoozeViewRef.model_validate_json(view["private_metadata"])
    except (KeyError, TypeError, ValidationError):
        raise BadClickError("the form does not name an alert") from None
    values = (view.get("state") or {}).get("values") or {}

    def entered(field: SnoozeField) -> dict[str, Any]:
        return dict((values.get(field.value) or {}).get(field.value) or {})

    choice = (entered(SnoozeField.CHOICE).get("selected_option") or {}).get("value")
    picked = entered(SnoozeField.DATE).get("selected_date")
    note = str(entered(SnoozeField.NOTE).get("value") or "").strip() or None
    errors: dict[SnoozeField, str] = {}
    until = None
    if choice in SNOOZE_CHOICES:
        until = snooze_for(SNOOZE_CHOICES[choice], now, timezone)
    elif choice == SNOOZE_ON_DATE:
        try:
            until = snooze_on(date.fromisoformat(str(picked)), now, timezone)
        except ValueError:
            errors[SnoozeField.DATE] = "error.date"
        if until is not None and until <= now:
            errors[SnoozeField.DATE] = "error.past"
    else:
        errors[SnoozeField.CHOICE] = "error.choice"
    if note is not None and len(note) > SNOOZE_NOTE_MAX:  # Slack enforces it; a forged one not
        errors[SnoozeField.NOTE] = "error.note"
    if errors:
        raise SnoozeFormError(errors)
    # The view's id is the same for every submission of this one modal (a double click on
    # Submit), so it plays the part of a button's action_ts.
    click = Click(alert_id=ref.alert_id, user_id=user_id, action=ActionKind.SNOOZE,
                  action_ts=str(view.get("id") or ""), at=now, day=today_in(now, timezone),
                  snooze_until=until, note=note)
    return ClickRequest(user_id=user_id, channel=ref.channel, click=click), ref


def _touch_kind(action_id: ActionId, action: dict[str, Any]) -> str | None:
    if action_id is not ActionId.LOG_TOUCH:
        return None
    kind = _selected(action)
    if kind not in TOUCH_CHOICES:
        raise BadClickError(f"unknown touch kind {kind!r}: use call, meeting or email")
    return kind


class AlertHandlers:
    """The alert listeners over one `Services`. A click made in App Home re-publishes the
    clicker's Home through `refresh_home` once it is stored (banso.slack_app passes it)."""

    def __init__(self, services: Services, refresh_home: HomeRefresh | None = None) -> None:
        self.services = services
        self.refresh_home = refresh_home

    def on_action(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()

        def work(click: Interaction) -> None:
            request = _or_refuse(lambda: parse_click(body, self.services.now(),
                                                     self.services.settings.timezone))
            self._apply(click, request)
            if clicked_in_home(body):
                self._refresh_home(client, click.user)

        self._handle(body, work)

    def on_digest_action(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Take over or dismiss a digest item, then show the digest as it is now."""
        ack()

        def work(click: Interaction) -> None:
            request = _or_refuse(lambda: parse_click(body, self.services.now(),
                                                     self.services.settings.timezone))
            self._apply(click, request)
            origin = click.origin
            digest = posted_digest(click.session, origin.channel, origin.message_ts,
                                   self.services.lang)
            if digest is not None:
                replace(client, origin, digest)

        self._handle(body, work)

    def on_snooze_form(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The "Snooze…" button: open the modal on the click's trigger_id (valid for 3 s)."""
        ack()

        def work(click: Interaction) -> None:
            alert_id = _or_refuse(lambda: _alert_id(click.action))
            ref = SnoozeViewRef(alert_id=alert_id, channel=click.origin.channel,
                                home=clicked_in_home(body))
            alert = click.session.get(Alert, ref.alert_id)
            if alert is None:
                raise Refusal(f"alert {ref.alert_id} not found")
            view = snooze_form(alert, alert.summary, self.services.lang, ref)
            client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)

        self._handle(body, work)

    def on_snooze_submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The snooze modal's view_submission: errors keep it open, success closes it."""
        lang = self.services.lang
        user = (body.get("user") or {}).get("id")
        if not self.services.staff.is_staff(user):
            ack(response_action="errors",
                errors={SnoozeField.CHOICE.value: t("alerts.refusal", lang)})
            return
        try:
            request, ref = parse_snooze_form(body, self.services.now(),
                                             self.services.settings.timezone)
        except SnoozeFormError as exc:
            ack(response_action="errors",
                errors={field.value: t(f"alerts.{key}", lang) for field, key in exc.errors.items()})
            return
        except BadClickError as exc:
            ack(response_action="errors", errors={SnoozeField.CHOICE.value: str(exc)})
            return
        ack()

        def work(click: Interaction) -> None:
            self._apply(click, request)
            if ref.home:
                self._refresh_home(client, request.user_id)

        origin = Origin(channel=ref.channel, message_ts=None, thread_ts=None, ephemeral=False,
                        response_url=None)
        self._handle(body, work, origin=origin)

    def _refresh_home(self, client: WebClient, user: str) -> None:
        if self.refresh_home is not None:
            self.refresh_home(client, user)

    def _handle(self, body: dict[str, Any], work: Callable[[Interaction], None],
                origin: Origin | None = None) -> None:
        handle(self.services, body, work, lang=self.services.lang, apology="alerts.failed",
               staff_only=True, origin=origin)

    def _apply(self, click: Interaction, request: ClickRequest) -> None:
        """Store the click, then send the card's re-render through the outbox."""
        begin_write(click.session)
        try:
            outcome = apply_click(click.session, request.click)
        except (BadClickError, AlertNotFoundError, TouchpointError, UnknownAccountError) as exc:
            raise Refusal(str(exc)) from exc
        kind = outcome.alert.kind
        card = outcome.alert.card_of or outcome.alert.id  # the alert whose message shows it
        click.session.commit()  # the outbox reads the queued re-render in its own session
        if outcome.recorded:
            ALERT_ACTIONS.labels(kind, request.click.action.value).inc()
        outbox_for(self.services, click.services.client).deliver(
            self.services.now(), alert_id=card)

    def on_alerts_command(self, ack: Ack, command: dict[str, Any]) -> None:
        lang = self.services.lang
        user = str(command.get("user_id", ""))
        if not self.services.staff.is_staff(user):
            ack(t("alerts.refusal", lang))
            return
        try:
            scope = parse_scope(str(command.get("text", "")) or "own")
            with session_scope(self.services.session_factory) as session:
                set_scope(session, self.services.settings, user, scope, self.services.now())
        except RoutingError as exc:
            ack(str(exc))
            return
        ack(t("alerts.routing.set", lang, scope=scope.value))


T = TypeVar("T")


def _or_refuse(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except BadClickError as exc:
        raise Refusal(str(exc)) from exc


def register(app: App, services: Services, *, refresh_home: HomeRefresh | None = None) -> None:
    """Add the alert listeners to the one bolt app (banso.slack_app)."""
    handlers = AlertHandlers(services, refresh_home)
    for action_id in ACTION_KINDS:
        app.action(action_id.value)(handlers.on_action)
    for action_id in DIGEST_ACTION_KINDS:
        app.action(action_id.value)(handlers.on_digest_action)
    app.action(ActionId.SNOOZE_FORM.value)(handlers.on_snooze_form)
    app.view(ViewId.SNOOZE.value)(handlers.on_snooze_submit)
    app.command(CommandName.ALERTS.value)(handlers.on_alerts_command)
