"""Slack blocks for alerts, as pure functions of the stored alert (tested as data).

Every state change re-renders the whole card from the row and `chat.update`s it, so the card
never drifts from the database. Times are written as Slack date tokens so each reader sees
their own time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from jobs.alerts.models import Alert, AlertStatus, AlertSummary

Block = dict[str, Any]

SECTION_LIMIT = 3000
MAX_DIGEST_BLOCKS = 48  # Slack allows 50 per message; two are the header and the footer


class ActionId(StrEnum):
    ACKNOWLEDGE = "alert_acknowledge"
    ASSIGN = "alert_assign"
    RESOLVE = "alert_resolve"
    NOT_USEFUL = "alert_not_useful"
    SNOOZE = "alert_snooze"  # static_select: 1d / 1w / 30d
    SNOOZE_UNTIL = "alert_snooze_until"  # datepicker
    LOG_TOUCH = "alert_log_touch"  # static_select: call / meeting / email
    SNOOZE_FORM = "alert_snooze_form"  # button: opens the snooze modal (with a reason)


class ViewId(StrEnum):
    """callback_id of the modals alerts open."""

    SNOOZE = "alert_snooze_view"


class SnoozeField(StrEnum):
    """The snooze modal's inputs; each is both the block_id and its element's action_id."""

    CHOICE = "snooze_choice"  # radio: 1d / 1w / 30d / until the date below
    DATE = "snooze_date"
    NOTE = "snooze_note"  # the optional reason


class AlertRef(BaseModel):
    """The typed payload every alert button carries (and the actions block_id names)."""

    alert_id: int


class SnoozeViewRef(AlertRef):
    """The snooze modal's private_metadata: the alert, and where its button was clicked."""

    channel: str | None = None  # where to tell the clicker if the snooze cannot be applied
    home: bool = False  # clicked in App Home: re-publish it once the snooze is stored


