"""The chat page in a real headless Chromium against a real `banso serve` process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.handoffs import Handoff
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


ROLES = """---
id: roles-permissions
title: 権限ごとにできることを知りたい
aliases: [管理者とメンバーの違い]
visibility: public
links: [https://help.example.com/roles]
---
権限ごとにできることは次のとおりです。

| 権限 | メンバー招待 | 請求情報 |
|---|:-:|:-:|
| 管理者 | ○ | ○ |
| メンバー | × | × |

詳しくは [権限の説明](https://help.example.com/roles) と
[危険なリンク](javascript:alert(1)) を参照。
"""


@pytest.fixture(scope="module")
def browser_knowledge(knowledge_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web tests' knowledge plus an entry with a Markdown table and a javascript: link."""
    root = tmp_path_factory.mktemp("browser-knowledge")
    shutil.copytree(knowledge_root, root, dirs_exist_ok=True)
    (root / "faq" / "roles.md").write_text(ROLES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server(
    database_url: str, browser_knowledge: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    # One server for the module (start-up is the slow part); each test empties the tables it
    # wrote through the `engine` fixture the `page` fixture requests.
    proc = start_server({
        "BANSO_DATA_DIR": str(tmp_path_factory.mktemp("browser-var")),
        "BANSO_DATABASE_URL": database_url,
        "BANSO_KNOWLEDGE_DIR": str(browser_knowledge),
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


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots for a person to look at: <the run's tmp folder>/artifacts."""
    folder = tmp_path_factory.getbasetemp() / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def test_empty_page_introduces_itself_with_examples_from_the_knowledge_base(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.locator("#intro-text")).to_contain_text("よくある質問からお答えします")
    examples = page.get_by_role("list", name="質問の例").get_by_role("button")
    expect(examples).not_to_have_count(0)
    titles = examples.all_inner_texts()
    assert 1 <= len(titles) <= 4 and "解約防止の値引き上限はいくらですか" not in titles
    assert set(titles) <= {"パスワードを忘れました", "請求書をダウンロードしたい",
                           "権限ごとにできることを知りたい"}

    examples.first.click()  # an example asks itself
    expect(page.locator(".q").first).to_have_text(titles[0])
    expect(page.locator(".reply").first).to_be_visible()


def test_markdown_table_and_links_render_and_a_javascript_link_does_not(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.get_by_role("textbox", name="質問", exact=True).fill("権限ごとにできることを知りたい")
    page.keyboard.press("Enter")

    reply = page.locator(".reply").first
    expect(reply).to_be_visible()
    if reply.get_attribute("data-decision") == "suggest":
        reply.locator("button.candidate", has_text="権限ごとにできること").click()
    table = reply.locator(".answer table")
    expect(table.locator("th")).to_have_text(["権限", "メンバー招待", "請求情報"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(reply.locator(".answer a")).to_have_count(1)
    expect(reply.locator(".answer a")).to_have_attribute("href", "https://help.example.com/roles")
    assert reply.locator(".answer").evaluate(
        "n => [...n.querySelectorAll('*')].every(e => ![...e.attributes].some("
        "a => a.name.startsWith('on') || a.value.includes('javascript:')))")


def test_no_answer_offers_a_hand_off_form_usable_by_keyboard(
    page: object, session_factory: sessionmaker[Session], artifacts: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.get_by_role("textbox", name="質問", exact=True).fill("宇宙旅行の予約はできますか")
    page.keyboard.press("Enter")

    reply = page.locator(".reply").first
    expect(reply).to_be_visible()
    assert reply.get_attribute("data-decision") in {"suggest", "abstain"}
    form = reply.get_by_role("form", name="担当者に問い合わせる")
    question = form.get_by_label("お問い合わせ内容", exact=True)
    expect(question).to_have_value("宇宙旅行の予約はできますか")

    # Keyboard only: Tab from the question through the fields, Space ticks, Enter sends.
    question.focus()
    page.keyboard.press("Tab")
    page.keyboard.type("佐藤 花子")
    page.keyboard.press("Tab")
    page.keyboard.type("hanako@")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the browser refuses the half e-mail address itself
    expect(form.get_by_label("メールアドレス", exact=True)).to_be_focused()
    page.keyboard.type("example.co.jp")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    done = reply.locator(".handoff-done")
    expect(done).to_have_text(
        "ありがとうございます。サポート担当から hanako@example.co.jp にご連絡します。")
    expect(done).to_be_focused()
    with session_factory() as session:
        stored = session.scalars(select(Handoff)).one()
    assert (stored.question, stored.name, stored.email, stored.status) == (
        "宇宙旅行の予約はできますか", "佐藤 花子", "hanako@example.co.jp", "stored")


def test_screenshots_of_desktop_and_phone(
    browser: Any, server: ServerProcess, artifacts: Path, engine: Engine
) -> None:
    from playwright.sync_api import expect

    for name, viewport in (("desktop", {"width": 1280, "height": 900}),
                           ("390px", {"width": 390, "height": 844})):
        context = browser.new_context(locale="ja-JP", viewport=viewport)
        page = context.new_page()
        page.goto(server.url + "/")
        expect(page.locator("#examples button").first).to_be_visible()
        page.screenshot(path=str(artifacts / f"chat-empty-{name}.png"), full_page=True)
        for question in ("権限ごとにできることを知りたい", "宇宙旅行の予約はできますか"):
            page.get_by_role("textbox", name="質問", exact=True).fill(question)
            page.keyboard.press("Enter")
            expect(page.locator(".reply")).not_to_have_count(0)
            page.wait_for_function(
                "q => document.querySelectorAll('.reply').length >= q", arg=2
                if question.startswith("宇宙") else 1)
        expect(page.locator(".handoff")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}: the page scrolls sideways ({width}px)"
        page.screenshot(path=str(artifacts / f"chat-{name}.png"), full_page=True)
        context.close()
    assert sorted(p.name for p in artifacts.glob("chat-*.png")) == [
        "chat-390px.png", "chat-desktop.png", "chat-empty-390px.png", "chat-empty-desktop.png"]


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
