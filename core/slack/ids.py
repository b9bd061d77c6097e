"""Every id Banso's one Slack app answers to: button and menu actions, modals, shortcuts and
slash commands (the manifest in bot/manifest.yaml declares the last two). One enum each, so
two rooms can never claim the same id."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    # answer cards (bot)
    HELPFUL = "banso_answer_helpful"
    NOT_HELPFUL = "banso_answer_not_helpful"
    ASK_HUMAN = "banso_answer_ask_human"
    MORE_ANSWERS = "banso_answer_more"
    SHOW_ANSWER = "banso_answer_show"
    SHARE = "banso_answer_share"
    # alert cards and App Home (cs.alerts)
    ACKNOWLEDGE = "alert_acknowledge"
    ASSIGN = "alert_assign"
    RESOLVE = "alert_resolve"
    NOT_USEFUL = "alert_not_useful"
    SNOOZE = "alert_snooze"  # static_select: 1d / 1w / 30d
    SNOOZE_UNTIL = "alert_snooze_until"  # datepicker
    LOG_TOUCH = "alert_log_touch"  # static_select: call / meeting / email
    SNOOZE_FORM = "alert_snooze_form"  # button: opens the snooze modal (with a reason)
    # a tech-touch digest's items (cs.alerts)
    DIGEST_TAKE_OVER = "alert_digest_take_over"  # the item becomes a card assigned to the clicker
    DIGEST_NOT_USEFUL = "alert_digest_not_useful"


class ViewId(StrEnum):
    """callback_id of the modals Banso opens."""

    SNOOZE = "alert_snooze_view"


class ShortcutId(StrEnum):
    SAVE_DRAFT = "banso_save_faq_draft"


class CommandName(StrEnum):
    ASK = "/ask"
    ALERTS = "/banso-alerts"
