"""A rollout whose reconcile fails: a condition, a Warning Event, and an exponential backoff.

Whatever goes wrong in one rollout's reconcile (an exception from a provider, the store, a
bug) must neither stop the other rollouts nor turn into a hot loop that retries and logs
every tick. ``Backoffs`` remembers, per rollout, how many reconciles failed in a row and
when the next one may run: 1 s, 2 s, 4 s, ... up to ``MAX_BACKOFF_SECONDS``. A changed
spec (or a new manual action) is worth trying at once, so the backoff is keyed on a
fingerprint of what the person controls. The ``Reconciled`` condition says whether the
last reconcile applied (``False`` with the reason and message while it fails).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitoring.api.status import format_time

RECONCILED = "Reconciled"
"""Condition type: ``True`` when the last reconcile applied, ``False`` with the reason
(``ReconcileError``, ``InvalidSpec``, ``InvalidStatus``, ``TrafficError``) while not."""
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
MESSAGE_LIMIT = 512


def fingerprint(obj: Mapping[str, Any]) -> str:
    """What a person controls in a rollout (spec, annotations): a change retries at once."""
    meta = obj.get("metadata") or {}
    return json.dumps([obj.get("spec"), meta.get("annotations") or {}], sort_keys=True, default=str)


def describe(error: BaseException) -> str:
    """``RuntimeError: boom``, bounded: the first line of an exception's text, never a
    traceback, and for an HTTP error (the Kubernetes client's ``ApiException``) only its
    status code and reason, never the body the other side sent."""
    status, reason = getattr(error, "status", None), getattr(error, "reason", None)
    if isinstance(status, int) and isinstance(reason, str):
        text = f"{type(error).__name__}: {status} {reason}"
    else:
        lines = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {lines[0] if lines else ''}".strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


@dataclass
class _Failing:
    count: int
    retry_at: datetime
    fingerprint: str | None  # None: failed before the rollout was read; any spec waits
    message: str


class Backoffs:
    """Per rollout: failures in a row and when to try again (thread-safe)."""

    def __init__(self) -> None:
        self._failing: dict[str, _Failing] = {}
        self._lock = threading.Lock()

    def waiting(self, key: str, *, now: datetime, print_: str) -> float | None:
        """Seconds left before ``key`` may be reconciled again, ``None`` when it may now
        (never failed, the backoff is over, or the spec or annotations changed)."""
        with self._lock:
            failing = self._failing.get(key)
        if failing is None or now >= failing.retry_at:
            return None
        if failing.fingerprint is not None and failing.fingerprint != print_:
            return None
        return (failing.retry_at - now).total_seconds()

    def failed(
        self, key: str, *, now: datetime, print_: str | None, message: str
    ) -> tuple[int, bool]:
        """Record a failure; returns (failures in a row, whether this one is news: the
        first, or a different message than the last)."""
        with self._lock:
            previous = self._failing.get(key)
            count = previous.count + 1 if previous else 1
            delay = min(FIRST_BACKOFF_SECONDS * 2 ** (count - 1), MAX_BACKOFF_SECONDS)
            self._failing[key] = _Failing(count, now + timedelta(seconds=delay), print_, message)
        return count, previous is None or previous.message != message

    def succeeded(self, key: str) -> bool:
        """Forget ``key``'s failures; whether it was failing."""
        with self._lock:
            return self._failing.pop(key, None) is not None

    def delay(self, key: str) -> float:
        """The backoff now in force for ``key`` (0 when none)."""
        with self._lock:
            failing = self._failing.get(key)
        if failing is None:
            return 0.0
        return min(FIRST_BACKOFF_SECONDS * 2 ** (failing.count - 1), MAX_BACKOFF_SECONDS)


def with_condition(
    conditions: Any, *, status: str, reason: str, message: str, now: datetime
) -> list[dict[str, Any]]:
    """The raw ``status.conditions`` list with the ``Reconciled`` condition set (pure);
    ``lastTransitionTime`` moves only when its status changes."""
    existing = [dict(c) for c in conditions or () if isinstance(c, Mapping)]
    previous = next((c for c in existing if c.get("type") == RECONCILED), None)
    since = (
        previous.get("lastTransitionTime")
        if previous and previous.get("status") == status and previous.get("lastTransitionTime")
        else format_time(now)
    )
    updated = {
        "type": RECONCILED,
        "status": status,
        "reason": reason,
        "message": message[:MESSAGE_LIMIT],
        "lastTransitionTime": since,
    }
    others = [c for c in existing if c.get("type") != RECONCILED]
    return [*others, updated]


def failing_condition(conditions: Any) -> bool:
    """Whether the raw conditions hold ``Reconciled`` = ``False`` (pure)."""
    return any(
        isinstance(c, Mapping) and c.get("type") == RECONCILED and c.get("status") == "False"
        for c in conditions or ()
    )
