"""A small token bucket per client, for public routes that take no token (the WATCCH application form).

Each client (by the address the server sees; behind a proxy, configure the server to take the forwarded address)
may send `burst` requests at once, then one every `60 / per_minute` seconds. Beyond that the route answers 429
with `Retry-After` (whole seconds). In memory, per process: a replica keeps its own buckets. Buckets that have
refilled are forgotten, so the table stays as small as the set of recent clients.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    def __init__(self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> float | None:
        """None if `client` may go on now (a token is spent), else the seconds until it may."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_full(now)
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_CLIENTS:  # still full of busy clients: drop the oldest
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[: MAX_CLIENTS // 10]:
                del self._buckets[key]

    def check(self, request: Request) -> None:
        """Raises 429 with Retry-After when the request's client has no token left."""
        client = request.client.host if request.client is not None else "unknown"
        wait = self.take(client)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many applications from this address; try again later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
