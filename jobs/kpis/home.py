"""App Home: a CSM's open alerts (worst first, same one-click actions) and their accounts by
health band; everyone else gets how to ask the bot, in Japanese or English by Slack locale.

The view is a pure function of typed data; `publish_home` loads the data and calls
views.publish; `register` wires `app_home_opened`. Alert buttons keep the action ids of
`jobs.alerts.blocks`, so jobs.alerts.handlers handles clicks from the Home tab as well.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from banso.settings import Settings
from bot.channels import StaffDirectory
from jobs.accounts.models import Account
from jobs.accounts.service import LIVE_STATUSES, facts_for
from jobs.alerts.blocks import alert_card
from jobs.alerts.models import Alert, AlertStatus
from jobs.alerts.routing import alerts_for_user
from jobs.kpis.service import Attention, attention_of, rank_attention
from jobs.kpis.texts import TEXTS as DIGEST_TEXTS
from jobs.rules.config import RulesConfig, load_rules
from jobs.rules.rules import UnknownCurrencyError, assess

if TYPE_CHECKING:  # handlers imports this module: a runtime import would be circular
    from jobs.alerts.handlers import HandlerServices

log = logging.getLogger(__name__)

Block = dict[str, Any]
MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home tab view
SECTION_LIMIT = 3000
# Each account is assessed on its own (a few queries); past this many, a CSM's Home would be
# slow to open, and the bands list the most important accounts first anyway.
MAX_HOME_ACCOUNTS = 200
BAND_ORDER = ("at_risk", "middle", "healthy")

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "🏠 あなたの担当",
        "alerts": "*未対応のアラート* ({n}件、重要度の高い順)",
        "no_alerts": "未対応のアラートはありません 🎉",
        "more_alerts": "ほか {n}件のアラートは各チャンネルのカードから対応できます。",
        "accounts": "*担当アカウント (ヘルス別)* {n}社",
        "no_accounts": "担当アカウントはありません。",
        "more_accounts": "ほか {n}社",
        "capped": "重要度の高い {n}社のみ表示しています。",
        "guest_title": "👋 伴走ボットへようこそ",
        "guest_body": (
            "製品の使い方や設定について、いつでも質問できます。\n"
            "• このアプリに *DM* で質問を送る\n"
            "• チャンネルで *@伴走* とメンションして質問する\n"
            "• どこからでも `/ask 質問内容` を使う\n"
            "回答には出典ページが付きます。答えられないときは「担当者に聞く」で"
            "サポートチームにつなぎます。"
        ),
        "guest_example": "例: 「請求書の宛名を変更するには？」",
    },
    "en": {
        "title": "🏠 Your accounts",
        "alerts": "*Open alerts* ({n}, most important first)",
        "no_alerts": "No open alerts 🎉",
        "more_alerts": "{n} more alerts can be handled from their cards in the channels.",
        "accounts": "*Your accounts by health band* {n}",
        "no_accounts": "You own no accounts.",
        "more_accounts": "{n} more",
        "capped": "Showing the {n} most important accounts only.",
        "guest_title": "👋 Welcome to Banso",
        "guest_body": (
            "Ask about using or setting up the product at any time:\n"
            "• send this app a *DM*\n"
            "• mention *@Banso* in a channel\n"
            "• use `/ask your question` anywhere\n"
            "Answers link to their source page. When the bot cannot answer, "
            "\"Ask a human\" brings in the support team."
        ),
        "guest_example": "Example: \"How do I change the name on my invoice?\"",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    return TEXTS.get(lang, TEXTS["ja"])[key].format(**values)


def lang_of_locale(locale: str | None) -> str:
    """Slack's user locale ("ja-JP", "en-US"...) to the bot's language; Japanese by default."""
    return "en" if locale and locale.lower().startswith("en") else "ja"


@dataclass(frozen=True)
class StaffHome:
    alerts: list[Alert]  # worst first
    accounts: list[Attention]  # most in need of attention first
    total_accounts: int


def _clip(text: str) -> str:
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}


def _band_label(band: str, lang: str) -> str:
    return DIGEST_TEXTS.get(lang, DIGEST_TEXTS["ja"]).get(f"band.{band}", band)


def _band_text(band: str, accounts: list[Attention], lang: str) -> str:
    """One band's accounts as lines, cut (with 'N more') before Slack's section limit."""
    head = f"*{_band_label(band, lang)}* ({len(accounts)})"
    lines: list[str] = []
    size = len(head)
    for i, a in enumerate(accounts):
        line = f"• {a.name} — {a.health_score} / {a.mrr:,} {a.currency}"
        more = "\n" + t(lang, "more_accounts", n=len(accounts) - i)
        if size + len(line) + 1 + len(more) > SECTION_LIMIT:
            lines.append(more.strip())
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join([head, *lines])


def account_blocks(home: StaffHome, lang: str) -> list[Block]:
    blocks = [_section(t(lang, "accounts", n=home.total_accounts))]
    if not home.accounts:
        return [*blocks, _context(t(lang, "no_accounts"))]
    by_band: dict[str, list[Attention]] = defaultdict(list)
    for account in home.accounts:
        by_band[account.health_band].append(account)
    bands = [b for b in BAND_ORDER if b in by_band] + sorted(set(by_band) - set(BAND_ORDER))
    blocks += [_section(_band_text(b, by_band[b], lang)) for b in bands]
    if home.total_accounts > len(home.accounts):
        blocks.append(_context(t(lang, "capped", n=len(home.accounts))))
    return blocks


def staff_view(home: StaffHome, lang: str) -> dict[str, Any]:
    """Alerts first, as many whole cards as fit beside the accounts within 100 blocks."""
    accounts = account_blocks(home, lang)
    head = [{"type": "header", "text": {"type": "plain_text", "text": t(lang, "title")}},
            _section(t(lang, "alerts", n=len(home.alerts)))]
    budget = MAX_VIEW_BLOCKS - len(head) - len(accounts) - 2  # divider + "more alerts" line
    cards: list[Block] = []
    shown = 0
    for alert in home.alerts:
        try:
            card = [*alert_card(alert, alert.summary, lang), {"type": "divider"}]
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
        tail.append(_context(t(lang, "no_alerts")))
    elif shown < len(home.alerts):
        tail.append(_context(t(lang, "more_alerts", n=len(home.alerts) - shown)))
    return {"type": "home", "blocks": [*head, *cards, *tail, {"type": "divider"}, *accounts]}


def guest_view(lang: str) -> dict[str, Any]:
    return {"type": "home", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": t(lang, "guest_title")}},
        _section(t(lang, "guest_body")),
        _context(t(lang, "guest_example")),
    ]}


# --- loading -----------------------------------------------------------------------------------


def open_alerts(session: Session, settings: Settings, user_id: str, now: datetime) -> list[Alert]:
    """The alerts the user's routing choice (own / team / all) shows, minus snoozed; worst first."""
    return [
        a for a in alerts_for_user(session, settings, user_id)
        if not (a.status == AlertStatus.SNOOZED.value and a.snoozed_until
                and a.snoozed_until > now)
    ]


