"""Answering a question: decide whether to answer, search, record, render, post.

Called from the lazy listeners (after Slack got its acknowledgement). Whatever goes wrong, the
asker gets a short apology and the log line carries the Slack event id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot import blocks
from bot.channels import ChannelPolicy
from bot.dedupe import claim_message
from bot.models import Question, Surface
from bot.questions import clean, is_chatter, looks_like_question
from bot.service import SlackPlace, candidates, is_bot_thread, record_question, set_reply
from core.db import session_scope
from core.i18n import as_lang, t
from core.services import Services
from core.slack import messages as slack
from core.slack.blocks import Message, notice
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


def ask_from_event(services: Services, event: dict[str, Any], *, mentioned: bool) -> Ask | None:
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
        not is_dm and _wants_answer(services, channel, thread, text, in_thread))
    if not wanted:
        return None
    # DMs are answered where they were asked; channels always in a thread, never at top level.
    reply_thread = (thread if in_thread else None) if is_dm else (thread or ts)
    place = SlackPlace(channel=channel, user=event["user"], ts=ts, thread_ts=reply_thread)
    return Ask(text, Surface.SLACK, place, is_dm)


def _wants_answer(services: Services, channel: str, thread: str | None, text: str,
                  in_thread: bool) -> bool:
    """Unmentioned: a question in a community channel, or a follow-up question in our thread.

    "ありがとう" in the bot's thread is not a question: answering it would be noise.
    """
    if not looks_like_question(text):
        return False
    if in_thread and thread is not None:
        with services.session_factory() as session:
            return is_bot_thread(session, channel, thread)
    return ChannelPolicy.of(services.settings).is_community(channel)


def answer_event(services: Services, body: dict[str, Any], *, mentioned: bool) -> None:
    """A message or mention: claim it (one answer per message), then answer in its thread."""
    event = body.get("event") or {}
    ask = ask_from_event(services, event, mentioned=mentioned)
    if ask is None:
        if mentioned and event.get("user") and not clean(event.get("text", "")):
            _hint(services, event, body.get("event_id"))
        return
    channel, ts = ask.place.channel or "", ask.place.ts or ""
    if not claim_message(services.session_factory, channel, ts, services.now(),
                         body.get("event_id")):
        log.info("duplicate delivery ignored", extra={"event_id": body.get("event_id"),
                                                       "channel": channel, "ts": ts})
        return
    slack.react(services.client, channel, ts, add=True)
    try:
        post_answer(services, ask)
    except Exception:
        log.exception("answering failed", extra={"event_id": body.get("event_id"),
                                                  "channel": channel})
        _apologise(services, ask)
    finally:
        slack.react(services.client, channel, ts, add=False)


def post_answer(services: Services, ask: Ask) -> Question:
    question, result = search_and_record(services, ask)
    message = render(question, result, ephemeral=False)
    reply = services.client.chat_postMessage(
        channel=ask.place.channel or "", thread_ts=ask.place.thread_ts,
        text=message.text, blocks=message.blocks, unfurl_links=False,
    )
    with session_scope(services.session_factory) as session:
        # A top-level DM answer starts a thread the asker may continue in.
        set_reply(session, question.id, reply.get("ts"), thread_ts=ask.place.thread_ts)
    return question


def search_and_record(services: Services, ask: Ask) -> tuple[Question, SearchResult]:
    place = ask.place
    visibility = ChannelPolicy.of(services.settings).visibility(
        place.channel, is_dm=ask.is_dm, user_is_staff=services.staff.is_staff(place.user)
    )
    text = ask.text[: services.settings.ask_max_chars]
    result = services.retriever.search(text, visibility)
    with session_scope(services.session_factory) as session:
        question = record_question(session, surface=ask.surface, result=result,
                                   visibility=visibility, now=services.now(), text=text,
                                   place=place)
    return question, result


def render(question: Question, result: SearchResult, *, ephemeral: bool) -> Message:
    top, lang = result.top, as_lang(question.lang)
    if result.decision is Decision.ANSWER and top is not None:
        return blocks.answer(question.id, top.entry, lang, ephemeral=ephemeral)
    if result.decision is Decision.SUGGEST:
        return blocks.suggestions(question.id, candidates(question), lang)
    return blocks.abstain(question.id, lang)


def _hint(services: Services, event: dict[str, Any], event_id: str | None) -> None:
    """A bare "@banso": say how to ask instead of staying silent."""
    channel, ts = event.get("channel") or "", event.get("ts") or ""
    if not claim_message(services.session_factory, channel, ts, services.now(), event_id):
        return
    hint = notice(t("bot.mention_empty", "ja"))
    services.client.chat_postMessage(channel=channel, thread_ts=event.get("thread_ts") or ts,
                                text=hint.text, blocks=hint.blocks)


def _apologise(services: Services, ask: Ask) -> None:
    lang = detect_lang(ask.text)
    try:
        services.client.chat_postMessage(channel=ask.place.channel or "",
                                         thread_ts=ask.place.thread_ts,
                                         text=t("bot.apology", lang))
    except Exception:
        log.exception("could not post the apology either", extra={"channel": ask.place.channel})


def answer_command(services: Services, command: dict[str, Any]) -> None:
    """/ask: an ephemeral answer through the response_url, with a "Share in channel" button."""
    text = clean(command.get("text", ""))
    channel = command.get("channel_id")
    is_dm = str(channel or "").startswith("D") or command.get("channel_name") == "directmessage"
    place = SlackPlace(channel=channel, user=command.get("user_id"))
    ask = Ask(text, Surface.ASK_COMMAND, place, is_dm)
    url = command.get("response_url") or ""
    if not url:  # Slack always sends one; without it there is nowhere to answer
        log.info("/ask without a response_url ignored", extra={"channel": channel})
        return
    try:
        question, result = search_and_record(services, ask)
        slack.respond(url, render(question, result, ephemeral=True))
    except Exception:
        log.exception("/ask failed", extra={"channel": channel, "trigger_id":
                                             command.get("trigger_id")})
        slack.respond(url, notice(t("bot.apology", detect_lang(text))))


def command_problem(services: Services, command: dict[str, Any]) -> str | None:
    """Why an /ask cannot be answered (shown at once as the acknowledgement), or None."""
    text = clean(command.get("text", ""))
    lang = detect_lang(text) if text else "ja"
    if not text:
        return t("bot.ask_usage", lang)
    if len(text) > services.settings.ask_max_chars:
        return t("bot.question_too_long", lang, limit=services.settings.ask_max_chars)
    return None
