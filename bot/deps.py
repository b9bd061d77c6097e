"""What the bot's listeners are given: the collaborators, built once in `bot.app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from banso.settings import Settings
from bot.channels import ChannelPolicy, StaffDirectory, may_show
from retrieval.models import Entry, SearchResult, Visibility


class AnswerSource(Protocol):
    """What the bot needs from `retrieval.service.Retriever`."""

    def search(self, query: str, visibility: Visibility, k: int = 10) -> SearchResult: ...

    @property
    def entries(self) -> list[Entry]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BotServices:
    """Passed to `build_bolt_app`; `slack` None builds a client from the settings.

    Field names match `banso.services.Services`, so that object can be passed as it is.
    """

    retriever: AnswerSource
    session_factory: sessionmaker[Session]
    now: Callable[[], datetime] = utc_now  # the clock
    slack: WebClient | None = None


@dataclass(frozen=True)
class Bot:
    """Everything a listener uses, closed over at registration (no per-request app state)."""

    settings: Settings
    services: BotServices
    client: WebClient
    policy: ChannelPolicy
    staff: StaffDirectory

    def now(self) -> datetime:
        return self.services.now()

    def entry(self, entry_id: str | None, visibility: str) -> Entry | None:
        """The entry `entry_id` if it still exists and `visibility` may see it."""
        if not entry_id:
            return None
        for entry in self.services.retriever.entries:
            if entry.id == entry_id:
                return entry if may_show(entry.visibility, Visibility(visibility)) else None
        return None
