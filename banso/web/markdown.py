"""Answers' Markdown as safe HTML for the chat page: markdown-it-py renders (CommonMark plus
tables), nh3 (the Ammonia sanitizer) keeps only the tags below.

Raw HTML in a knowledge file is shown as text (markdown-it's `html` option is off) and nh3
removes anything else a renderer might let through: no script, no event handler, no
`javascript:` or `data:` link. A hand-written renderer missed tables; a sanitizer written by
hand is the kind of code that should not be.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "hr", "ul", "ol", "li",
        "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "del"}
ATTRIBUTES = {"a": {"href", "title"}, "th": {"style"}, "td": {"style"}, "ol": {"start"}}
SCHEMES = {"http", "https", "mailto"}


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"])


def to_html(markdown: str) -> str:
    """Sanitised HTML of `markdown` (headings start at h3: the page's own title is h1)."""
    html = _renderer().render(markdown).replace("<h1>", "<h3>").replace("</h1>", "</h3>")
    html = html.replace("<h2>", "<h4>").replace("</h2>", "</h4>")
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow", set_tag_attribute_values={
            "a": {"target": "_blank"}},
        filter_style_properties={"text-align"},
    )
