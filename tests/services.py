"""`Services` as the shell builds them, over the test database and the test's own clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import Engine

from core.clock import utc_now
from core.db import make_session_factory
from core.rules_config import RulesConfig, load_rules
from core.services import Services
from core.settings import Settings
from core.slack.staff import StaffDirectory
from cs.community.escalations import describe_asker
from retrieval.service import Retriever


def services_for(
    settings: Settings, engine: Engine, *, slack: WebClient | None = None,
    retriever: Retriever | None = None, now: Callable[[], datetime] = utc_now,
    rules: RulesConfig | None = None,
) -> Services:
    return Services(
        settings=settings, engine=engine, session_factory=make_session_factory(engine),
        rules=rules or load_rules(settings.rules_file),
        staff=StaffDirectory.of(settings, slack, now), slack=slack, knowledge=retriever, now=now,
        asker_context=describe_asker,
    )
