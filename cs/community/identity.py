"""Who a Slack member is to the CS team: a contact, and so an account.

Two ways in, one answer: an explicit `contacts.slack_user_id` (import or API) wins; otherwise
the contact's email looked up with `users.lookupByEmail` (scope `users:read.email`), cached in
`community_links` and asked again after `community_link_refresh_days`. A member matching no
contact is simply unlinked: their questions count for no account. `link_now` is the same link
made from the member's side (`users.info`, same scope) for one member who cannot wait for the
next sync, e.g. one escalating to support.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cs.accounts.models import Contact
from cs.community.models import CommunityLink, LinkSource

log = logging.getLogger(__name__)

# Slack's answer when no member has the address: a real "no", cached like a yes.
_NOT_FOUND = "users_not_found"


@dataclass(frozen=True)
class Member:
    slack_user_id: str
    contact_id: int
    account_id: str
    source: LinkSource


def members_for(session: Session, user_ids: Iterable[str]) -> dict[str, Member]:
    """The linked members among `user_ids` (unknown ones are absent)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    found: dict[str, Member] = {}
    # Email links first, explicit ones after: the explicit link overwrites, so it wins.
    emailed = session.execute(
        select(CommunityLink.slack_user_id, Contact.id, Contact.account_id)
        .join(Contact, Contact.id == CommunityLink.contact_id)
        .where(CommunityLink.slack_user_id.in_(wanted), Contact.email == CommunityLink.email)
        .order_by(Contact.is_primary, Contact.updated_at, Contact.id)
    )
    for user, contact_id, account_id in emailed:
        if user is None:
            continue
        found[user] = Member(user, contact_id, account_id, LinkSource.EMAIL)
    explicit = session.execute(
        select(Contact.slack_user_id, Contact.id, Contact.account_id)
        .where(Contact.slack_user_id.in_(wanted))
        .order_by(Contact.is_primary, Contact.updated_at, Contact.id)
    )
    for user, contact_id, account_id in explicit:
        if user is None:
            continue
        found[user] = Member(user, contact_id, account_id, LinkSource.EXPLICIT)
    return found


def member_for(session: Session, slack_user_id: str | None) -> Member | None:
    if not slack_user_id:
        return None
    return members_for(session, [slack_user_id]).get(slack_user_id)


def refresh_links(
    session: Session, client: WebClient, now: datetime, *, refresh_days: int, limit: int,
) -> int:
    """Look up (at most `limit`) contacts never looked up, changed or older than the refresh
    age; returns how many were looked up. Stops at the first error that is not "not found"
    (rate limit, missing scope): nothing is cached for it, the next run tries again."""
    if limit <= 0:
        return 0
    stale = now - timedelta(days=refresh_days)
    due = session.execute(
        select(Contact.id, Contact.email, CommunityLink.contact_id)
        .outerjoin(CommunityLink, CommunityLink.contact_id == Contact.id)
        .where(Contact.slack_user_id.is_(None))
        .where(or_(CommunityLink.contact_id.is_(None), CommunityLink.looked_up_at < stale,
                   CommunityLink.email != Contact.email))
        # Never looked up first, then the oldest answers.
        .order_by(CommunityLink.looked_up_at.is_not(None), CommunityLink.looked_up_at, Contact.id)
        .limit(limit)
    ).all()
    done = 0
    for contact_id, email, cached in due:
        try:
            user = _lookup(client, email)
        except SlackApiError as exc:
            log.warning("users.lookupByEmail failed; links refresh stopped",
                        extra={"error": exc.response.get("error")})
            break
        link = session.get(CommunityLink, contact_id) if cached is not None else None
        if link is None:
            session.add(CommunityLink(contact_id=contact_id, email=email, slack_user_id=user,
                                      looked_up_at=now))
        else:
            link.email, link.slack_user_id, link.looked_up_at = email, user, now
        done += 1
    session.flush()
    return done


def _lookup(client: WebClient, email: str) -> str | None:
    try:
        reply = client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        if exc.response.get("error") == _NOT_FOUND:
            return None
        raise
    user = reply.get("user") or {}
    if user.get("deleted") or user.get("is_bot"):
        return None
    return str(user["id"]) if user.get("id") else None


def link_now(session: Session, client: WebClient, slack_user_id: str,
             now: datetime) -> Member | None:
    """Link a member the sync has not reached yet: their email (`users.info`) names the
    contact, and the link is cached as the sync's own lookup would be, so the next sync does
    not ask again. None when Slack gives no email or no contact has it."""
    email = _email_of(client, slack_user_id)
    if email is None:
        return None
    contacts = session.execute(
        select(Contact.id, Contact.email)
        .where(func.lower(Contact.email) == email.lower(), Contact.slack_user_id.is_(None))
    ).all()
    for contact_id, contact_email in contacts:
        link = session.get(CommunityLink, contact_id)
        if link is None:
            session.add(CommunityLink(contact_id=contact_id, email=contact_email,
                                      slack_user_id=slack_user_id, looked_up_at=now))
        else:
            link.email, link.slack_user_id, link.looked_up_at = (contact_email, slack_user_id,
                                                                 now)
    session.flush()
    return member_for(session, slack_user_id) if contacts else None


def _email_of(client: WebClient, slack_user_id: str) -> str | None:
    user = client.users_info(user=slack_user_id).get("user") or {}
    if user.get("deleted") or user.get("is_bot"):
        return None
    email = (user.get("profile") or {}).get("email")
    return str(email) if email else None
