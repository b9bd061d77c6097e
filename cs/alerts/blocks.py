"""Slack blocks for alerts, as pure functions of the stored alert (tested as data).

Every state change re-renders the whole card from the row and `chat.update`s it, so the card
never drifts from the database. Times are written as Slack date tokens so each reader sees
their own time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from core.i18n import Lang, t
from core.slack.blocks import (
    MAX_MESSAGE_BLOCKS,
    Block,
    clip,
    context,
    divider,
    escape,
    header,
    plain,
    section,
)
from core.slack.ids import ActionId, ViewId
from cs.alerts.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertSummary,
    ContactChangeLine,
    Delivery,
    DigestPage,
    SignalLine,
    TouchLine,
)
from cs.alerts.payloads import AlertRef, SnoozeViewRef
from cs.rules.models import Phase

# Items per digest message, each a line and a row of buttons: 2 × 24 + the header (or the
# "continued" line) + the footer is Slack's 50 blocks. Longer digests are several messages.
DIGEST_PAGE_ITEMS = (MAX_MESSAGE_BLOCKS - 2) // 2
# A shared card: headline, fields, notes, then a divider, evidence, state and buttons per
# alert; one account has at most one alert per kind (7), so this cap is never reached.
MAX_CARD_PARTS = (MAX_MESSAGE_BLOCKS - 3) // 4


class SnoozeField(StrEnum):
    """The snooze modal's inputs; each is both the block_id and its element's action_id."""

    CHOICE = "snooze_choice"  # radio: 1d / 1w / 30d / until the date below
    DATE = "snooze_date"
    NOTE = "snooze_note"  # the optional reason


SNOOZE_CHOICES = {"1d": 1, "1w": 7, "30d": 30}
SNOOZE_ON_DATE = "date"  # the modal's fourth choice: until the picked date
SNOOZE_NOTE_MAX = 500
MODAL_TEXT_LIMIT = 24  # a modal's title, submit and close labels
TOUCH_CHOICES = ("call", "meeting", "email")





def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else ""


def when(at: datetime | None) -> str:
    if at is None:
        return ""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short}} {{time}}|{fallback}>"


def with_note(line: str, note: str | None) -> str:
    return f"{line} — {escape(note)}" if note else line


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def title(alert: Alert, summary: AlertSummary, lang: Lang) -> str:
    # Account names come from the customer records (ingest, CSV): inert in mrkdwn.
    return f"{t('alerts.kind.' + alert.kind, lang)}: {escape(summary.account_name)}"


def fallback_text(alert: Alert, summary: AlertSummary, lang: Lang) -> str:
    """The notification text (and what screen readers say); mentions the owner of a card."""
    return group_text([(alert, summary)], lang)


def alert_card(alert: Alert, summary: AlertSummary, lang: Lang = "ja") -> list[Block]:
    """One alert's card: the account (owner, tier, health, links), the evidence, its state
    and its buttons."""
    blocks = [section(_headline(alert, summary, lang)), *_account(summary, lang)]
    blocks += _part(alert, summary, lang)
    return blocks


def group_card(parts: list[tuple[Alert, AlertSummary]], lang: Lang = "ja") -> list[Block]:
    """One card for the alerts of one account that fired the same day: the account once,
    then each alert with its own evidence, state and buttons (they may differ)."""
    if len(parts) == 1:
        return alert_card(*parts[0], lang)
    host, latest = parts[0][0], parts[-1][1]  # the newest assessment describes the account
    owner = mention(host.owner_user_id) or f"_{t('alerts.unowned', lang)}_"
    headline = (f"*{escape(latest.account_name)}*  {t('alerts.owner', lang)}: {owner}"
                + _account_link(latest, lang))
    blocks = [section(headline), *_account(latest, lang)]
    for alert, summary in parts[:MAX_CARD_PARTS]:
        kind = f"*{t('alerts.kind.' + alert.kind, lang)}*"
        if alert.status == AlertStatus.RESOLVED.value:
            kind = f"~{kind}~"
        blocks.append(divider())
        blocks += _part(alert, summary, lang, heading=kind)
    return blocks


def group_text(parts: list[tuple[Alert, AlertSummary]], lang: Lang) -> str:
    """The notification text of a card: the owner and every alert on it."""
    host, summary = parts[0]
    kinds = " / ".join(t("alerts.kind." + alert.kind, lang) for alert, _ in parts)
    line = f"{mention(host.owner_user_id)} {kinds}: {escape(summary.account_name)}"
    return clip(line.strip())


def _headline(alert: Alert, summary: AlertSummary, lang: Lang) -> str:
    owner = mention(alert.owner_user_id) or f"_{t('alerts.unowned', lang)}_"
    line = f"*{title(alert, summary, lang)}*  {t('alerts.owner', lang)}: {owner}"
    line = f"~{line}~" if alert.status == AlertStatus.RESOLVED.value else line
    return line + _account_link(summary, lang)


def _account_link(summary: AlertSummary, lang: Lang) -> str:
    if not summary.account_url:
        return ""
    return f"  <{escape(summary.account_url)}|{t('alerts.open_account', lang)}>"


def _account(summary: AlertSummary, lang: Lang) -> list[Block]:
    """What every card says about the account: tier, MRR, health and its main reasons,
    the renewal countdown (renewal phase only) and the recent touches."""
    blocks: list[Block] = [{"type": "section", "fields": _fields(summary, lang)}]
    notes = []
    if summary.health_reasons:
        reasons = " / ".join(summary.health_reasons)
        notes.append(t("alerts.health_reasons", lang, reasons=reasons))
    touches = " · ".join(_touch(touch, lang) for touch in summary.recent_touches)
    notes.append(t("alerts.recent_touches", lang, touches=touches or t("alerts.no_touch", lang)))
    blocks.append(context(*notes))
    return blocks


def _fields(summary: AlertSummary, lang: Lang) -> list[dict[str, str]]:
    fields = [
        f"*{t('alerts.touch', lang)}*\n{t('alerts.touch.' + summary.touch_model, lang)}",
        f"*{t('alerts.mrr', lang)}*\n{_money(summary.mrr, summary.currency)}",
    ]
    if summary.health_score is not None:
        fields.append(f"*{t('alerts.health', lang)}*\n{_health(summary, lang)}")
    if (summary.phase == Phase.RENEWAL.value and summary.days_to_renewal is not None
            and summary.renewal_date is not None):
        fields.append(
            f"*{t('alerts.renewal', lang)}*\n{t('alerts.days', lang, n=summary.days_to_renewal)} "
            f"({_day(summary.renewal_date)})"
        )
    return [{"type": "mrkdwn", "text": text} for text in fields]


def _health(summary: AlertSummary, lang: Lang) -> str:
    if summary.health_band is None:
        return str(summary.health_score)
    band = t(f"alerts.band.{summary.health_band}", lang)
    return t("alerts.health_value", lang, score=summary.health_score, band=band)


def _money(amount: int, currency: str) -> str:
    return f"{amount:,} {currency}"


def _day(day: date) -> str:
    return day.isoformat()


def _ago(days: int, lang: Lang) -> str:
    return t("alerts.today", lang) if days == 0 else t("alerts.days_ago", lang, n=days)


def _touch(touch: TouchLine, lang: Lang) -> str:
    line = t("alerts.touch_line", lang, kind=t(f"alerts.touch.{touch.kind}", lang),
             day=_day(touch.on), ago=_ago(touch.days_ago, lang))
    return f"{line} {mention(touch.user_id)}".rstrip()


def _part(alert: Alert, summary: AlertSummary, lang: Lang,
          heading: str | None = None) -> list[Block]:
    """The alert's own evidence, its state and (while not resolved) its buttons."""
    blocks: list[Block] = []
    lines = [f"• {line}" for line in _evidence(alert, summary, lang)]
    text = "\n".join([heading, *lines] if heading else lines)
    if text:
        blocks.append(section(text))
    blocks.append(context(*_state_lines(alert, lang)))
    if alert.status != AlertStatus.RESOLVED.value:
        blocks.append(_actions(alert, lang))
    return blocks


