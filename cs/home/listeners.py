"""The Home tab's listener: `app_home_opened` publishes the user's Home; an alert click made
in the Home tab re-publishes it (banso.slack_app hands `HomeTab.publish` to the alert
listeners)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.i18n import Lang, as_lang
from core.services import Services
from cs.home.service import load_staff_home
from cs.home.view import StaffHome, guest_view, staff_view
from cs.rules.rules import Assessor

log = logging.getLogger(__name__)


def user_lang(client: WebClient, user_id: str) -> Lang:
    try:
        reply = client.users_info(user=user_id, include_locale=True)
    except SlackApiError as exc:
        log.warning("users.info failed; Home in Japanese", extra={"error": str(exc)})
        return "ja"
    return as_lang((reply.get("user") or {}).get("locale"))


class HomeTab:
    """Publishes Home views; keeps one Assessor per language, so the rules' memo lives as long
    as the process instead of being rebuilt (and the rules file re-read) on every open."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._assessors: dict[Lang, Assessor] = {}

    def publish(self, client: WebClient, user_id: str) -> dict[str, Any]:
        """Build and publish the user's Home tab; returns the view."""
        lang = user_lang(client, user_id)
        if self.services.staff.is_staff(user_id):
            view = staff_view(self._staff_home(user_id, lang), lang)
        else:
            view = guest_view(lang)
        client.views_publish(user_id=user_id, view=view)
        return view

    def on_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        try:
            self.publish(client, str(event["user"]))
        except SlackApiError as exc:
            log.warning("views.publish failed", extra={"error": exc.response.get("error")})

    def _staff_home(self, user_id: str, lang: Lang) -> StaffHome:
        services = self.services
        assess = self._assessors.setdefault(lang, Assessor(services.rules, lang))
        with services.session_factory() as session:
            return load_staff_home(session, services.settings, user_id, services.local_now(),
                                   assess)


def register(app: App, home: HomeTab) -> None:
    app.event("app_home_opened")(home.on_home_opened)