SNOOZE_CHOICES = {"1d": 1, "1w": 7, "30d": 30}
SNOOZE_ON_DATE = "date"  # the modal's fourth choice: until the picked date
SNOOZE_NOTE_MAX = 500
MODAL_TEXT_LIMIT = 24  # a modal's title, submit and close labels
TOUCH_CHOICES = ("call", "meeting", "email")

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "kind.at_risk": "🚨 要注意アカウント",
        "kind.contact_change": "👤 主担当者の変更",
        "kind.renewal": "📅 更新リマインド",
        "kind.renewal_thanks": "🙏 更新のお礼",
        "kind.onboarding": "🚀 オンボーディング確認",
        "kind.expansion": "📈 拡大候補",
        "kind.cadence": "📞 定期タッチ期限",
        "owner": "担当", "unowned": "担当者未設定", "health": "ヘルス", "mrr": "MRR",
        "touch": "タッチモデル", "renewal": "更新まで", "days": "日",
        "touch.high": "ハイタッチ", "touch.low": "ロータッチ", "touch.tech": "テックタッチ",
        "ack": "確認する", "assign": "自分が担当", "resolve": "解決", "not_useful": "役に立たない",
        "snooze": "スヌーズ", "snooze.1d": "1日", "snooze.1w": "1週間", "snooze.30d": "30日",
        "snooze_until": "日付までスヌーズ", "log_touch": "タッチを記録",
        "snooze_form": "スヌーズ…", "form.title": "アラートをスヌーズ", "form.submit": "スヌーズ",
        "form.close": "キャンセル", "form.choice": "期間", "snooze.date": "指定日まで",
        "form.date": "日付",
        "form.date_hint": "「指定日まで」を選んだときに使います (その日の9:00まで)",
        "form.note": "理由 (任意)", "form.note_placeholder": "例: 先方の予算確定待ち",
        "error.choice": "期間を選んでください", "error.date": "日付を選んでください",
        "error.past": "今より後の日付を選んでください",
        "error.note": "理由は500文字以内で入力してください",
        "touch.call": "電話", "touch.meeting": "ミーティング", "touch.email": "メール",
        "state.open": "未対応", "state.acknowledged": "{user} が確認 ({at})",
        "state.snoozed": "{until} までスヌーズ中 ({user})",
        "state.resolved": "{user} が解決 ({at})",
        "state.auto_resolved": "状態が解消したため自動解決 ({at})",
        "state.not_useful": "{user} が「役に立たない」と評価 ({at})",
        "assignee": "対応者: {user}", "last": "最後の操作: {user} {action} ({at})",
        "digest.title": "テックタッチ通知まとめ {day} ({n}件)",
        "routing.set": "表示するアラート: {scope} (own=自分の担当 / team=チーム / all=すべて)",
        "digest.more": "ほか {n}件",
        "thread.acknowledge": "{user} が確認しました", "thread.assign": "{user} が担当になりました",
        "thread.snooze": "{user} が {until} までスヌーズしました",
        "thread.log_touch": "{user} が{touch}を記録しました",
        "thread.resolve": "{user} が解決しました",
        "thread.not_useful": "{user} がこの通知を「役に立たない」と評価しました",
        "thread.resurfaced": "{owner} スヌーズ期間が終わりました。まだ状態が続いています",
        "action.acknowledge": "確認", "action.assign": "担当", "action.snooze": "スヌーズ",
        "action.log_touch": "タッチ記録", "action.resolve": "解決", "action.not_useful": "評価",
    },
    "en": {
        "kind.at_risk": "🚨 At-risk account",
        "kind.contact_change": "👤 Primary contact changed",
        "kind.renewal": "📅 Renewal reminder",
        "kind.renewal_thanks": "🙏 Renewal thank-you",
        "kind.onboarding": "🚀 Onboarding check-in",
        "kind.expansion": "📈 Expansion candidate",
        "kind.cadence": "📞 Touch due",
        "owner": "Owner", "unowned": "no owner", "health": "Health", "mrr": "MRR",
        "touch": "Touch model", "renewal": "Renewal in", "days": " days",
        "touch.high": "high-touch", "touch.low": "low-touch", "touch.tech": "tech-touch",
        "ack": "Acknowledge", "assign": "Assign to me", "resolve": "Resolve",
        "not_useful": "Not useful", "snooze": "Snooze", "snooze.1d": "1 day",
        "snooze.1w": "1 week", "snooze.30d": "30 days", "snooze_until": "Snooze until",
        "log_touch": "Log touch", "touch.call": "call", "touch.meeting": "meeting",
        "snooze_form": "Snooze…", "form.title": "Snooze alert", "form.submit": "Snooze",
        "form.close": "Cancel", "form.choice": "For how long", "snooze.date": "Until a date",
        "form.date": "Date", "form.date_hint": "Used with “Until a date” (until 9:00 that day)",
        "form.note": "Reason (optional)",
        "form.note_placeholder": "e.g. waiting for their budget decision",
        "error.choice": "Choose how long to snooze", "error.date": "Pick a date",
        "error.past": "Pick a date in the future",
        "error.note": "Keep the reason within 500 characters",
        "touch.email": "email",
        "state.open": "Open", "state.acknowledged": "Acknowledged by {user} ({at})",
        "state.snoozed": "Snoozed until {until} by {user}",
        "state.resolved": "Resolved by {user} ({at})",
        "state.auto_resolved": "Resolved automatically: the condition ended ({at})",
        "state.not_useful": "Marked not useful by {user} ({at})",
        "assignee": "Assignee: {user}", "last": "Last action: {user} {action} ({at})",
        "digest.title": "Tech-touch digest {day} ({n})",
        "routing.set": "Alerts you see: {scope} (own / team / all)",
        "digest.more": "and {n} more",
        "thread.acknowledge": "{user} acknowledged", "thread.assign": "{user} took this over",
        "thread.snooze": "{user} snoozed until {until}",
        "thread.log_touch": "{user} logged a {touch}",
        "thread.resolve": "{user} resolved this",
        "thread.not_useful": "{user} marked this alert not useful",
        "thread.resurfaced": "{owner} the snooze ended and the condition still holds",
        "action.acknowledge": "acknowledged", "action.assign": "assigned",
        "action.snooze": "snoozed", "action.log_touch": "logged a touch",
        "action.resolve": "resolved", "action.not_useful": "rated",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    texts = TEXTS.get(lang, TEXTS["ja"])
    return texts.get(key, TEXTS["ja"][key]).format(**values)


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else ""


def when(at: datetime | None) -> str:
    if at is None:
        return ""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short}} {{time}}|{fallback}>"