def _evidence(alert: Alert, summary: AlertSummary, lang: Lang) -> list[str]:
    """What this kind of alert needs for the next step (escaped where it is customer text)."""
    if alert.kind == AlertKind.AT_RISK.value and summary.signals:
        return [f"{signal.text} — {_trend(signal, lang)}" for signal in summary.signals]
    if alert.kind == AlertKind.CONTACT_CHANGE.value and summary.contact is not None:
        return _contact(summary.contact, lang)
    if alert.kind == AlertKind.RENEWAL.value:
        return _renewal(summary, lang)
    return list(summary.reasons)


def _trend(signal: SignalLine, lang: Lang) -> str:
    if signal.previous is None or signal.value is None:
        return t("alerts.trend.new", lang)
    if signal.previous == signal.value:
        return t("alerts.trend.same", lang)
    worse = (signal.value > signal.previous) == signal.higher_is_worse
    return t("alerts.trend.worse" if worse else "alerts.trend.better", lang,
             before=f"{signal.previous:g}")


def _contact(contact: ContactChangeLine, lang: Lang) -> list[str]:
    def person(name: str | None, email: str | None) -> str:
        parts = [escape(name) if name else "", f"({escape(email)})" if email else ""]
        return " ".join(p for p in parts if p) or "—"

    moved = (t("alerts.contact.moved_to", lang, place=escape(contact.moved_to))
             if contact.moved_to else t("alerts.contact.moved_unknown", lang))
    return [
        t("alerts.contact.previous", lang,
          name=person(contact.previous_name, contact.previous_email)),
        moved,
        t("alerts.contact.new", lang, name=person(contact.new_name, contact.new_email)),
        t("alerts.contact.changed", lang, day=_day(contact.changed_on),
          ago=_ago(contact.days_since, lang)),
    ]


