"""Knowledge answers are Markdown; Slack shows mrkdwn. A wrong conversion shows raw ** and []()."""

from __future__ import annotations

import pytest

from bot.mrkdwn import to_markdown, to_mrkdwn


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**太字**の説明", "*太字*の説明"),
        ("__bold__ text", "*bold* text"),
        ("an *italic* word", "an _italic_ word"),
        ("[ヘルプ](https://help.example.com/a)", "<https://help.example.com/a|ヘルプ>"),
        ("[**太字リンク**](https://x.example/b)", "<https://x.example/b|太字リンク>"),
        ("# 見出し", "*見出し*"),
        ("### Heading **with bold**", "*Heading with bold*"),
        ("- 項目1\n- 項目2", "• 項目1\n• 項目2"),
        ("* star item", "• star item"),
        ("  - nested", "    • nested"),
        ("1. 手順1\n2. 手順2", "1. 手順1\n2. 手順2"),
        ("~~古い~~", "~古い~"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("`**not bold**`", "`**not bold**`"),
        ("<https://example.com/x>", "<https://example.com/x>"),
        ("![図](https://img.example/a.png)", "<https://img.example/a.png|図>"),
    ],
)
def test_markdown_becomes_slack_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_code_blocks_pass_through_untouched_but_escaped() -> None:
    text = "手順:\n```bash\ncurl -H 'A: <token>' **x**\n```\n**後**"
    assert to_mrkdwn(text) == "手順:\n```\ncurl -H 'A: &lt;token&gt;' **x**\n```\n*後*"


def test_unclosed_code_block_is_closed() -> None:
    assert to_mrkdwn("```\ncode").endswith("```")


def test_link_with_ampersand_in_query_keeps_a_working_url() -> None:
    assert to_mrkdwn("[検索](https://x.example/?a=1&b=2)") == "<https://x.example/?a=1&b=2|検索>"


def test_slack_thread_text_becomes_markdown_for_drafts() -> None:
    text = ("*設定* は <https://help.example.com/a|ヘルプ> を見て <@U123> &amp; "
            "<#C1|general>\n• 手順")
    assert to_markdown(text) == (
        "**設定** は [ヘルプ](https://help.example.com/a) を見て @U123 & #general\n- 手順"
    )
