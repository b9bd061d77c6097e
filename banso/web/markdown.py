"""Answers' Markdown as safe HTML for the chat page: markdown-it-py renders (CommonMark plus
tables), nh3 (the Ammonia sanitizer) keeps only the tags below.

Raw HTML in a knowledge file is shown as text (markdown-it's `html` option is off) and nh3
removes anything else a renderer might let through: no script, no event handler, no
`javascript:` or `data:` link. A hand-written renderer missed tables; a sanitizer written by
hand is the kind of code that should not be.
"""

from __future__ import annotations

from functools import cache, lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "hr", "ul", "ol", "li",
        "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "del"}
ATTRIBUTES = {"a": {"href", "title"}, "th": {"style"}, "td": {"style"}, "ol": {"start"}}
SCHEMES = {"http", "https", "mailto"}


def _same_site_or_absolute(element: str, attribute: str, value: str) -> str | None:
    """nh3 keeps relative URLs, but a browser reads `//host` and `/\\host` as another host:
    such a link loses its href (its text stays)."""
    if element == "a" and attribute == "href" and value.startswith(("//", "/\\", "/%5C", "/%5c")):
        return None
    return value


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"])


# Every /api/ask renders the bodies of the entries it shows; bodies repeat, and rendering plus
# sanitising was 13 % of a cached question's server CPU (py-spy, docs/benchmarks.md). Bounded:
# an edited entry is a new key, its old rendering ages out.
@lru_cache(maxsize=1024)
def to_html(markdown: str) -> str:
    """Sanitised HTML of `markdown` (headings start at h3: the page's own title is h1)."""
    html = _renderer().render(markdown).replace("<h1>", "<h3>").replace("</h1>", "</h3>")
    html = html.replace("<h2>", "<h4>").replace("</h2>", "</h4>")
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow", set_tag_attribute_values={
            "a": {"target": "_blank"}},
        filter_style_properties={"text-align"}, attribute_filter=_same_site_or_absolute,
    )
