"""The typed payloads alert buttons and the snooze modal carry (ids: core.slack.ids)."""

from __future__ import annotations

from pydantic import BaseModel


class AlertRef(BaseModel):
    """The typed payload every alert button carries (and the actions block_id names)."""

    alert_id: int


class SnoozeViewRef(AlertRef):
    """The snooze modal's private_metadata: the alert, and where its button was clicked."""

    channel: str | None = None  # where to tell the clicker if the snooze cannot be applied
    home: bool = False  # clicked in App Home: re-publish it once the snooze is stored
