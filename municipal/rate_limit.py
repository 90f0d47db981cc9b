"""A token bucket per client, in memory, with a bounded number of clients.

Each client may send `burst` queries at once, then one every 60/`per_minute` seconds.
A bucket left alone long enough to be full again (burst / rate seconds) is the same as
no bucket, so it is dropped; that keeps only the clients of the last ~20 s. Past
`max_clients` the longest-idle bucket goes too: a flood from more addresses than that
can hand an idle address a fresh burst, never grow the table.

Written here rather than taken from a library: `limits` (and slowapi on top of it)
keeps windows, not buckets, with no bound on the number of keys, and the clock must be
injectable so tests never sleep.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, max_clients: int,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0  # tokens a second
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        # client -> (tokens, when counted); least recently seen first
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def wait_for(self, client: Hashable) -> float:
        """0.0 if `client` may query now (its token is spent), else how many seconds
        until it may; a refused query spends nothing."""
        now = self.clock()
        self._drop_full(now)
        tokens, counted = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - counted) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if wait == 0.0 else tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait

    def _drop_full(self, now: float) -> None:
        # Ordered by when each was last seen, so the idle ones are all at the front.
        refill_s = self.burst / self.rate
        while self._buckets:
            _, counted = next(iter(self._buckets.values()))
            if now - counted < refill_s:
                return
            self._buckets.popitem(last=False)