def _renewal(summary: AlertSummary, lang: Lang) -> list[str]:
    lines = [t("alerts.contract_value_line", lang,
               value=_money(summary.mrr * 12, summary.currency),
               mrr=_money(summary.mrr, summary.currency))]
    if summary.renewal_date is not None and summary.days_to_renewal is not None:
        lines.append(t("alerts.renewal_line", lang, date=_day(summary.renewal_date),
                       days=t("alerts.days", lang, n=summary.days_to_renewal)))
    last = summary.last_touch
    lines.append(t("alerts.last_touch", lang,
                   touch=_touch(last, lang) if last else t("alerts.no_touch", lang)))
    return lines


def _state_lines(alert: Alert, lang: Lang) -> list[str]:
    status = alert.status
    resolver, resolved_at = mention(alert.resolved_by), when(alert.resolved_at)
    if status == AlertStatus.RESOLVED.value and alert.last_action == "not_useful":
        state = t("alerts.state.not_useful", lang, user=resolver, at=resolved_at)
    elif status == AlertStatus.RESOLVED.value and alert.resolved_by is None:
        state = t("alerts.state.auto_resolved", lang, at=resolved_at)
    elif status == AlertStatus.RESOLVED.value:
        state = t("alerts.state.resolved", lang, user=resolver, at=resolved_at)
    elif status == AlertStatus.SNOOZED.value:
        state = with_note(t("alerts.state.snoozed", lang, until=when(alert.snoozed_until),
                            user=mention(alert.last_action_by)), alert.snooze_note)
    elif status == AlertStatus.ACKNOWLEDGED.value:
        state = t("alerts.state.acknowledged", lang, user=mention(alert.acknowledged_by),
                  at=when(alert.acknowledged_at))
    else:
        state = t("alerts.state.open", lang)
    lines = [state]
    if alert.assignee_user_id:
        lines.append(t("alerts.assignee", lang, user=mention(alert.assignee_user_id)))
    if alert.last_action and alert.last_action_by:
        action = t("alerts.action." + alert.last_action, lang)
        lines.append(t("alerts.last", lang, user=mention(alert.last_action_by), action=action,
                       at=when(alert.last_action_at)))
    return lines


def _actions(alert: Alert, lang: Lang) -> Block:
    value = AlertRef(alert_id=alert.id).model_dump_json()

    def button(action: ActionId, label: str, style: str | None = None) -> dict[str, Any]:
        element = {"type": "button", "action_id": action.value, "text": plain(label),
                   "value": value}
        return element | ({"style": style} if style else {})

    return {
        "type": "actions",
        "block_id": f"alert:{alert.id}",
        "elements": [
            button(ActionId.ACKNOWLEDGE, t("alerts.ack", lang), "primary"),
            button(ActionId.ASSIGN, t("alerts.assign", lang)),
            {"type": "static_select", "action_id": ActionId.LOG_TOUCH.value,
             "placeholder": plain(t("alerts.log_touch", lang)),
             "options": [_option(t("alerts.touch." + k, lang), k) for k in TOUCH_CHOICES]},
            {"type": "static_select", "action_id": ActionId.SNOOZE.value,
             "placeholder": plain(t("alerts.snooze", lang)),
             "options": [_option(t("alerts.snooze." + k, lang), k) for k in SNOOZE_CHOICES]},
            {"type": "datepicker", "action_id": ActionId.SNOOZE_UNTIL.value,
             "placeholder": plain(t("alerts.snooze_until", lang))},
            button(ActionId.SNOOZE_FORM, t("alerts.snooze_form", lang)),
            button(ActionId.RESOLVE, t("alerts.resolve", lang)),
            button(ActionId.NOT_USEFUL, t("alerts.not_useful", lang), "danger"),
        ],
    }


def thread_text(event: str, lang: Lang, note: str | None = None, **values: object) -> str:
    return with_note(t("alerts.thread." + event, lang, **values), note)


