"""What a CSM's Home shows, loaded from the database: the alerts their routing choice shows
and their live accounts, assessed now."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from cs.accounts.models import LIVE_STATUSES, Account
from cs.accounts.service import facts_for
from cs.alerts.models import Alert, AlertStatus
from cs.alerts.routing import alerts_for_user
from cs.community.activity import window_activity
from cs.home.view import StaffHome
from cs.kpis.service import Attention, attention_of, rank_attention
from cs.rules.models import CommunityActivity
from cs.rules.rules import Assessor, UnknownCurrencyError

log = logging.getLogger(__name__)

# Each account is assessed on its own (a few queries); past this many, a CSM's Home would be
# slow to open, and the bands list the most important accounts first anyway.
MAX_HOME_ACCOUNTS = 200


def open_alerts(session: Session, settings: Settings, user_id: str, now: datetime) -> list[Alert]:
    """The alerts the user's routing choice (own / team / all) shows, minus snoozed; worst first."""
    return [
        a for a in alerts_for_user(session, settings, user_id)
        if not (a.status == AlertStatus.SNOOZED.value and a.snoozed_until
                and a.snoozed_until > now)
    ]


def owned_accounts(
    session: Session, user_id: str, now: datetime, assess: Assessor,
    community: dict[str, CommunityActivity] | None = None,
) -> tuple[list[Attention], int]:
    """The user's live accounts assessed now (the largest MRR first when capped), and the total."""
    query = (
        select(Account.id)
        .where(Account.owner_user_id == user_id, Account.status.in_(LIVE_STATUSES))
        .order_by(Account.mrr.desc(), Account.id)
    )
    ids = list(session.scalars(query))
    if community is None:
        community = window_activity(session, now, assess.rules.health.measures.community,
                                    ids[:MAX_HOME_ACCOUNTS])
    assessed = []
    for account_id in ids[:MAX_HOME_ACCOUNTS]:
        try:
            facts = facts_for(session, account_id, now, community.get(account_id))
            assessed.append(attention_of(assess(facts, now)))
        except UnknownCurrencyError as exc:
            # One account in a currency without a rate must not blank the CSM's whole Home.
            log.warning("account left out of Home: %s", exc, extra={"account": account_id})
    return rank_attention(assessed, len(assessed)), len(ids)


def load_staff_home(
    session: Session, settings: Settings, user_id: str, now: datetime, assess: Assessor
) -> StaffHome:
    alerts = open_alerts(session, settings, user_id, now)
    rules = assess.rules.health.measures.community
    mine = list(session.scalars(select(Account.id).where(
        Account.owner_user_id == user_id, Account.status.in_(LIVE_STATUSES))))
    community = window_activity(session, now, rules, mine)
    accounts, total = owned_accounts(session, user_id, now, assess, community)
    names: dict[str, str] = {
        account_id: name for account_id, name in session.execute(
            select(Account.id, Account.name).where(Account.id.in_(list(community))))}
    asked = sorted(((names[account], activity) for account, activity in community.items()),
                   key=lambda pair: (-pair[1].friction, -pair[1].questions, pair[0]))
    return StaffHome(alerts, accounts, total, asked, rules.window_days)