def escape(text: str) -> str:
    """User text made inert in mrkdwn: a reason cannot mention <!channel> or fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def with_note(line: str, note: str | None) -> str:
    return f"{line} — {escape(note)}" if note else line


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def title(alert: Alert, summary: AlertSummary, lang: str) -> str:
    return f"{t(lang, 'kind.' + alert.kind)}: {summary.account_name}"


def fallback_text(alert: Alert, summary: AlertSummary, lang: str) -> str:
    """The notification text (and what screen readers say); mentions the owner of a card."""
    owner = mention(alert.owner_user_id)
    return _clip(f"{owner} {title(alert, summary, lang)}".strip(), 3000)


def alert_card(alert: Alert, summary: AlertSummary, lang: str = "ja") -> list[Block]:
    blocks: list[Block] = [
        {"type": "section",
         "text": {"type": "mrkdwn", "text": _clip(_headline(alert, summary, lang))}},
        {"type": "section", "fields": _fields(summary, lang)},
    ]
    if summary.reasons:
        reasons = "\n".join(f"• {reason}" for reason in summary.reasons)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(reasons)}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": _clip(line)} for line in _state_lines(alert, lang)
    ]})
    if alert.status != AlertStatus.RESOLVED.value:
        blocks.append(_actions(alert, lang))
    return blocks


def _headline(alert: Alert, summary: AlertSummary, lang: str) -> str:
    owner = mention(alert.owner_user_id) or f"_{t(lang, 'unowned')}_"
    line = f"*{title(alert, summary, lang)}*  {t(lang, 'owner')}: {owner}"
    return f"~{line}~" if alert.status == AlertStatus.RESOLVED.value else line


def _fields(summary: AlertSummary, lang: str) -> list[dict[str, str]]:
    fields = [
        f"*{t(lang, 'touch')}*\n{t(lang, 'touch.' + summary.touch_model)}",
        f"*{t(lang, 'mrr')}*\n{summary.mrr:,} {summary.currency}",
    ]
    if summary.health_score is not None:
        fields.append(f"*{t(lang, 'health')}*\n{summary.health_score} ({summary.health_band})")
    if summary.days_to_renewal is not None and summary.renewal_date is not None:
        fields.append(
            f"*{t(lang, 'renewal')}*\n{summary.days_to_renewal}{t(lang, 'days')} "
            f"({_day(summary.renewal_date)})"
        )
    return [{"type": "mrkdwn", "text": text} for text in fields]


def _day(day: date) -> str:
    return day.isoformat()


def _state_lines(alert: Alert, lang: str) -> list[str]:
    status = alert.status
    resolver, resolved_at = mention(alert.resolved_by), when(alert.resolved_at)
    if status == AlertStatus.RESOLVED.value and alert.last_action == "not_useful":
        state = t(lang, "state.not_useful", user=resolver, at=resolved_at)
    elif status == AlertStatus.RESOLVED.value and alert.resolved_by is None:
        state = t(lang, "state.auto_resolved", at=resolved_at)
    elif status == AlertStatus.RESOLVED.value:
        state = t(lang, "state.resolved", user=resolver, at=resolved_at)
    elif status == AlertStatus.SNOOZED.value:
        state = with_note(t(lang, "state.snoozed", until=when(alert.snoozed_until),
                            user=mention(alert.last_action_by)), alert.snooze_note)
    elif status == AlertStatus.ACKNOWLEDGED.value:
        state = t(lang, "state.acknowledged", user=mention(alert.acknowledged_by),
                  at=when(alert.acknowledged_at))
    else:
        state = t(lang, "state.open")
    lines = [state]
    if alert.assignee_user_id:
        lines.append(t(lang, "assignee", user=mention(alert.assignee_user_id)))
    if alert.last_action and alert.last_action_by:
        action = t(lang, "action." + alert.last_action)
        lines.append(t(lang, "last", user=mention(alert.last_action_by), action=action,
                       at=when(alert.last_action_at)))
    return lines


def _actions(alert: Alert, lang: str) -> Block:
    value = AlertRef(alert_id=alert.id).model_dump_json()

    def button(action: ActionId, label: str, style: str | None = None) -> dict[str, Any]:
        element = {"type": "button", "action_id": action.value, "text": _plain(label),
                   "value": value}
        return element | ({"style": style} if style else {})

    return {
        "type": "actions",
        "block_id": f"alert:{alert.id}",
        "elements": [
            button(ActionId.ACKNOWLEDGE, t(lang, "ack"), "primary"),
            button(ActionId.ASSIGN, t(lang, "assign")),
            {"type": "static_select", "action_id": ActionId.LOG_TOUCH.value,
             "placeholder": _plain(t(lang, "log_touch")),
             "options": [_option(t(lang, "touch." + k), k) for k in TOUCH_CHOICES]},
            {"type": "static_select", "action_id": ActionId.SNOOZE.value,
             "placeholder": _plain(t(lang, "snooze")),
             "options": [_option(t(lang, "snooze." + k), k) for k in SNOOZE_CHOICES]},
            {"type": "datepicker", "action_id": ActionId.SNOOZE_UNTIL.value,
             "placeholder": _plain(t(lang, "snooze_until"))},
            button(ActionId.SNOOZE_FORM, t(lang, "snooze_form")),
            button(ActionId.RESOLVE, t(lang, "resolve")),
            button(ActionId.NOT_USEFUL, t(lang, "not_useful"), "danger"),
        ],
    }


def thread_text(event: str, lang: str, note: str | None = None, **values: object) -> str:
    return with_note(t(lang, "thread." + event, **values), note)


def snooze_form(alert: Alert, summary: AlertSummary, lang: str, ref: SnoozeViewRef) -> Block:
    """The snooze modal: how long (or until a date) and an optional reason."""
    choices = [*SNOOZE_CHOICES, SNOOZE_ON_DATE]
    return {
        "type": "modal",
        "callback_id": ViewId.SNOOZE.value,
        "private_metadata": ref.model_dump_json(exclude_defaults=True),
        "title": _plain(t(lang, "form.title"), MODAL_TEXT_LIMIT),
        "submit": _plain(t(lang, "form.submit"), MODAL_TEXT_LIMIT),
        "close": _plain(t(lang, "form.close"), MODAL_TEXT_LIMIT),
        "blocks": [
            {"type": "section",
             "text": {"type": "mrkdwn", "text": _clip(f"*{title(alert, summary, lang)}*")}},
            {"type": "input", "block_id": SnoozeField.CHOICE.value,
             "label": _plain(t(lang, "form.choice")),
             "element": {"type": "radio_buttons", "action_id": SnoozeField.CHOICE.value,
                         "options": [_option(t(lang, "snooze." + k), k) for k in choices]}},
            {"type": "input", "block_id": SnoozeField.DATE.value, "optional": True,
             "label": _plain(t(lang, "form.date")), "hint": _plain(t(lang, "form.date_hint")),
             "element": {"type": "datepicker", "action_id": SnoozeField.DATE.value,
                         "placeholder": _plain(t(lang, "snooze_until"))}},
            {"type": "input", "block_id": SnoozeField.NOTE.value, "optional": True,
             "label": _plain(t(lang, "form.note")),
             "element": {"type": "plain_text_input", "action_id": SnoozeField.NOTE.value,
                         "multiline": True, "max_length": SNOOZE_NOTE_MAX,
                         "placeholder": _plain(t(lang, "form.note_placeholder"))}},
        ],
    }


def digest(
    items: list[tuple[Alert, AlertSummary]], day: date, lang: str = "ja"
) -> list[Block]:
    """One message listing the day's tech-touch items, worst first, within Slack's limits."""
    ordered = sorted(items, key=lambda item: (-item[0].priority, item[1].account_name))
    blocks: list[Block] = [{"type": "header", "text": _plain_header(
        t(lang, "digest.title", day=day.isoformat(), n=len(items)))}]
    lines = [_digest_line(alert, summary, lang) for alert, summary in ordered]
    sections = _pack(lines)
    shown = sections[:MAX_DIGEST_BLOCKS]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text, _ in shown]
    left = len(lines) - sum(count for _, count in shown)
    if left:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": t(lang, "digest.more", n=left)}]})
    return blocks


def _plain_header(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, 150), "emoji": True}


def _digest_line(alert: Alert, summary: AlertSummary, lang: str) -> str:
    reasons = " / ".join(summary.reasons)
    return _clip(f"• *{summary.account_name}* — {t(lang, 'kind.' + alert.kind)}: {reasons}", 500)


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


def digest_text(count: int, day: date, lang: str = "ja") -> str:
    return t(lang, "digest.title", day=day.isoformat(), n=count)

