"""App Home views as pure functions of typed data: a CSM's open alerts (worst first, the same
one-click actions as the cards) and their accounts by health band; for everyone else, how to
ask the bot. Alert buttons keep the action ids of `cs.alerts.blocks`, so cs.alerts.listeners
handles clicks from the Home tab as well.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from core.i18n import Lang, t
from core.slack.blocks import (
    MAX_VIEW_BLOCKS,
    SECTION_LIMIT,
    Block,
    context,
    divider,
    escape,
    header,
    section,
)
from cs.alerts.blocks import alert_card
from cs.alerts.models import Alert
from cs.kpis.service import Attention
from cs.rules.models import CommunityActivity

log = logging.getLogger(__name__)

BAND_ORDER = ("at_risk", "middle", "healthy")


@dataclass(frozen=True)
class StaffHome:
    alerts: list[Alert]  # worst first
    accounts: list[Attention]  # most in need of attention first
    total_accounts: int
    # (account name, its members' questions in the community window), most friction first
    community: list[tuple[str, CommunityActivity]] = field(default_factory=list)
    community_days: int = 7


def _band_label(band: str, lang: Lang) -> str:
    return t(f"kpis.band.{band}", lang)


def _band_text(band: str, accounts: list[Attention], lang: Lang) -> str:
    """One band's accounts as lines, cut (with 'N more') before Slack's section limit."""
    head = f"*{_band_label(band, lang)}* ({len(accounts)})"
    lines: list[str] = []
    size = len(head)
    for i, a in enumerate(accounts):
        line = f"• {escape(a.name)} — {a.health_score} / {a.mrr:,} {a.currency}"
        more = "\n" + t("home.more_accounts", lang, n=len(accounts) - i)
        if size + len(line) + 1 + len(more) > SECTION_LIMIT:
            lines.append(more.strip())
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join([head, *lines])


def account_blocks(home: StaffHome, lang: Lang) -> list[Block]:
    blocks = [section(t("home.accounts", lang, n=home.total_accounts))]
    if not home.accounts:
        return [*blocks, context(t("home.no_accounts", lang))]
    by_band: dict[str, list[Attention]] = defaultdict(list)
    for account in home.accounts:
        by_band[account.health_band].append(account)
    bands = [b for b in BAND_ORDER if b in by_band] + sorted(set(by_band) - set(BAND_ORDER))
    blocks += [section(_band_text(b, by_band[b], lang)) for b in bands]
    if home.total_accounts > len(home.accounts):
        blocks.append(context(t("home.capped", lang, n=len(home.accounts))))
    return blocks


MAX_COMMUNITY_LINES = 15  # accounts listed; counts only, never a question's text


def community_blocks(home: StaffHome, lang: Lang) -> list[Block]:
    """The owner's accounts whose members asked in the community window."""
    if not home.community:
        return []
    lines = [t("community.home", lang, days=home.community_days)]
    lines += [t("community.home_line", lang, account=escape(name), questions=a.questions,
                answered=a.answered, suggested=a.suggested, unanswered=a.unanswered,
                helpful=a.helpful, unhelpful=a.unhelpful, escalations=a.escalations,
                open=a.open_escalations)
              for name, a in home.community[:MAX_COMMUNITY_LINES]]
    return [section("\n".join(lines), "community")]


def staff_view(home: StaffHome, lang: Lang) -> dict[str, Any]:
    """Alerts first, as many whole cards as fit beside the accounts within 100 blocks."""
    accounts = account_blocks(home, lang) + community_blocks(home, lang)
    head = [header(t("home.title", lang)),
            section(t("home.alerts", lang, n=len(home.alerts)))]
    budget = MAX_VIEW_BLOCKS - len(head) - len(accounts) - 2  # divider + "more alerts" line
    cards: list[Block] = []
    shown = 0
    for alert in home.alerts:
        try:
            card = [*alert_card(alert, alert.summary, lang), divider()]
        except ValidationError:
            # One alert with unreadable evidence must not blank the whole Home tab.
            log.warning("alert evidence unreadable; left out of Home", extra={"alert": alert.id})
            continue
        if len(cards) + len(card) > budget:
            break
        cards += card
        shown += 1
    tail: list[Block] = []
    if not home.alerts:
        tail.append(context(t("home.no_alerts", lang)))
    elif shown < len(home.alerts):
        tail.append(context(t("home.more_alerts", lang, n=len(home.alerts) - shown)))
    return {"type": "home", "blocks": [*head, *cards, *tail, divider(), *accounts]}


def guest_view(lang: Lang) -> dict[str, Any]:
    return {"type": "home", "blocks": [
        header(t("home.guest_title", lang)),
        section(t("home.guest_body", lang)),
        context(t("home.guest_example", lang)),
    ]}
