"""The shape every Slack request body must have before bolt or a listener reads it.

Bolt's request builder and our listeners index into payloads without type checks
(`body["user"]["id"]`, `event.get("text", "")`); a signed body with a string where an object
belongs was a 500 and a traceback. Only the fields something reads are described, each
optional and of the one type Slack sends; everything else passes through untouched.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Text = str | None
# Where an ephemeral answer goes; anything else could only make the reply fail (Slack's are
# https://hooks.slack.com/…).
Url = Annotated[str, Field(pattern=r"^https?://[^\s]+$")] | None
# User and channel ids (U…, W…, C…, D…, G…): our messages write them into <@…> and <#…>, so
# "U1> <!here" must never get that far.
SlackId = Annotated[str, Field(pattern=r"^[A-Z0-9]*$", max_length=64)] | None


class MalformedPayload(ValueError):
    """A Slack request body that is not the shape Slack sends (the web route answers 400)."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Id(_Part):
    id: SlackId = None


class _Option(_Part):
    value: Text = None


class _Action(_Part):
    type: Text = None
    action_id: Text = None
    block_id: Text = None
    value: Text = None
    action_ts: Text = None
    selected_date: Text = None
    selected_option: _Option | None = None


class _Event(_Part):
    type: Text = None
    subtype: Text = None
    user: SlackId = None
    bot_id: Text = None
    channel: SlackId = None
    channel_type: Text = None
    text: Text = None
    ts: Text = None
    thread_ts: Text = None
    tab: Text = None
    message: _Part | None = None  # message_changed and friends
    previous_message: _Part | None = None


class _Container(_Part):
    channel_id: SlackId = None
    message_ts: Text = None
    thread_ts: Text = None
    is_ephemeral: bool | None = None


class _Message(_Part):
    type: Text = None
    text: Text = None
    ts: Text = None
    thread_ts: Text = None


class _State(_Part):
    # block_id -> action_id -> the input's value object
    values: dict[str, dict[str, dict[str, Any]]] | None = None


class _View(_Part):
    id: Text = None
    type: str  # bolt reads view["type"] of every view_submission
    callback_id: Text = None
    private_metadata: Text = None
    state: _State | None = None


class _Payload(_Part):
    type: Text = None
    team: _Part | str | None = None
    enterprise: _Part | str | None = None
    authorizations: list[_Part] | None = None
    user: _Id | None = None
    channel: _Id | None = None
    container: _Container | None = None
    message: _Message | None = None
    view: _View | None = None
    event: _Event | None = None
    actions: list[_Action] | None = Field(None, min_length=1)  # bolt reads actions[0]
    response_url: Url = None
    trigger_id: Text = None
    user_id: SlackId = None  # slash commands
    channel_id: SlackId = None

    @model_validator(mode="before")
    @classmethod
    def _no_null_parts(cls, data: Any) -> Any:
        # Bolt reads body.get("event", {}).get(...): a key that is present must be an object.
        for key in ("event", "view", "actions"):
            if isinstance(data, dict) and key in data and data[key] is None:
                raise ValueError(f"{key} is null")
        return data


def check_shape(body: object) -> None:
    """Raise MalformedPayload unless `body` (a parsed request body) is shaped as Slack's are."""
    if not isinstance(body, dict):
        raise MalformedPayload(f"a Slack body is an object, not {type(body).__name__}")
    try:
        # Slack's text is valid UTF-8 and its numbers finite: a lone surrogate or a NaN passes
        # the types below and fails later, when a listener searches, stores or posts it.
        json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise MalformedPayload(f"not JSON Slack could send: {type(exc).__name__}") from None
    try:
        _Payload.model_validate(body)
    except ValidationError as exc:
        # Field locations only: the values are the sender's and stay out of the log (and so do
        # long or undecodable keys: a modal's block ids are the sender's too).
        where = ", ".join(".".join(_printable(p) for p in e["loc"]) for e in exc.errors()[:3])
        raise MalformedPayload(f"unexpected types at {where}") from None


def _printable(part: object) -> str:
    return str(part)[:24].encode("ascii", "backslashreplace").decode("ascii")
