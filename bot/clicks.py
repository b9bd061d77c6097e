"""What each answer button does. Cards are re-rendered from the database, never edited in place.

Every click runs through `core.slack.interaction.handle` (one session, failures told to the
clicker); `run` adds the answer buttons' own step: decode the button value and find its
question, whose language the replies use. A stale or forged value is a `Refusal`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot import blocks
from bot.channels import ChannelPolicy, may_show, visible_entry
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
from core.i18n import as_lang, t
from core.services import Services
from core.slack import messages as slack
from core.slack.blocks import Message, notice
from core.slack.interaction import Interaction, Refusal, handle
from retrieval.models import Entry, Visibility

log = logging.getLogger(__name__)

Button = Callable[[Interaction, AnswerRef, Question], None]


def run(services: Services, body: dict[str, Any], button: Button) -> None:
    def work(click: Interaction) -> None:
        try:
            ref = AnswerRef.decode(click.action.get("value"))
            question = get_question(click.session, ref.q)
        except (BadPayload, UnknownQuestion) as exc:
            raise Refusal(t("bot.stale_button", click.lang)) from exc
        click.lang = as_lang(question.lang)
        button(click, ref, question)

    handle(services, body, work, lang="ja", apology="bot.apology")


def _allowed(click: Interaction, question: Question) -> Visibility:
    """What this click may show: the channel it is clicked in and the clicker decide, never
    only the stored question (whose id a crafted button value may name)."""
    policy = ChannelPolicy.of(click.services.settings)
    return policy.at_click(click.origin.channel, question=question.visibility,
                           user_is_staff=click.services.staff.is_staff(click.user))


def _entry(click: Interaction, question: Question, entry_id: str | None) -> Entry:
    """The entry `entry_id` if it may still be shown where and to whom it was clicked."""
    entry = visible_entry(click.services.retriever.entries, entry_id, _allowed(click, question))
    if entry is None:
        log.info("button names a gone or hidden entry", extra={"entry": entry_id})
        raise Refusal(t("bot.stale_button", click.lang))
    return entry


def _card(click: Interaction, question: Question, entry_id: str | None) -> Message:
    entry = _entry(click, question, entry_id)
    return blocks.answer(question.id, entry, click.lang, ephemeral=click.origin.ephemeral,
                         counts=feedback_counts(click.session, question.id))


# --- the buttons --------------------------------------------------------------------------


def feedback(helpful: bool) -> Button:
    def button(click: Interaction, ref: AnswerRef, question: Question) -> None:
        record_feedback(click.session, question.id, click.user, helpful, entry_id=ref.e,
                        now=click.services.now())
        click.session.flush()
        slack.replace(click.services.client, click.origin, _card(click, question, ref.e))
        if not click.origin.ephemeral:
            click.tell(t("bot.feedback_thanks", click.lang))
    return button


def show_answer(click: Interaction, ref: AnswerRef, question: Question) -> None:
    slack.replace(click.services.client, click.origin, _card(click, question, ref.e))


def more_answers(click: Interaction, ref: AnswerRef, question: Question) -> None:
    """The other candidates, shown only to the clicker (the thread stays tidy)."""
    allowed = _allowed(click, question)
    others = [c for c in candidates(question) if c.id != ref.e and may_show(c.visibility, allowed)]
    message = blocks.suggestions(question.id, others, click.lang, intro="bot.more_intro")
    slack.tell(click.services.client, click.origin, click.user, message)


def ask_human(click: Interaction, ref: AnswerRef, question: Question) -> None:
    services = click.services
    support = services.settings.support_channel
    if not support:
        log.error("'Ask a human' clicked but BANSO_SUPPORT_CHANNEL is not set")
        raise Refusal(t("bot.no_support_channel", click.lang))
    escalation = record_escalation(click.session, question.id, click.user, support,
                                   services.now())
    if escalation is None:
        raise Refusal(t("bot.already_escalated", click.lang))
    # Committed before the Slack calls: no write lock is held while Slack answers.
    click.session.commit()
    link = slack.permalink(services.client, question.channel, question.ts or question.reply_ts)
    asker = question.user or click.user
    account = (services.asker_context(services, click.session, asker, click.lang)
               if services.asker_context else None)
    post = blocks.escalation(question.text, asker, click.user, _where(question, link),
                             candidates(question), click.lang, account=account)
    try:
        reply = services.client.chat_postMessage(channel=support, text=post.text,
                                                 blocks=post.blocks, unfurl_links=False)
    except Exception:
        # Not delivered: forget it, so the next click tries again instead of "already sent".
        cancel_escalation(click.session, escalation.id)
        click.session.commit()
        raise
    set_escalation_post(click.session, escalation.id, reply.get("ts"))
    _announce_escalation(click, question)


def _announce_escalation(click: Interaction, question: Question) -> None:
    """In a channel thread everyone (the asker above all) sees that a person will follow up."""
    note = t("bot.escalated", click.lang)
    if click.origin.ephemeral or not question.channel or not question.thread_ts:
        click.tell(note)
        return
    asker = f"<@{question.user}> " if question.user else ""
    click.services.client.chat_postMessage(channel=question.channel,
                                           thread_ts=question.thread_ts, text=asker + note)


def share(click: Interaction, ref: AnswerRef, question: Question) -> None:
    """Post an /ask answer for everyone in the channel — only if the channel itself may see it."""
    # The button is on an answer only its asker sees: anyone else's click is a forged value,
    # and would post another person's question in this channel.
    if question.user and question.user != click.user:
        raise Refusal(t("bot.stale_button", click.lang))
    entry = _entry(click, question, ref.e)
    policy = ChannelPolicy.of(click.services.settings)
    if not may_show(entry.visibility, policy.channel_visibility(click.origin.channel)):
        raise Refusal(t("bot.not_shareable", click.lang))
    message = blocks.answer(question.id, entry, click.lang, shared_by=click.user,
                            question=question.text)
    reply = click.services.client.chat_postMessage(
        channel=click.origin.channel or "", text=message.text, blocks=message.blocks,
        unfurl_links=False)
    # The shared answer's thread becomes a bot thread: follow-ups there get answers too.
    set_reply(click.session, question.id, reply.get("ts"), thread_ts=reply.get("ts"))
    if click.origin.response_url:
        slack.respond(click.origin.response_url, notice(t("bot.share", click.lang)),
                      delete=True)


def _where(question: Question, link: str | None) -> str:
    if link:
        return f"<{link}|{t('bot.message_link', as_lang(question.lang))}>"
    return f"<#{question.channel}>" if question.channel else question.surface
