"""Answering a question: decide whether to answer, search, record, render, post.

Called from the lazy listeners (after Slack got its acknowledgement). Whatever goes wrong, the
asker gets a short apology and the log line carries the Slack event id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from banso.db import session_scope
from bot import blocks, slack
from bot.blocks import Message
from bot.dedupe import claim_message
from bot.deps import Bot
from bot.models import Question, Surface
from bot.questions import clean, is_chatter, looks_like_question
from bot.service import SlackPlace, candidates, is_bot_thread, record_question, set_reply
from bot.texts import t
from retrieval.language import detect_lang
from retrieval.models import Decision, SearchResult

log = logging.getLogger(__name__)

# Message subtypes a person writes; every other subtype (edits, joins, bot posts) is not a question.
_PERSON_SUBTYPES = {None, "file_share", "thread_broadcast"}


@dataclass(frozen=True)
class Ask:
    text: str
    surface: Surface
    place: SlackPlace  # thread_ts: the thread the answer goes to (None: top level)
    is_dm: bool


def ask_from_event(bot: Bot, event: dict[str, Any], *, mentioned: bool) -> Ask | None:
    """The question in a message/app_mention event, or None when the bot should stay quiet."""
    if event.get("subtype") not in _PERSON_SUBTYPES or not event.get("user"):
        return None
    channel, ts = event.get("channel"), event.get("ts")
    text = clean(event.get("text", ""))
    if not channel or not ts or not text:
        return None
    is_dm = event.get("channel_type") == "im"
    thread = event.get("thread_ts")
    in_thread = thread is not None and thread != ts
    wanted = mentioned or (is_dm and not is_chatter(text)) or (
        not is_dm and _wants_answer(bot, channel, thread, text, in_thread))
    if not wanted:
        return None
    # DMs are answered where they were asked; channels always in a thread, never at top level.
    reply_thread = (thread if in_thread else None) if is_dm else (thread or ts)
    place = SlackPlace(channel=channel, user=event["user"], ts=ts, thread_ts=reply_thread)
    return Ask(text, Surface.SLACK, place, is_dm)


def _wants_answer(bot: Bot, channel: str, thread: str | None, text: str, in_thread: bool) -> bool:
    """Unmentioned: a question in a community channel, or a follow-up question in our thread.

    "ありがとう" in the bot's thread is not a question: answering it would be noise.
    """
    if not looks_like_question(text):
        return False
    if in_thread and thread is not None:
        with bot.services.session_factory() as session:
            return is_bot_thread(session, channel, thread)
    return bot.policy.is_community(channel)


def answer_event(bot: Bot, body: dict[str, Any], *, mentioned: bool) -> None:
    """A message or mention: claim it (one answer per message), then answer in its thread."""
    event = body.get("event") or {}
    ask = ask_from_event(bot, event, mentioned=mentioned)
    if ask is None:
        if mentioned and event.get("user") and not clean(event.get("text", "")):
            _hint(bot, event, body.get("event_id"))
        return
    channel, ts = ask.place.channel or "", ask.place.ts or ""
    if not claim_message(bot.services.session_factory, channel, ts, bot.now(),
                         body.get("event_id")):
        log.info("duplicate delivery ignored", extra={"event_id": body.get("event_id"),
                                                       "channel": channel, "ts": ts})
        return
    slack.react(bot.client, channel, ts, add=True)
    try:
        post_answer(bot, ask)
    except Exception:
        log.exception("answering failed", extra={"event_id": body.get("event_id"),
                                                  "channel": channel})
        _apologise(bot, ask)
    finally:
        slack.react(bot.client, channel, ts, add=False)


def post_answer(bot: Bot, ask: Ask) -> Question:
    question, result = search_and_record(bot, ask)
    message = render(question, result, ephemeral=False)
    reply = bot.client.chat_postMessage(
        channel=ask.place.channel or "", thread_ts=ask.place.thread_ts,
        text=message.text, blocks=message.blocks, unfurl_links=False,
    )
    with session_scope(bot.services.session_factory) as session:
        # A top-level DM answer starts a thread the asker may continue in.
        set_reply(session, question.id, reply.get("ts"), thread_ts=ask.place.thread_ts)
    return question


def search_and_record(bot: Bot, ask: Ask) -> tuple[Question, SearchResult]:
    place = ask.place
    visibility = bot.policy.visibility(
        place.channel, is_dm=ask.is_dm, user_is_staff=bot.staff.is_staff(place.user)
    )
    text = ask.text[: bot.settings.ask_max_chars]
    result = bot.services.retriever.search(text, visibility)
    with session_scope(bot.services.session_factory) as session:
        question = record_question(session, surface=ask.surface, result=result,
                                   visibility=visibility, now=bot.now(), text=text, place=place)
    return question, result


def render(question: Question, result: SearchResult, *, ephemeral: bool) -> Message:
    top = result.top
    if result.decision is Decision.ANSWER and top is not None:
        return blocks.answer(question.id, top.entry, question.lang, ephemeral=ephemeral)
    if result.decision is Decision.SUGGEST:
        return blocks.suggestions(question.id, candidates(question), question.lang)
    return blocks.abstain(question.id, question.lang)


def _hint(bot: Bot, event: dict[str, Any], event_id: str | None) -> None:
    """A bare "@banso": say how to ask instead of staying silent."""
    channel, ts = event.get("channel") or "", event.get("ts") or ""
    if not claim_message(bot.services.session_factory, channel, ts, bot.now(), event_id):
        return
    hint = blocks.notice(t("mention_empty", "ja"))
    bot.client.chat_postMessage(channel=channel, thread_ts=event.get("thread_ts") or ts,
                                text=hint.text, blocks=hint.blocks)


def _apologise(bot: Bot, ask: Ask) -> None:
    lang = detect_lang(ask.text)
    try:
        bot.client.chat_postMessage(channel=ask.place.channel or "", thread_ts=ask.place.thread_ts,
                                    text=t("apology", lang))
    except Exception:
        log.exception("could not post the apology either", extra={"channel": ask.place.channel})


def answer_command(bot: Bot, command: dict[str, Any]) -> None:
    """/ask: an ephemeral answer through the response_url, with a "Share in channel" button."""
    text = clean(command.get("text", ""))
    channel = command.get("channel_id")
    is_dm = str(channel or "").startswith("D") or command.get("channel_name") == "directmessage"
    place = SlackPlace(channel=channel, user=command.get("user_id"))
    ask = Ask(text, Surface.ASK_COMMAND, place, is_dm)
    url = command.get("response_url") or ""
    try:
        question, result = search_and_record(bot, ask)
        slack.respond(url, render(question, result, ephemeral=True))
    except Exception:
        log.exception("/ask failed", extra={"channel": channel, "trigger_id":
                                             command.get("trigger_id")})
        slack.respond(url, blocks.notice(t("apology", detect_lang(text))))


def command_problem(bot: Bot, command: dict[str, Any]) -> str | None:
    """Why an /ask cannot be answered (shown at once as the acknowledgement), or None."""
    text = clean(command.get("text", ""))
    lang = detect_lang(text) if text else "ja"
    if not text:
        return t("ask_usage", lang)
    if len(text) > bot.settings.ask_max_chars:
        return t("question_too_long", lang, limit=bot.settings.ask_max_chars)
    return None
