"""Answers reach the chat page as sanitised HTML: tables, lists and links render; scripts,
event handlers and javascript:/data: links never do."""

from __future__ import annotations

from html.parser import HTMLParser

from fastapi.testclient import TestClient

from banso.web.markdown import to_html


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found

TABLE = """| role | can invite |
|:--|:-:|
| admin | yes |
| member | no |
"""


def test_tables_lists_and_links_render() -> None:
    html = to_html(TABLE + "\n- one\n- [help](https://help.example.com/a)\n")

    assert "<table>" in html and '<th style="text-align:left">role</th>' in html
    assert html.count("<tr>") == 3 and "<li>one</li>" in html
    assert ('<a href="https://help.example.com/a" target="_blank" '
            'rel="noopener noreferrer nofollow">help</a>') in html


def test_nothing_executable_survives() -> None:
    html = to_html(
        "<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
        "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](data:text/html,<b>x</b>)\n\n"
        "<a href=\"javascript:alert(1)\">raw</a>\n")

    tags = _tags(html)
    assert {name for name, _ in tags} <= {"p"}  # no script, img or a: only the paragraphs
    assert not [attrs for _, attrs in tags if attrs]  # no handler, no href
    assert "&lt;script&gt;" in html  # raw HTML is shown as text


def test_ask_returns_the_rendered_answer_next_to_the_markdown(client: TestClient) -> None:
    reply = client.post("/api/ask", json={"question": "パスワードを忘れました"}).json()
    entry = reply["entries"][0]

    assert entry["answer"].startswith("ログイン画面の **")
    assert "<strong>「パスワードをお忘れの方」</strong>" in entry["answer_html"]
    assert entry["answer_html"].count("<li>") == 2
    assert "&lt;b&gt;HTML&lt;/b&gt;" in entry["answer_html"]
