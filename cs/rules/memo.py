"""Reuse of the rules' immutable results (Measure, RiskSignal, ...) across accounts.

Most of `assess`'s time went into building the same few explanation strings again and again: a
measure depends on a handful of small integers (days since the last login, setup progress,
active users and seats, ...), so 100,000 accounts share a few thousand distinct measures. The
builders stay plain functions of those inputs; a `Memo` calls one only the first time it sees
its inputs and returns that result afterwards. One `Memo` belongs to one `Assessor`, i.e. one
rules config and one language, so a cached result can never come from another config. Sharing
the instances is safe because they are frozen dataclasses. Keys are the exact inputs of a
builder (AccountFacts' counts are ints as declared: a float 3.0 would share the entry of the
int 3, which formats as "3").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# The table is dropped wholesale past this size: bounds memory whatever the inputs, and a
# refill costs at most one build per distinct input. An entry is ~0.4 KiB; 100k accounts of
# the benchmark fill 28k of them (12 MiB), mostly active-seat ratios and their 30-day trend.
MAX_ENTRIES = 50_000


class Memo:
    def __init__(self, max_entries: int | None = None) -> None:
        self._table: dict[Hashable, Any] = {}
        self._max = max_entries or MAX_ENTRIES

    def __len__(self) -> int:
        return len(self._table)

    def get(self, key: Hashable, build: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`build(*args, **kwargs)`, computed once per `key`. `key` must determine the result
        (and the result must not be None)."""
        found = self._table.get(key)
        if found is None:
            if len(self._table) >= self._max:
                self._table.clear()
            found = self._table[key] = build(*args, **kwargs)
        return found