def snooze_form(alert: Alert, summary: AlertSummary, lang: Lang, ref: SnoozeViewRef) -> Block:
    """The snooze modal: how long (or until a date) and an optional reason."""
    choices = [*SNOOZE_CHOICES, SNOOZE_ON_DATE]
    return {
        "type": "modal",
        "callback_id": ViewId.SNOOZE.value,
        "private_metadata": ref.model_dump_json(exclude_defaults=True),
        "title": plain(t("alerts.form.title", lang), MODAL_TEXT_LIMIT),
        "submit": plain(t("alerts.form.submit", lang), MODAL_TEXT_LIMIT),
        "close": plain(t("alerts.form.close", lang), MODAL_TEXT_LIMIT),
        "blocks": [
            section(f"*{title(alert, summary, lang)}*"),
            {"type": "input", "block_id": SnoozeField.CHOICE.value,
             "label": plain(t("alerts.form.choice", lang)),
             "element": {"type": "radio_buttons", "action_id": SnoozeField.CHOICE.value,
                         "options": [_option(t("alerts.snooze." + k, lang), k) for k in choices]}},
            {"type": "input", "block_id": SnoozeField.DATE.value, "optional": True,
             "label": plain(t("alerts.form.date", lang)),
             "hint": plain(t("alerts.form.date_hint", lang)),
             "element": {"type": "datepicker", "action_id": SnoozeField.DATE.value,
                         "placeholder": plain(t("alerts.snooze_until", lang))}},
            {"type": "input", "block_id": SnoozeField.NOTE.value, "optional": True,
             "label": plain(t("alerts.form.note", lang)),
             "element": {"type": "plain_text_input", "action_id": SnoozeField.NOTE.value,
                         "multiline": True, "max_length": SNOOZE_NOTE_MAX,
                         "placeholder": plain(t("alerts.form.note_placeholder", lang))}},
        ],
    }


def digest(items: list[tuple[Alert, AlertSummary]], page: DigestPage,
           lang: Lang = "ja") -> list[Block]:
    """One message of the day's tech-touch digest: its items worst first, each with "Take over"
    and "Not useful" buttons while it waits, within Slack's limits.

    Page 1 carries the header (and, when there are more pages, where the rest are); the others
    say which part they are. A page never has more than DIGEST_PAGE_ITEMS items (a page queued
    before pages existed may: its items past that are counted, not listed)."""
    ordered = sorted(items, key=lambda item: (-item[0].priority, item[1].account_name))
    day = page.day.isoformat()
    blocks: list[Block] = [
        header(t("alerts.digest.title", lang, day=day, n=page.items)) if page.page == 1 else
        context(t("alerts.digest.continued", lang, day=day, page=page.page, pages=page.pages))]
    for alert, summary in ordered[:DIGEST_PAGE_ITEMS]:
        blocks.append(section(_digest_line(alert, summary, lang)))
        if _waiting_in_digest(alert):
            blocks.append(_digest_actions(alert, lang))
    if len(ordered) > DIGEST_PAGE_ITEMS:
        blocks.append(context(t("alerts.digest.more", lang, n=len(ordered) - DIGEST_PAGE_ITEMS)))
    elif page.page == 1 and page.pages > 1:
        blocks.append(context(t("alerts.digest.in_thread", lang, pages=page.pages,
                                n=page.items - len(ordered))))
    return blocks


def _waiting_in_digest(alert: Alert) -> bool:
    return alert.delivery != Delivery.CARD.value and alert.status != AlertStatus.RESOLVED.value


def _digest_line(alert: Alert, summary: AlertSummary, lang: Lang) -> str:
    # Reasons are the rules' own sentences (and a friction alert's thread links): not escaped.
    reasons = " / ".join(summary.reasons)
    kind = t("alerts.kind." + alert.kind, lang)
    line = clip(f"• *{escape(summary.account_name)}* — {kind}: {reasons}", 500)
    if alert.delivery == Delivery.CARD.value:  # taken over: a card of its own now
        return f"{line}  {t('alerts.digest.taken', lang, user=mention(alert.assignee_user_id))}"
    if alert.status == AlertStatus.RESOLVED.value and alert.last_action == "not_useful":
        return f"~{line}~  {t('alerts.digest.not_useful', lang, user=mention(alert.resolved_by))}"
    return line


def _digest_actions(alert: Alert, lang: Lang) -> Block:
    value = AlertRef(alert_id=alert.id).model_dump_json()
    return {"type": "actions", "block_id": f"digest:{alert.id}", "elements": [
        {"type": "button", "action_id": ActionId.DIGEST_TAKE_OVER.value, "style": "primary",
         "text": plain(t("alerts.take_over", lang)), "value": value},
        {"type": "button", "action_id": ActionId.DIGEST_NOT_USEFUL.value,
         "text": plain(t("alerts.not_useful", lang)), "value": value},
    ]}


def digest_text(page: DigestPage, lang: Lang = "ja") -> str:
    day = page.day.isoformat()
    if page.page == 1:
        return t("alerts.digest.title", lang, day=day, n=page.items)
    return t("alerts.digest.continued", lang, day=day, page=page.page, pages=page.pages)

