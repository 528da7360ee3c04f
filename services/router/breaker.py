"""The fast-abort circuit breaker: a failing canary loses its share at once.

A canary that fails every request hurts users until the operator's next analyses roll it
back. The router watches the canary's own answers: when ``failures`` of its last
``window_requests`` answers failed, counting only those of the last ``window_seconds``,
the breaker trips and every request the weight or the match rules would send to the
canary goes to the stable instead (the override header still reaches the canary, for
testing). A failure is an answer with status 5xx or no answer at all (connect, timeout,
broken answer); a client that left is not the canary's failure.

The breaker stays open until the routes are set again: a ``PUT /admin/routes`` or
``POST /admin/promote`` (the operator acting on the trip), or a config file whose routes,
canary upstream or breaker settings changed. There is no automatic half-open retry: the
operator, which saw the trip (``GET /admin/routes`` and ``canaria_router_breaker_open``),
decides whether the canary gets traffic again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import BreakerSettings, RouterConfig


@dataclass(frozen=True)
class Trip:
    """When and why the breaker opened."""

    at_unix: float
    failures: int
    requests: int


def resets_breaker(previous: RouterConfig, config: RouterConfig, source: str) -> bool:
    """Whether applying ``config`` (from ``source``) starts a fresh breaker (pure): every
    admin change, and a file whose routes, canary upstream or breaker settings changed."""
    return (
        source.startswith("admin")
        or previous.routes() != config.routes()
        or previous.upstreams.canary != config.upstreams.canary
        or previous.breaker != config.breaker
    )


def is_failure(status: int | None) -> bool:
    """No answer, or a 5xx answer (pure)."""
    return status is None or status >= 500


class Breaker:
    """One variant's breaker. Not thread-safe: the router calls it from its event loop."""

    def __init__(
        self,
        settings: BreakerSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._wall_clock = wall_clock
        self._recent: deque[tuple[float, bool]] = deque(maxlen=settings.window_requests)
        self.trip: Trip | None = None

    @property
    def open(self) -> bool:
        return self.trip is not None

    def record(self, status: int | None) -> bool:
        """Count one answer; True when this answer tripped the breaker."""
        if self.trip is not None:
            return False
        failed = is_failure(status)
        now = self._clock()
        self._recent.append((now, failed))
        if not failed:
            return False
        since = now - self.settings.window_seconds
        failures = sum(1 for at, bad in self._recent if bad and at >= since)
        if failures < self.settings.failures:
            return False
        self.trip = Trip(self._wall_clock(), failures, len(self._recent))
        return True

    def view(self) -> dict[str, Any]:
        """The state ``GET /admin/routes`` shows (JSON-ready)."""
        settings = self.settings
        state: dict[str, Any] = {
            "open": self.open,
            "failures": settings.failures,
            "window_requests": settings.window_requests,
            "window_seconds": settings.window_seconds,
        }
        if self.trip is not None:
            state["tripped_at"] = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.trip.at_unix)
            )
            state["reason"] = (
                f"{self.trip.failures} failures in the last {self.trip.requests} requests"
                f" within {settings.window_seconds:g}s"
            )
        return state
