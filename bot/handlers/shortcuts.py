"""Message shortcut "Save as FAQ draft": a thread becomes a draft knowledge file for curators."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import blocks, slack
from bot.deps import Bot
from bot.drafts import EmptyThread, build_draft, write_draft
from bot.payloads import ShortcutId
from bot.texts import t
from retrieval.language import detect_lang

log = logging.getLogger(__name__)


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, bot: Bot) -> None:
    def run(body: dict[str, Any]) -> None:
        save_draft(bot, body)

    app.message_shortcut(str(ShortcutId.SAVE_DRAFT))(ack=_ack, lazy=[run])


def save_draft(bot: Bot, body: dict[str, Any]) -> None:
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id", "")
    message = body.get("message") or {}
    lang = detect_lang(message.get("text", "")) if message.get("text") else "ja"
    url = body.get("response_url")
    try:
        if not bot.staff.is_staff(user):
            _reply(url, t("draft_staff_only", lang))
            return
        root = message.get("thread_ts") or message.get("ts") or ""
        replies = bot.client.conversations_replies(channel=channel, ts=root, limit=200)
        link = slack.permalink(bot.client, channel, root)
        draft = build_draft(list(replies.get("messages") or [message]), channel=channel,
                            thread_ts=root, saved_by=user, today=bot.now().date(), link=link)
        path = write_draft(bot.settings.drafts_dir, draft)
        _announce(bot, draft.entry.title, user, link, path.name, draft.entry.lang)
        _reply(url, t("draft_saved", draft.entry.lang, path=path.name))
    except EmptyThread:
        _reply(url, t("draft_empty", lang))
    except Exception:
        log.exception("saving an FAQ draft failed", extra={"channel": channel,
                                                           "trigger_id": body.get("trigger_id")})
        _reply(url, t("apology", lang))


def _announce(bot: Bot, title: str, user: str, link: str | None, name: str, lang: str) -> None:
    curators = bot.settings.curator_channel
    if not curators:
        log.warning("FAQ draft saved but BANSO_CURATOR_CHANNEL is not set", extra={"file": name})
        return
    message = blocks.draft_announcement(title, user, link, name, lang)
    bot.client.chat_postMessage(channel=curators, text=message.text, blocks=message.blocks,
                                unfurl_links=False)


def _reply(response_url: str | None, text: str) -> None:
    if response_url:
        slack.respond(response_url, blocks.notice(text))
