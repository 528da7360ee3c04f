"""``spec.analysis.fastAbort`` and ``spec.notifications``: parsed and bounded (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.api.spec import bounds
from monitoring.api.spec.fields import field_value, int_in_range
from monitoring.api.spec.model import FastAbort, SpecError
from monitoring.notify.endpoints import (
    NotificationSpec,
    NotificationSpecError,
    parse_notifications,
)

_FAST_ABORT_FIELDS = ("failures", "windowRequests", "windowSeconds")


def parse_fast_abort(raw: Any, parent: str = "spec.analysis") -> FastAbort | None:
    """``fastAbort: {failures, windowRequests, windowSeconds}`` (each optional, the router's
    defaults 5, 20, 10 s), or ``None`` when absent. ``SpecError`` names the bad field:
    out of ``bounds.FAST_ABORT_*``, unknown, or ``failures`` > ``windowRequests`` (a breaker
    that could never trip)."""
    if raw is None:
        return None
    path = f"{parent}.fastAbort"
    data = bounds.mapping(raw, path, len(_FAST_ABORT_FIELDS))
    unknown = sorted(set(data) - set(_FAST_ABORT_FIELDS))
    if unknown:
        known = ", ".join(_FAST_ABORT_FIELDS)
        raise SpecError(f"{path}.{unknown[0]}", f"unknown field (known: {known})")
    default = FastAbort()
    failures = int_in_range(data, "failures", path, *bounds.FAST_ABORT_FAILURES, default.failures)
    window = int_in_range(
        data, "windowRequests", path, *bounds.FAST_ABORT_WINDOW_REQUESTS, default.window_requests
    )
    seconds = field_value(data, "windowSeconds", path, float, default=default.window_seconds)
    bounds.in_range(seconds, bounds.FAST_ABORT_WINDOW_SECONDS, f"{path}.windowSeconds", "s")
    if failures > window:
        raise SpecError(f"{path}.failures", f"{failures} > windowRequests ({window}): never trips")
    return FastAbort(failures=failures, window_requests=window, window_seconds=seconds)


def parse_notification_entries(raw: Any) -> tuple[NotificationSpec, ...]:
    """``spec.notifications`` (``monitoring.notify.endpoints.parse_notifications``), its
    error turned into a ``SpecError`` with the field's path. The path is cut at the last
    ``": "``: an unknown key may hold one (no reason does)."""
    try:
        return tuple(parse_notifications(raw))
    except NotificationSpecError as error:
        path, _, reason = str(error).rpartition(": ")
        raise SpecError(path, reason) from None


def check_fast_abort_provider(data: Mapping[str, Any], provider: str) -> None:
    """fastAbort needs the canaria router (the breaker lives there): refused otherwise, so
    that it is never silently ignored."""
    if data.get("fastAbort") is not None and provider != "router":
        raise SpecError("spec.analysis.fastAbort", f"needs trafficProvider router, not {provider}")
