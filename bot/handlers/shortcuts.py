"""Message shortcut "Save as FAQ draft": a thread becomes a draft knowledge file for curators."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot import blocks
from bot.drafts import EmptyThread, build_draft, write_draft
from core.i18n import Lang, as_lang, t
from core.services import Services
from core.slack import messages as slack
from core.slack.ids import ShortcutId
from core.slack.interaction import Interaction, Refusal, acknowledge, handle
from retrieval.language import detect_lang

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def run(body: dict[str, Any]) -> None:
        save_draft(services, body)

    app.message_shortcut(str(ShortcutId.SAVE_DRAFT))(ack=acknowledge, lazy=[run])


def save_draft(services: Services, body: dict[str, Any]) -> None:
    message = body.get("message") or {}
    lang = detect_lang(message.get("text", "")) if message.get("text") else "ja"

    def work(click: Interaction) -> None:
        channel = click.origin.channel or ""
        root = message.get("thread_ts") or message.get("ts") or ""
        replies = services.client.conversations_replies(channel=channel, ts=root, limit=200)
        link = slack.permalink(services.client, channel, root)
        try:
            draft = build_draft(list(replies.get("messages") or [message]), channel=channel,
                                thread_ts=root, saved_by=click.user,
                                today=services.now().date(), link=link)
        except EmptyThread as exc:
            raise Refusal(t("bot.draft_empty", lang)) from exc
        path = write_draft(services.settings.drafts_dir, draft)
        draft_lang = as_lang(draft.entry.lang)
        _announce(services, draft.entry.title, click.user, link, path.name, draft_lang)
        click.tell(t("bot.draft_saved", draft_lang, path=path.name))

    handle(services, body, work, lang=lang, apology="bot.apology", staff_only=True,
           refusal="bot.draft_staff_only")


def _announce(services: Services, title: str, user: str, link: str | None, name: str,
              lang: Lang) -> None:
    curators = services.settings.curator_channel
    if not curators:
        log.warning("FAQ draft saved but BANSO_CURATOR_CHANNEL is not set", extra={"file": name})
        return
    message = blocks.draft_announcement(title, user, link, name, lang)
    services.client.chat_postMessage(channel=curators, text=message.text,
                                     blocks=message.blocks, unfurl_links=False)
