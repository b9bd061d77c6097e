"""Reuse of the rules' immutable results (Measure, RiskSignal, ...) across accounts.

Most of `assess`'s time went into building the same few explanation strings again and again: a
measure depends on a handful of small integers (days since the last login, setup progress,
active users and seats, ...), so 100,000 accounts share a few thousand distinct measures. The
builders stay plain functions of those inputs; `memoized` calls one only the first time it
sees its inputs for a given config object and language and returns that result afterwards.
Sharing the instances is safe because they are frozen dataclasses. Keys are the exact inputs
of a builder, so a cached result is the one the builder would return (AccountFacts' counts are
ints as declared: a float 3.0 would share the entry of the int 3, which formats as "3").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
Memo = dict[Hashable, Any]

# Tables are dropped wholesale past these sizes: bounds memory whatever the inputs, and a
# refill costs at most one build per distinct input. An entry is ~0.4 KiB; 100k accounts of
# the benchmark fill 28k of them (12 MiB), mostly active-seat ratios and their 30-day trend.
MAX_CONFIGS = 4  # in production: one RulesConfig, one or two languages
MAX_ENTRIES = 50_000

# (id(config), lang) -> (config, table). The config is kept so that its id cannot be reused by
# another object while the table exists; the identity check below catches a reused id anyway.
_tables: dict[tuple[int, str], tuple[object, Memo]] = {}


def memo_table(config: object, lang: str) -> Memo:
    """The table of results for one (immutable) rules config object and one language."""
    entry = _tables.get((id(config), lang))
    if entry is None or entry[0] is not config:
        if len(_tables) >= MAX_CONFIGS:
            _tables.clear()
        entry = _tables[(id(config), lang)] = (config, {})
    table = entry[1]
    if len(table) > MAX_ENTRIES:
        table.clear()
    return table


def memoized(
    table: Memo, key: Hashable, build: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`build(*args, **kwargs)`, computed once per `key` in `table`. `key` must determine the
    result (and the result must not be None)."""
    found = table.get(key)
    if found is None:
        found = table[key] = build(*args, **kwargs)
    return found
