"""Per-client rate limit: one token bucket per key.

The key is the client address (the TCP peer), a header's value, or ``forwarded_for``: the
address that the outermost of ``trusted_proxies`` proxies in front of the router saw, read
from the right of ``X-Forwarded-For`` (each proxy appends the address it received from).
A client can put anything at the *left* of that header, so only the hops the trusted
proxies added count; with fewer entries than that, the leftmost one is used.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import CLIENT_ADDRESS, FORWARDED_FOR, RateLimitSettings


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float


def take(
    bucket: Bucket | None, *, now: float, rate: float, burst: int
) -> tuple[Bucket, float | None]:
    """Spend one token (pure): the new bucket, and ``None`` if allowed, else the seconds
    until a token is back (what ``Retry-After`` says)."""
    if bucket is None:
        tokens = float(burst)
    else:
        tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), None
    return Bucket(tokens, now), (1.0 - tokens) / rate


def forwarded_client(forwarded_for: str, trusted_proxies: int) -> str | None:
    """The address the outermost trusted proxy saw (pure): the ``trusted_proxies``-th entry
    from the right of ``X-Forwarded-For``, or its leftmost when it has fewer; ``None``
    when the header is empty."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if not hops:
        return None
    return hops[-min(trusted_proxies, len(hops))]


class RateLimiter:
    def __init__(
        self, settings: RateLimitSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        special = settings.key in (CLIENT_ADDRESS, FORWARDED_FOR)
        self._header = None if special else settings.key.split(":", 1)[1]
        self._buckets: dict[str, Bucket] = {}

    def key(self, headers: dict[str, str], client: str) -> str:
        """The bucket a request spends from; without the header, the client address."""
        if self.settings.key == FORWARDED_FOR:
            hops = forwarded_client(
                headers.get("x-forwarded-for", ""), self.settings.trusted_proxies
            )
            return f"a:{hops or client}"
        if self._header is not None:
            value = headers.get(self._header)
            if value:
                return f"h:{value}"
        return f"a:{client}"

    def retry_after(self, key: str) -> int | None:
        """``None`` when the request may pass, else whole seconds to wait (at least 1)."""
        settings = self.settings
        now = self._clock()
        bucket, wait = take(
            self._buckets.get(key), now=now, rate=settings.requests_per_second, burst=settings.burst
        )
        if key not in self._buckets and len(self._buckets) >= settings.max_clients:
            self._forget_idle(now)
        self._buckets[key] = bucket
        return None if wait is None else max(1, math.ceil(wait))

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled (forgetting them changes nothing), else the oldest."""
        full_after = self.settings.burst / self.settings.requests_per_second
        idle = [key for key, bucket in self._buckets.items() if now - bucket.updated >= full_after]
        for key in idle or list(self._buckets)[: max(1, len(self._buckets) // 10)]:
            del self._buckets[key]
