"""What each answer button does. Cards are re-rendered from the database, never edited in place.

Every click runs inside `guarded`: a stale or forged button value tells the clicker so, and any
other failure is logged and answered with an apology — a click never goes silently nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from banso.db import session_scope
from bot import blocks, slack
from bot.blocks import Message
from bot.channels import may_show
from bot.deps import Bot
from bot.models import Question
from bot.payloads import AnswerRef, BadPayload
from bot.service import (
    UnknownQuestion,
    cancel_escalation,
    candidates,
    feedback_counts,
    get_question,
    record_escalation,
    record_feedback,
    set_escalation_post,
    set_reply,
)
from bot.slack import Origin
from bot.texts import t
from retrieval.models import Visibility

log = logging.getLogger(__name__)


class StaleButton(LookupError):
    """The button points at an answer that no longer exists or may no longer be shown."""


Click = Callable[[Bot, dict[str, Any], AnswerRef, Origin, str], None]


def guarded(bot: Bot, body: dict[str, Any], click: Click) -> None:
    origin = Origin.of_action(body)
    user = (body.get("user") or {}).get("id", "")
    action = (body.get("actions") or [{}])[0]
    lang = "ja"
    try:
        ref = AnswerRef.decode(action.get("value"))
        lang = _lang_of(bot, ref.q)
        click(bot, body, ref, origin, user)
    except (BadPayload, UnknownQuestion, StaleButton) as exc:
        log.info("stale or foreign button", extra={"action": action.get("action_id"),
                                                    "reason": str(exc)})
        _tell(bot, origin, user, blocks.notice(t("stale_button", lang)))
    except Exception:
        log.exception("button failed", extra={"action": action.get("action_id"),
                                              "action_ts": action.get("action_ts")})
        _tell(bot, origin, user, blocks.notice(t("apology", lang)))


def _tell(bot: Bot, origin: Origin, user: str, message: Message) -> None:
    try:
        slack.tell(bot.client, origin, user, message)
    except Exception:
        log.exception("could not tell the user about a failed click")


def _lang_of(bot: Bot, question_id: int) -> str:
    with bot.services.session_factory() as session:
        return get_question(session, question_id).lang


def _question(bot: Bot, question_id: int) -> Question:
    with bot.services.session_factory() as session:
        return get_question(session, question_id)


def _card(bot: Bot, question: Question, entry_id: str | None, origin: Origin,
          **extra: Any) -> Message:
    """The answer card for `entry_id`, searched at the question's own visibility."""
    entry = bot.entry(entry_id, question.visibility)
    if entry is None:
        raise StaleButton(f"entry {entry_id!r} is gone or not visible here")
    with bot.services.session_factory() as session:
        counts = feedback_counts(session, question.id)
    return blocks.answer(question.id, entry, question.lang, ephemeral=origin.ephemeral,
                         counts=counts, **extra)


# --- the buttons --------------------------------------------------------------------------


def feedback(helpful: bool) -> Click:
    def click(bot: Bot, body: dict[str, Any], ref: AnswerRef, origin: Origin, user: str) -> None:
        with session_scope(bot.services.session_factory) as session:
            record_feedback(session, ref.q, user, helpful, entry_id=ref.e, now=bot.now())
        question = _question(bot, ref.q)
        slack.replace(bot.client, origin, _card(bot, question, ref.e, origin))
        if not origin.ephemeral:
            slack.tell(bot.client, origin, user, blocks.notice(t("feedback_thanks",
                                                                 question.lang)))
    return click


def show_answer(bot: Bot, body: dict[str, Any], ref: AnswerRef, origin: Origin, user: str) -> None:
    question = _question(bot, ref.q)
    slack.replace(bot.client, origin, _card(bot, question, ref.e, origin))


def more_answers(bot: Bot, body: dict[str, Any], ref: AnswerRef, origin: Origin,
                 user: str) -> None:
    """The other candidates, shown only to the clicker (the thread stays tidy)."""
    question = _question(bot, ref.q)
    others = [c for c in candidates(question)
              if c.id != ref.e and may_show(c.visibility, Visibility(question.visibility))]
    message = blocks.suggestions(question.id, others, question.lang, intro="more_intro")
    slack.tell(bot.client, origin, user, message)


def ask_human(bot: Bot, body: dict[str, Any], ref: AnswerRef, origin: Origin, user: str) -> None:
    question = _question(bot, ref.q)
    support = bot.settings.support_channel
    if not support:
        log.error("'Ask a human' clicked but BANSO_SUPPORT_CHANNEL is not set")
        slack.tell(bot.client, origin, user, blocks.notice(t("no_support_channel", question.lang)))
        return
    with session_scope(bot.services.session_factory) as session:
        escalation = record_escalation(session, question.id, user, support, bot.now())
    if escalation is None:
        slack.tell(bot.client, origin, user, blocks.notice(t("already_escalated", question.lang)))
        return
    link = slack.permalink(bot.client, question.channel, question.ts or question.reply_ts)
    post = blocks.escalation(question.text, question.user or user, user, _where(question, link),
                             candidates(question), question.lang)
    try:
        reply = bot.client.chat_postMessage(channel=support, text=post.text, blocks=post.blocks,
                                            unfurl_links=False)
    except Exception:
        # Not delivered: forget it, so the next click tries again instead of "already sent".
        with session_scope(bot.services.session_factory) as session:
            cancel_escalation(session, escalation.id)
        raise
    with session_scope(bot.services.session_factory) as session:
        set_escalation_post(session, escalation.id, reply.get("ts"))
    _announce_escalation(bot, question, origin, user)


def _announce_escalation(bot: Bot, question: Question, origin: Origin, user: str) -> None:
    """In a channel thread everyone (the asker above all) sees that a person will follow up."""
    note = blocks.notice(t("escalated", question.lang))
    if origin.ephemeral or not question.channel or not question.thread_ts:
        slack.tell(bot.client, origin, user, note)
        return
    asker = f"<@{question.user}> " if question.user else ""
    bot.client.chat_postMessage(channel=question.channel, thread_ts=question.thread_ts,
                                text=asker + note.text)


def share(bot: Bot, body: dict[str, Any], ref: AnswerRef, origin: Origin, user: str) -> None:
    """Post an /ask answer for everyone in the channel — only if the channel itself may see it."""
    question = _question(bot, ref.q)
    entry = bot.entry(ref.e, question.visibility)
    if entry is None:
        raise StaleButton(f"entry {ref.e!r} is gone")
    if not may_show(entry.visibility, bot.policy.channel_visibility(origin.channel)):
        slack.tell(bot.client, origin, user, blocks.notice(t("not_shareable", question.lang)))
        return
    message = blocks.answer(question.id, entry, question.lang, shared_by=user,
                            question=question.text)
    reply = bot.client.chat_postMessage(channel=origin.channel or "", text=message.text,
                                        blocks=message.blocks, unfurl_links=False)
    with session_scope(bot.services.session_factory) as session:
        # The shared answer's thread becomes a bot thread: follow-ups there get answers too.
        set_reply(session, question.id, reply.get("ts"), thread_ts=reply.get("ts"))
    if origin.response_url:
        slack.respond(origin.response_url, blocks.notice(t("share", question.lang)), delete=True)


def _where(question: Question, link: str | None) -> str:
    if link:
        return f"<{link}|{t('message_link', question.lang)}>"
    return f"<#{question.channel}>" if question.channel else question.surface
