"""Who is asking, for support: an escalation from a linked member names the account's tier,
owner and health, so support knows a high-touch customer is waiting.

Wired into `Services.asker_context` by the shell; `bot.clicks.ask_human` calls it while it
builds the post for the support channel (a staff-only channel: no customer sees it). A member
whose contact the links sync has not reached yet is linked on the spot (`link_now`).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from core.i18n import Lang, t
from core.services import Services
from core.slack.blocks import escape
from cs.accounts.service import facts_for
from cs.community.activity import window_activity
from cs.community.identity import Member, link_now, member_for
from cs.rules.rules import assess

log = logging.getLogger(__name__)


def describe_asker(services: Services, session: Session, slack_user_id: str,
                   lang: Lang) -> str | None:
    """"🏢 Account · tier · owner · health" for a linked member; None for anyone else.

    Never fails the escalation: a problem with the account's data only drops the line."""
    try:
        return _describe(services, session, slack_user_id, lang)
    except Exception:
        log.exception("asker context failed", extra={"user": slack_user_id})
        return None


def _describe(services: Services, session: Session, slack_user_id: str,
              lang: Lang) -> str | None:
    now = services.local_now()
    member = member_for(session, slack_user_id) or _link_now(services, session, slack_user_id)
    if member is None:
        return None
    activity = window_activity(session, now, services.rules.health.measures.community,
                               [member.account_id])
    facts = facts_for(session, member.account_id, now, activity.get(member.account_id))
    assessment = assess(facts, now, services.rules, lang=lang)
    owner = f"<@{facts.owner_user_id}>" if facts.owner_user_id else t("community.no_owner", lang)
    return t("community.escalation_account", lang, account=escape(facts.name),
             tier=t(f"kpis.touch.{assessment.touch_model.value}", lang), owner=owner,
             score=assessment.health.score,
             band=t(f"kpis.band.{assessment.health.band.value}", lang))


def _link_now(services: Services, session: Session, slack_user_id: str) -> Member | None:
    if services.slack is None:
        return None
    # In a savepoint: a failed link (e.g. the sync linking the same contact at this moment)
    # drops only the link, never the escalation being recorded in this session.
    with session.begin_nested():
        return link_now(session, services.slack, slack_user_id, services.now())
