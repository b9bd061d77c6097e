"""The small typed payload every answer button carries in its `value` (ids: core.slack.ids)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Slack caps a button value at 2,000 characters; ours are a few dozen.
MAX_VALUE_CHARS = 2000


class BadPayload(ValueError):
    """A button value that is not ours (forged, truncated or from an older version)."""


class AnswerRef(BaseModel):
    """Which stored question a button belongs to and which entry it shows (short keys: compact)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # bot_questions.id, a 32-bit INTEGER: a larger (forged) id is refused, not a database error
    q: Annotated[int, Field(ge=1, le=2**31 - 1)]
    e: Annotated[str | None, Field(max_length=200)] = None  # knowledge entry id

    def encode(self) -> str:
        value = self.model_dump_json(exclude_none=True)
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"button value of {len(value)} chars exceeds Slack's limit")
        return value

    @classmethod
    def decode(cls, value: str | None) -> AnswerRef:
        try:
            return cls.model_validate_json(value or "")
        except ValidationError as exc:
            raise BadPayload(f"not an answer button value: {value!r}") from exc
