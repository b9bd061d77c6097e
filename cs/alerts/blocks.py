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
    SECTION_LIMIT,
    Block,
    clip,
    context,
    escape,
    header,
    plain,
    section,
)
from core.slack.ids import ActionId, ViewId
from cs.alerts.models import Alert, AlertStatus, AlertSummary
from cs.alerts.payloads import AlertRef, SnoozeViewRef

MAX_DIGEST_BLOCKS = MAX_MESSAGE_BLOCKS - 2  # room for the header and the "N more" footer


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
    owner = mention(alert.owner_user_id)
    return clip(f"{owner} {title(alert, summary, lang)}".strip())


def alert_card(alert: Alert, summary: AlertSummary, lang: Lang = "ja") -> list[Block]:
    blocks: list[Block] = [
        section(_headline(alert, summary, lang)),
        {"type": "section", "fields": _fields(summary, lang)},
    ]
    if summary.reasons:
        blocks.append(section("\n".join(f"• {escape(reason)}" for reason in summary.reasons)))
    blocks.append(context(*_state_lines(alert, lang)))
    if alert.status != AlertStatus.RESOLVED.value:
        blocks.append(_actions(alert, lang))
    return blocks


def _headline(alert: Alert, summary: AlertSummary, lang: Lang) -> str:
    owner = mention(alert.owner_user_id) or f"_{t('alerts.unowned', lang)}_"
    line = f"*{title(alert, summary, lang)}*  {t('alerts.owner', lang)}: {owner}"
    return f"~{line}~" if alert.status == AlertStatus.RESOLVED.value else line


def _fields(summary: AlertSummary, lang: Lang) -> list[dict[str, str]]:
    fields = [
        f"*{t('alerts.touch', lang)}*\n{t('alerts.touch.' + summary.touch_model, lang)}",
        f"*{t('alerts.mrr', lang)}*\n{summary.mrr:,} {summary.currency}",
    ]
    if summary.health_score is not None:
        fields.append(f"*{t('alerts.health', lang)}*\n"
                      f"{summary.health_score} ({summary.health_band})")
    if summary.days_to_renewal is not None and summary.renewal_date is not None:
        fields.append(
            f"*{t('alerts.renewal', lang)}*\n{t('alerts.days', lang, n=summary.days_to_renewal)} "
            f"({_day(summary.renewal_date)})"
        )
    return [{"type": "mrkdwn", "text": text} for text in fields]


def _day(day: date) -> str:
    return day.isoformat()


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


def digest(
    items: list[tuple[Alert, AlertSummary]], day: date, lang: Lang = "ja"
) -> list[Block]:
    """One message listing the day's tech-touch items, worst first, within Slack's limits."""
    ordered = sorted(items, key=lambda item: (-item[0].priority, item[1].account_name))
    blocks: list[Block] = [header(t("alerts.digest.title", lang, day=day.isoformat(),
                                    n=len(items)))]
    lines = [_digest_line(alert, summary, lang) for alert, summary in ordered]
    sections = _pack(lines)
    shown = sections[:MAX_DIGEST_BLOCKS]
    blocks += [section(text) for text, _ in shown]
    left = len(lines) - sum(count for _, count in shown)
    if left:
        blocks.append(context(t("alerts.digest.more", lang, n=left)))
    return blocks


def _digest_line(alert: Alert, summary: AlertSummary, lang: Lang) -> str:
    reasons = escape(" / ".join(summary.reasons))
    kind = t("alerts.kind." + alert.kind, lang)
    return clip(f"• *{escape(summary.account_name)}* — {kind}: {reasons}", 500)


def _pack(lines: list[str]) -> list[tuple[str, int]]:
    """Lines joined into section texts under Slack's 3,000 characters, with their counts."""
    packed: list[tuple[str, int]] = []
    text, count = "", 0
    for line in lines:
        if text and len(text) + 1 + len(line) > SECTION_LIMIT:
            packed.append((text, count))
            text, count = "", 0
        text, count = (f"{text}\n{line}" if text else line), count + 1
    if text:
        packed.append((text, count))
    return packed


def digest_text(count: int, day: date, lang: Lang = "ja") -> str:
    return t("alerts.digest.title", lang, day=day.isoformat(), n=count)

