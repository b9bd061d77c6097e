"""Answering a question: decide whether to answer, search, record, render, post.

Called from the lazy listeners (after Slack got its acknowledgement). Whatever goes wrong, the
asker gets a short apology and the log line carries the Slack event id. An unreachable database
(at the dedupe claim or the question record) is told with a reference and the question is held
(`bot.held`) and answered when the database returns.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from bot import blocks
from bot.channels import ChannelPolicy, is_dm_channel
from bot.dedupe import claim_message
from bot.held import HeldQuestion, HeldQuestions
from bot.models import Question, Surface
from bot.questions import clean, is_chatter, looks_like_question
from bot.service import SlackPlace, candidates, is_bot_thread, record_question, set_reply
from core.db import database_unavailable, session_scope
from core.i18n import as_lang, t
from core.metrics import DATABASE_UNAVAILABLE
from core.services import Services
from core.slack import messages as slack
from core.slack.blocks import Message, notice
from retrieval.language import detect_lang
from retrieval.models import Decision, SearchResult
from retrieval.service import QueryBusy

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


def answer_event(services: Services, body: dict[str, Any], *, mentioned: bool,
                 held: HeldQuestions | None = None) -> None:
    """A message or mention: claim it (one answer per message), then answer in its thread."""
    question = HeldQuestion(ref=uuid.uuid4().hex[:8], body=body, mentioned=mentioned)
    try:
        _answer(services, question)
    except Exception as exc:
        if held is None or not database_unavailable(exc):
            raise
        _hold(services, held, question, exc)


def replay_held(services: Services, question: HeldQuestion) -> None:
    """A held question, once more: `answer_event` / `answer_command` without the hold (an
    outage propagates)."""
    if question.command:
        _answer_command(services, question.body)
    else:
        _answer(services, question)


def _answer(services: Services, question: HeldQuestion) -> None:
    body = question.body
    event = body.get("event") or {}
    # Before the claim, an outage propagates: whether the message is ours to answer (a
    # follow-up in our thread?) is not known yet, so it is held without a word to anyone.
    ask = ask_from_event(services, event, mentioned=question.mentioned)
    if ask is None:
        if question.mentioned and event.get("user") and not clean(event.get("text", "")):
            _hint(services, event, body.get("event_id"))
        return
    channel, ts = ask.place.channel or "", ask.place.ts or ""
    question.reply_to = (channel, ask.place.thread_ts)
    if not question.claimed:
        if not claim_message(services.session_factory, channel, ts, services.now(),
                             body.get("event_id")):
            log.info("duplicate delivery ignored", extra={"event_id": body.get("event_id"),
                                                           "channel": channel, "ts": ts})
            return
        question.claimed = True
    slack.react(services.client, channel, ts, add=True)
    try:
        post_answer(services, ask)
    except QueryBusy as busy:
        # Not a failure: the embedder's queue is full (or this asker's share of it).
        log.warning("search busy", extra={"event_id": body.get("event_id"),
                                          "retry_after": busy.retry_after})
        _apologise(services, ask, busy)
    except Exception as exc:
        if database_unavailable(exc):
            raise  # held by answer_event (apology with a reference), answered later
        log.exception("answering failed", extra={"event_id": body.get("event_id"),
                                                  "channel": channel})
        _apologise(services, ask)
    finally:
        slack.react(services.client, channel, ts, add=False)


def _hold(services: Services, held: HeldQuestions, question: HeldQuestion,
          exc: Exception) -> None:
    """The database is unreachable: keep the question for later and tell the asker so."""
    event = question.body.get("event") or {}
    channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
    if held.is_held(channel, ts):
        return  # the same message again (app_mention + message, a Slack retry): told once
    DATABASE_UNAVAILABLE.labels("slack").inc()
    promised = held.hold(question)
    log.warning("question held: database unavailable", extra={
        "ref": question.ref, "event_id": question.body.get("event_id"), "channel": channel,
        "error": type(exc).__name__, "held": promised, "claimed": question.claimed})
    if question.reply_to is not None:  # known to be a question for us: say so where it is
        text = t("bot.apology_held" if promised else "bot.apology_ref",
                 detect_lang(clean(event.get("text", ""))), ref=question.ref)
        _tell(services, *question.reply_to, text)


def post_answer(services: Services, ask: Ask) -> Question:
    question, result = search_and_record(services, ask)
    message = render(question, result, ephemeral=False)
    reply = services.client.chat_postMessage(
        channel=ask.place.channel or "", thread_ts=ask.place.thread_ts,
        text=message.text, blocks=message.blocks, unfurl_links=False,
    )
    try:
        with session_scope(services.session_factory) as session:
            # A top-level DM answer starts a thread the asker may continue in.
            set_reply(session, question.id, reply.get("ts"), thread_ts=ask.place.thread_ts)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # Answered already: holding it would answer twice. Only follow-ups lose their thread.
        log.warning("answer posted; its ts not stored (database unavailable)",
                    extra={"question_id": question.id, "error": type(exc).__name__})
    return question


def search_and_record(services: Services, ask: Ask) -> tuple[Question, SearchResult]:
    place = ask.place
    visibility = ChannelPolicy.of(services.settings).visibility(
        place.channel, is_dm=ask.is_dm, user_is_staff=services.staff.is_staff(place.user)
    )
    text = ask.text[: services.settings.ask_max_chars]
    # The asker is whose turn it is in the embedder's fair queue.
    result = services.retriever.search(text, visibility, client=place.user or "")
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


def _sorry(text: str, busy: QueryBusy | None = None) -> str:
    lang = detect_lang(text) if text else "ja"
    if busy is not None:
        return t("bot.busy", lang, seconds=busy.retry_after)
    return t("bot.apology", lang)


def _apologise(services: Services, ask: Ask, busy: QueryBusy | None = None) -> None:
    _tell(services, ask.place.channel or "", ask.place.thread_ts, _sorry(ask.text, busy))


def _tell(services: Services, channel: str, thread_ts: str | None, text: str) -> None:
    try:
        services.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except Exception:
        log.exception("could not post the apology either", extra={"channel": channel})


def answer_command(services: Services, command: dict[str, Any], *,
                   held: HeldQuestions | None = None) -> None:
    """/ask: an ephemeral answer through the response_url, with a "Share in channel" button.

    An unreachable database holds the question (answered through the same response_url when
    the database returns, while Slack still honours it) and tells the asker with a reference.
    """
    url = command.get("response_url") or ""
    if not url:  # Slack always sends one; without it there is nowhere to answer
        log.info("/ask without a response_url ignored",
                 extra={"channel": command.get("channel_id")})
        return
    text = clean(command.get("text", ""))
    try:
        _answer_command(services, command)
    except QueryBusy as busy:
        slack.respond(url, notice(_sorry(text, busy)))
    except Exception as exc:
        if database_unavailable(exc):
            _hold_command(held, command, exc)
            return
        log.exception("/ask failed", extra={"channel": command.get("channel_id"),
                                             "trigger_id": command.get("trigger_id")})
        slack.respond(url, notice(_sorry(text)))


def _answer_command(services: Services, command: dict[str, Any]) -> None:
    text = clean(command.get("text", ""))
    channel = command.get("channel_id")
    is_dm = is_dm_channel(channel) or command.get("channel_name") == "directmessage"
    place = SlackPlace(channel=channel, user=command.get("user_id"))
    ask = Ask(text, Surface.ASK_COMMAND, place, is_dm)
    question, result = search_and_record(services, ask)
    slack.respond(command.get("response_url") or "", render(question, result, ephemeral=True))


def _hold_command(held: HeldQuestions | None, command: dict[str, Any], exc: Exception) -> None:
    """The database is unreachable during an /ask: hold it and tell the asker (ephemeral)."""
    question = HeldQuestion(ref=uuid.uuid4().hex[:8], body=command, mentioned=True,
                            command=True)
    DATABASE_UNAVAILABLE.labels("slack").inc()
    promised = held is not None and held.hold(question)
    log.warning("question held: database unavailable", extra={
        "ref": question.ref, "trigger_id": command.get("trigger_id"),
        "channel": command.get("channel_id"), "error": type(exc).__name__, "held": promised})
    text = t("bot.apology_held" if promised else "bot.apology_ref",
             detect_lang(clean(command.get("text", ""))), ref=question.ref)
    try:
        slack.respond(command.get("response_url") or "", notice(text))
    except Exception:
        log.exception("could not send the apology either", extra={"ref": question.ref})


def command_problem(services: Services, command: dict[str, Any]) -> str | None:
    """Why an /ask cannot be answered (shown at once as the acknowledgement), or None."""
    text = clean(command.get("text", ""))
    lang = detect_lang(text) if text else "ja"
    if not text:
        return t("bot.ask_usage", lang)
    if len(text) > services.settings.ask_max_chars:
        return t("bot.question_too_long", lang, limit=services.settings.ask_max_chars)
    return None
