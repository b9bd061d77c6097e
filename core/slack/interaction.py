"""The one preamble of every Slack interaction (a button, a menu, a shortcut, a modal button).

`handle` reads who clicked and where, refuses non-staff where only staff may act, opens the
one database session the interaction uses, runs the room's `work`, commits, and turns every
failure into a short ephemeral line next to the card: `Refusal` (a stale or forged button, a
click that is not allowed) says why and stores nothing; anything else is logged and answered
with the room's apology. A click never goes silently nowhere, and never half-records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.i18n import Lang, t
from core.services import Services
from core.slack import messages
from core.slack.blocks import Message, notice
from core.slack.messages import Origin

log = logging.getLogger(__name__)


class Refusal(Exception):
    """Tell the clicker this instead of doing the click (nothing of it is stored)."""


@dataclass
class Interaction:
    """What a room's `work` receives: the collaborators, the one session, who and where."""

    services: Services
    session: Session
    body: dict[str, Any]
    user: str
    origin: Origin
    lang: Lang  # the language of the lines told to the clicker; `work` may refine it
    told: list[str] = field(default_factory=list)

    @property
    def action(self) -> dict[str, Any]:
        """The clicked element of a block_actions payload ({} for other payloads)."""
        actions = self.body.get("actions") or [{}]
        first = actions[0] if isinstance(actions, list) and actions else {}
        return first if isinstance(first, dict) else {}

    def tell(self, text: str) -> None:
        """An ephemeral line to the clicker, next to the card they clicked."""
        self.told.append(text)
        tell(self.services, self.origin, self.user, notice(text))


def handle(
    services: Services, body: dict[str, Any], work: Callable[[Interaction], None], *,
    lang: Lang, apology: str, staff_only: bool = False, refusal: str = "alerts.refusal",
    origin: Origin | None = None,
) -> Interaction:
    """Run `work` as one interaction; `apology` and `refusal` are text keys in `lang`;
    `origin` replaces the payload's own where it names no message (a modal submission)."""
    origin = origin or Origin.of_action(body)
    user = str((body.get("user") or {}).get("id") or "")
    if staff_only and not services.staff.is_staff(user):
        refused = Interaction(services, _no_session(), body, user, origin, lang)
        refused.tell(t(refusal, lang))
        return refused
    with services.session_factory() as session:
        interaction = Interaction(services, session, body, user, origin, lang)
        try:
            work(interaction)
            session.commit()
        except Refusal as exc:
            session.rollback()
            log.info("interaction refused", extra=_where(interaction, str(exc)))
            interaction.tell(str(exc))
        except Exception:
            session.rollback()
            log.exception("interaction failed", extra=_where(interaction, None))
            interaction.tell(t(apology, interaction.lang))
    return interaction


def tell(services: Services, origin: Origin, user: str, message: Message) -> None:
    """An ephemeral message to `user`; a failure to tell is logged, never raised."""
    try:
        messages.tell(services.client, origin, user, message)
    except Exception:
        log.exception("could not tell the user about an interaction")


def _where(interaction: Interaction, reason: str | None) -> dict[str, Any]:
    action = interaction.action
    return {"action": action.get("action_id"), "action_ts": action.get("action_ts"),
            "user": interaction.user, "reason": reason}


def _no_session() -> Session:
    # A refused interaction touches nothing: an unbound session raises on any use.
    return Session()


def acknowledge(ack: Any) -> None:
    """The ack of a listener whose work runs lazily (Slack wants its 200 within 3 s)."""
    ack()
