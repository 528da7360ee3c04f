"""Fast abort in the operator: send ``spec.analysis.fastAbort`` to the router as its
canary ``breaker``, read every replica's breaker each pass, and hand an open one to the
engine as evidence (``monitoring.analysis.fast_abort``), which rolls back at once.

The breaker settings travel in the route target's settings (``breaker``), so every
``set_routes`` of the canaria router provider carries them; a replica that lost them (a
restarted router serves its file's breaker, or none) gets them again here, with the routes
the status wants. Only the canaria router has a breaker: other providers are never asked.
A replica that cannot be read is skipped (the traffic pass reports an unreachable router).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from canaria.contracts.logs import get_logger
from canaria.contracts.routes import Routes
from monitoring.analysis import BreakerTrip
from monitoring.analysis.fast_abort import LIVE_CANARY
from monitoring.api.spec import RolloutSpec, TrafficProviderName
from monitoring.api.status import RolloutStatus
from monitoring.operator.traffic import label
from monitoring.providers.interfaces import ProviderError, RouteTarget, TrafficRouter

_log = get_logger("operator.fast_abort")
BREAKER = "breaker"
_SETTINGS = ("failures", "window_requests", "window_seconds")


@runtime_checkable
class BreakerRouter(Protocol):
    """A traffic router with a canary breaker (the canaria router)."""

    def breaker_state(self, target: RouteTarget) -> Mapping[str, Any] | None:
        """The canary breaker's state (``{}``: none); ``None`` when it cannot be read."""


def breaker_settings(spec: RolloutSpec) -> dict[str, Any]:
    """The route target settings that carry the breaker (pure): ``{"breaker": {...}}``
    for a router rollout with ``fastAbort``, else ``{}``."""
    fast_abort = spec.analysis.fast_abort
    if fast_abort is None or spec.traffic_provider.name is not TrafficProviderName.ROUTER:
        return {}
    return {BREAKER: fast_abort.router_body()}


def trip_of(target: RouteTarget, state: Mapping[str, Any] | None) -> BreakerTrip | None:
    """The trip an open breaker state shows (pure), ``None`` when closed or absent."""
    if not state or state.get("open") is not True:
        return None
    return BreakerTrip(
        replica=label(target),
        tripped_at=str(state.get("tripped_at") or "unknown time"),
        reason=str(state.get("reason") or "no reason given"),
    )


def differs(state: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a replica's breaker settings (``{}``: none) differ from ``wanted`` (pure)."""
    return any(_number(state.get(key)) != _number(wanted.get(key)) for key in _SETTINGS)


def read_trip(
    router: TrafficRouter,
    resolve: Callable[[], Sequence[RouteTarget]],
    *,
    spec: RolloutSpec,
    status: RolloutStatus,
    routes: Routes,
) -> BreakerTrip | None:
    """The first open breaker among the replicas (``resolve()``, one target each) while the
    canary can have traffic, else ``None``. A closed replica whose breaker settings differ
    from the spec's gets ``routes`` (the status's) again with them. Never raises: what
    cannot be read is skipped and logged (the traffic pass reports an unreachable router)."""
    if status.phase not in LIVE_CANARY or not isinstance(router, BreakerRouter):
        return None
    try:
        targets = resolve()
    except ProviderError as error:
        _log.warning("breakers unreadable", extra={"error": str(error)})
        return None
    wanted = breaker_settings(spec).get(BREAKER)
    found: BreakerTrip | None = None
    for target in targets:
        try:
            state = router.breaker_state(target)
            if state is None:
                continue  # a router without a live state to read (a ConfigMap)
            trip = trip_of(target, state)
            if trip is None and wanted is not None and differs(state, wanted):
                router.set_routes(target, routes)  # carries the breaker settings
        except ProviderError as error:
            where = {"replica": label(target), "error": str(error)}
            _log.warning("breaker unreadable", extra=where)
            continue
        found = found or trip
    return found


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