def owned_accounts(
    session: Session, user_id: str, now: datetime, rules: RulesConfig
) -> tuple[list[Attention], int]:
    """The user's live accounts assessed now (the largest MRR first when capped), and the total."""
    query = (
        select(Account.id)
        .where(Account.owner_user_id == user_id, Account.status.in_(LIVE_STATUSES))
        .order_by(Account.mrr.desc(), Account.id)
    )
    ids = list(session.scalars(query))
    assessed = []
    for account_id in ids[:MAX_HOME_ACCOUNTS]:
        try:
            assessed.append(attention_of(assess(facts_for(session, account_id, now), now, rules)))
        except UnknownCurrencyError as exc:
            # One account in a currency without a rate must not blank the CSM's whole Home.
            log.warning("account left out of Home: %s", exc, extra={"account": account_id})
    return rank_attention(assessed, len(assessed)), len(ids)


def load_staff_home(
    session_factory: sessionmaker[Session], settings: Settings, user_id: str, now: datetime,
    rules: RulesConfig,
) -> StaffHome:
    with session_factory() as session:
        alerts = open_alerts(session, settings, user_id, now)
        accounts, total = owned_accounts(session, user_id, now, rules)
    return StaffHome(alerts, accounts, total)


def user_lang(client: WebClient, user_id: str) -> str:
    try:
        reply = client.users_info(user=user_id, include_locale=True)
    except SlackApiError as exc:
        log.warning("users.info failed; Home in Japanese", extra={"error": str(exc)})
        return "ja"
    return lang_of_locale((reply.get("user") or {}).get("locale"))


def publish_home(
    client: WebClient,
    settings: Settings,
    session_factory: sessionmaker[Session],
    staff: StaffDirectory,
    user_id: str,
    now: datetime,
) -> dict[str, Any]:
    """Build and publish the user's Home tab; returns the view (also handy after an alert click)."""
    lang = user_lang(client, user_id)
    if staff.is_staff(user_id):
        rules = load_rules(settings.rules_file)
        local_now = now.astimezone(ZoneInfo(settings.timezone))
        view = staff_view(
            load_staff_home(session_factory, settings, user_id, local_now, rules), lang
        )
    else:
        view = guest_view(lang)
    client.views_publish(user_id=user_id, view=view)
    return view


def clicked_in_home(body: dict[str, Any]) -> bool:
    """Whether a block_actions payload came from the Home tab (not a channel card)."""
    return (body.get("view") or {}).get("type") == "home"


def refresh_after_click(
    body: dict[str, Any],
    client: WebClient,
    settings: Settings,
    session_factory: sessionmaker[Session],
    staff: StaffDirectory,
    now: datetime,
) -> bool:
    """Re-publish the clicker's Home after an alert click made there (the card in the channel
    is re-rendered by the alert outbox; the Home view is this module's). For
    jobs.alerts.handlers to call once the click is applied; True when it re-published."""
    user = (body.get("user") or {}).get("id")
    if not user or not clicked_in_home(body):
        return False
    publish_home(client, settings, session_factory, staff, str(user), now)
    return True


def register(app: App, services: HandlerServices) -> Callable[..., None]:
    """Listen to `app_home_opened` (bot.app calls this beside jobs.alerts.handlers)."""
    settings: Settings = services.settings
    staff = StaffDirectory(services.slack or app.client, settings.staff_usergroup,
                           settings.staff_users, services.now)

    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        try:
            publish_home(services.slack or client, settings, services.session_factory, staff,
                         str(event["user"]), services.now())
        except SlackApiError as exc:
            log.warning("views.publish failed", extra={"error": exc.response.get("error")})

    app.event("app_home_opened")(on_home_opened)
    return on_home_opened
