"""Website-chat questions that carry an account: a token the embedding site signs.

The site's server, which knows its logged-in user's account, makes the token with the shared
secret BANSO_CHAT_ACCOUNT_SECRET and passes it to the chat page, which sends it with each
question (`account_token` in POST /api/ask):

    v1.<account_id>.<expires: unix seconds>.<hex HMAC-SHA256(secret, "v1.<account_id>.<expires>")>

An unsigned, wrongly signed, expired or unknown-account token is ignored: the question is
answered as always and counts for no account. The browser never sees the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.models import Question
from cs.accounts.models import Account
from cs.community.activity import week_of
from cs.community.models import CommunityQuestion, Outcome

log = logging.getLogger(__name__)

VERSION = "v1"


def sign_account_token(secret: str, account_id: str, expires: int) -> str:
    """What the embedding site computes (also used by tests)."""
    payload = f"{VERSION}.{account_id}.{expires}"
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{digest}"


def verified_account(token: str | None, secret: str | None, now: datetime) -> str | None:
    """The account id a valid token names, else None (never an exception)."""
    if not token or not secret:
        return None
    version, _, rest = token.partition(".")
    body, _, digest = rest.rpartition(".")
    account_id, _, expires = body.rpartition(".")
    if version != VERSION or not account_id or not expires.isdigit():
        return None
    expected = sign_account_token(secret, account_id, int(expires)).rpartition(".")[2]
    if not hmac.compare_digest(expected, digest):
        log.info("website chat account token with a bad signature ignored")
        return None
    if int(expires) < now.timestamp():
        return None
    return account_id


def record_web_question(session: Session, question_id: int, account_id: str,
                        tz: ZoneInfo) -> bool:
    """Count a website-chat question for its account; False if the account is unknown."""
    if session.get(Account, account_id) is None:
        return False
    question = session.get_one(Question, question_id)
    decision = question.decision
    outcome = {"answer": Outcome.ANSWERED, "suggest": Outcome.SUGGESTED}.get(
        decision, Outcome.ABSTAINED)
    session.add(CommunityQuestion(
        question_id=question_id, account_id=account_id, slack_user_id=None,
        channel=None, permalink=None, outcome=outcome.value, helpful=0, unhelpful=0,
        asked_at=question.created_at, week=week_of(question.created_at, tz)))
    session.flush()
    return True
