"""`Services`: the one set of collaborators every surface receives, built once by the shell.

HTTP routes, bolt listeners, scheduled jobs and CLI commands all take this object (or the few
fields they need from it); nothing else carries collaborators around. `banso.runtime` builds it
from `Settings` at start-up: the database, the rules file (read and validated once), the
Slack client, the one staff directory, and the knowledge index where the command searches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utc_now
from core.i18n import Lang
from core.rules_config import RulesConfig
from core.settings import Settings
from core.slack.staff import StaffDirectory
from retrieval.service import Retriever


class SlackNotConfigured(RuntimeError):
    """A Slack call was needed but SLACK_BOT_TOKEN is not set."""


class NoKnowledgeIndex(RuntimeError):
    """A search was needed but this process loaded no knowledge index."""


class AskerContext(Protocol):
    """One line on who a Slack user is to the CS team (the shell wires cs.community's)."""

    def __call__(self, services: Services, session: Session, slack_user_id: str,
                 lang: Lang) -> str | None: ...


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    rules: RulesConfig
    staff: StaffDirectory
    slack: WebClient | None = None  # None: Slack not configured; alerts are stored and logged
    knowledge: Retriever | None = None  # None: a command that never searches (jobs, imports)
    now: Callable[[], datetime] = utc_now
    # Marks an escalation with the asker's account (tier, owner, health); None: not shown.
    asker_context: AskerContext | None = None

    @property
    def client(self) -> WebClient:
        """The Slack client, for code that only runs when Slack is on (bolt listeners)."""
        if self.slack is None:
            raise SlackNotConfigured("set SLACK_BOT_TOKEN to use Slack")
        return self.slack

    @property
    def retriever(self) -> Retriever:
        if self.knowledge is None:
            raise NoKnowledgeIndex("this command did not load the knowledge index")
        return self.knowledge

    @property
    def lang(self) -> Lang:
        """The team's language: alert cards, digests and CS texts (rules file `jobs.lang`)."""
        return self.rules.jobs.lang

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def local_now(self) -> datetime:
        """Now in the team's time zone: the calendar the CS team counts days in."""
        return self.now().astimezone(self.timezone)
