"""The chat page in a real headless Chromium against a real `banso serve` process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Feedback, Question
from tests.banso.web.server import ServerProcess, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium: apt-get install -y chromium",
    ),
]


@pytest.fixture(scope="module")
def server(
    database_url: str, knowledge_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    # One server for the module (start-up is the slow part); each test empties the tables it
    # wrote through the `engine` fixture the `page` fixture requests.
    proc = start_server({
        "BANSO_DATA_DIR": str(tmp_path_factory.mktemp("browser-var")),
        "BANSO_DATABASE_URL": database_url,
        "BANSO_KNOWLEDGE_DIR": str(knowledge_root),
        "BANSO_SCHEDULER_ENABLED": "false",
    })
    yield proc
    proc.terminate()


@pytest.fixture(scope="module")
def browser(server: ServerProcess) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(server: ServerProcess, browser: Any, engine: Engine) -> Iterator[object]:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(server.url + "/")
    yield page
    context.close()


def test_japanese_question_answered_and_helpful_click_stored(
    page: object, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.locator("#heading")).to_have_text("よくある質問・サポート")

    page.locator("#question").fill("パスワードを忘れてしまいました")
    page.locator("#question").press("Enter")

    reply = page.locator(".reply").first
    expect(reply).to_be_visible()
    if reply.get_attribute("data-decision") == "suggest":  # candidates first: open the best one
        reply.locator("button.candidate", has_text="パスワードを忘れました").click()
    expect(reply.locator(".title")).to_have_text("パスワードを忘れました")
    expect(reply.locator(".answer strong")).to_have_text("「パスワードをお忘れの方」")
    expect(reply.locator(".answer li")).to_have_count(2)
    # HTML inside an answer is shown as text, never rendered.
    expect(reply.locator(".answer")).to_contain_text("<b>HTML</b> はそのまま")
    expect(reply.locator(".answer b")).to_have_count(0)
    expect(reply.locator(".sources a")).to_have_attribute(
        "href", "https://help.example.com/password"
    )
    if os.environ.get("BANSO_SCREENSHOTS"):
        page.screenshot(path=os.environ["BANSO_SCREENSHOTS"] + "/chat-ja.png", full_page=True)

    reply.locator("button.helpful").click()
    expect(reply.locator(".thanks")).to_have_text("フィードバックありがとうございます。")

    with session_factory() as session:
        question = session.scalars(select(Question).where(Question.surface == "web")).one()
        stored = session.scalars(select(Feedback)).one()
    assert question.text == "パスワードを忘れてしまいました"
    assert (stored.question_id, stored.helpful, stored.entry_id) == (
        question.id, True, "password-reset"
    )


def test_english_question_switches_the_page_to_english(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.locator("#question").fill("How do I export data to CSV?")
    page.locator("#send").click()

    reply = page.locator(".reply").first
    expect(reply).to_be_visible()
    expect(page.locator("#heading")).to_have_text("Help center")
    expect(reply.locator(".message")).to_have_text(
        "Here is the answer." if reply.get_attribute("data-decision") == "answer"
        else "These articles may help."
    )
    expect(page.locator("button.not-helpful").first).to_have_text("Not helpful")


def test_internal_only_question_shows_nothing_internal(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.locator("#question").fill("解約防止の値引き上限はいくらですか")
    page.locator("#question").press("Enter")

    reply = page.locator(".reply").first
    expect(reply).to_be_visible()
    expect(page.locator("#log")).not_to_contain_text("社外秘")
    expect(page.locator("#log")).not_to_contain_text("値引きは最大")


def test_language_toggle_asks_for_replies_in_english(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.locator("#lang-toggle").click()
    expect(page.locator("#heading")).to_have_text("Help center")
    expect(page.locator("#lang-toggle")).to_have_text("日本語")

    page.locator("#question").fill("請求書をダウンロードしたい")
    page.locator("#question").press("Enter")

    reply = page.locator(".reply").first
    expect(reply).to_be_visible()
    expect(reply.locator(".message")).to_have_text(
        ["Here is the answer." if reply.get_attribute("data-decision") == "answer"
         else "These articles may help."]
    )
    expect(page.locator("#heading")).to_have_text("Help center")


HOSTILE_LINKS = ["//evil.example/phish", "/\\evil.example/phish", "javascript:alert(1)",
                 "JaVaScRiPt:alert(2)", "java\tscript:alert(3)", "data:text/html,<b>x</b>",
                 "vbscript:msgbox(4)"]


def test_answer_links_to_other_hosts_or_scripts_never_become_links(page: object) -> None:
    """Whatever an answer's Markdown or links say, the page links only to this site's paths and
    to http(s) URLs: a protocol-relative //host and javascript: stay plain text."""
    import json

    from playwright.sync_api import Page, Route, expect

    assert isinstance(page, Page)
    body = "\n".join(f"- [link {i}]({url})" for i, url in enumerate(HOSTILE_LINKS))
    body += "\n- [help](/help/password) and [docs](https://help.example.com/ok)"
    reply = {"answer_id": 1, "decision": "answer", "lang": "ja", "message": "こちらです。",
             "entries": [{"id": "x", "title": "リンク", "answer": body, "score": 0.9,
                          "links": [*HOSTILE_LINKS, "https://help.example.com/source"]}]}

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(reply))

    page.route("**/api/ask", answer)
    page.locator("#question").fill("リンクを見せて")
    page.locator("#question").press("Enter")

    card = page.locator(".reply").first
    expect(card.locator(".answer li")).to_have_count(len(HOSTILE_LINKS) + 1)
    hrefs = [a.get_attribute("href") for a in card.locator("a").all()]
    assert hrefs == ["/help/password", "https://help.example.com/ok",
                     "https://help.example.com/source"]
    expect(card.locator(".answer")).to_contain_text("link 0")  # kept as text, not a link
