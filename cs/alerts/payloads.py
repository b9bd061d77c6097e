"""The typed payloads alert buttons and the snooze modal carry (ids: core.slack.ids)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class AlertRef(BaseModel):
    """The typed payload every alert button carries (and the actions block_id names)."""

    # alerts.id, a 32-bit INTEGER: a larger (forged) id is refused, not a database error
    alert_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


class SnoozeViewRef(AlertRef):
    """The snooze modal's private_metadata: the alert, and where its button was clicked."""

    channel: str | None = None  # where to tell the clicker if the snooze cannot be applied
    home: bool = False  # clicked in App Home: re-publish it once the snooze is stored
