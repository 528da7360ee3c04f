"""The provider contracts: how the operator reads metrics and moves traffic.

Kept tiny on purpose (Flagger's ``RunQuery`` / ``SetRoutes``): the analysis engine never
sees a provider, the handlers call one and hand plain numbers to the engine. Implementations
register themselves by name; the ModelRollout spec picks one by that name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from canaria.metrics_catalog import Variant


@dataclass(frozen=True)
class MetricQuery:
    """One measurement the analysis needs: a check, for one variant, over a window.

    ``check`` is a built-in check name (see ``monitoring.checks``) or ``"custom"``, in which
    case ``promql`` holds the user's query. ``selector`` adds label matchers that scope the
    query to one rollout (e.g. ``{"namespace": "ml", "service": "churn-canary"}``).
    """

    check: str
    variant: Variant
    window_seconds: float
    promql: str | None = None
    selector: Mapping[str, str] = field(default_factory=dict)


class MetricsProvider(Protocol):
    """Answers a metric query with a number, or ``None`` when there is no data yet."""

    def measure(self, query: MetricQuery) -> float | None: ...


@dataclass(frozen=True)
class Routes:
    """The traffic state the operator wants: what share goes where.

    ``canary_weight`` is 0-100 and the stable variant gets the rest. ``mirror`` sends a copy
    of stable traffic to the candidate (blue-green analysis). ``match`` restricts the
    candidate to requests whose headers (``header:NAME``) or cookies (``cookie:NAME``)
    equal the given value (A/B testing); weights still apply to the rest.
    """

    canary_weight: int
    mirror: bool = False
    match: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteTarget:
    """Which route a traffic provider acts on, plus that provider's own settings."""

    namespace: str
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)


class TrafficRouter(Protocol):
    """Reads and sets the split between the stable and the canary variant."""

    def get_routes(self, target: RouteTarget) -> Routes: ...

    def set_routes(self, target: RouteTarget, routes: Routes) -> None: ...


ProviderT = TypeVar("ProviderT")


class Registry(dict[str, Callable[..., ProviderT]]):
    """Provider factories by name; ``create`` names the known ones when asked for another."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[Callable[..., ProviderT]], Callable[..., ProviderT]]:
        def decorator(factory: Callable[..., ProviderT]) -> Callable[..., ProviderT]:
            self[name] = factory
            return factory

        return decorator

    def create(self, name: str, **settings: Any) -> ProviderT:
        try:
            factory = self[name]
        except KeyError:
            known = ", ".join(sorted(self)) or "none"
            raise ValueError(f"unknown {self.kind} provider {name!r} (known: {known})") from None
        return factory(**settings)


metrics_providers: Registry[MetricsProvider] = Registry("metrics")
traffic_routers: Registry[TrafficRouter] = Registry("traffic")
