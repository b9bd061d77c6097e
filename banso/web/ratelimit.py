"""Per-client token bucket for POST /api/ask, spent by what each question costs.

A question's cost is its share of the embedder (`PreparedQuery.cost`: 1 for a typical question,
up to 2 at the token cap), so long questions use up a client's minute sooner.

Buckets live in this process's memory: two replicas behind a load balancer each allow the full
rate (documented in docs/operations.md); the load balancer is the place for a global limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60.0
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()  # routes run in a threadpool

    def acquire(self, client: str, cost: float = 1.0) -> int:
        """Take `cost` tokens; returns 0 when allowed, else whole seconds until there are enough."""
        cost = min(cost, self._capacity)  # a cost above the bucket would never be allowed
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(client, None) or _Bucket(self._capacity, now)
            bucket.tokens = min(
                self._capacity, bucket.tokens + (now - bucket.updated) * self._refill_per_second
            )
            bucket.updated = now
            self._buckets[client] = bucket
            # Forget the least recently seen clients so a scan of many addresses cannot grow
            # memory without bound; a forgotten client simply starts with a full bucket.
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0
            return max(1, math.ceil((cost - bucket.tokens) / self._refill_per_second))
