"""The provider contracts: how the operator reads metrics and moves traffic.

Kept tiny on purpose (Flagger's ``RunQuery`` / ``SetRoutes``): the analysis engine never
sees a provider, the handlers call one and hand plain numbers to the engine. Implementations
register themselves by name; the ModelRollout spec picks one by that name.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from canaria.contracts.metrics import Variant


@dataclass(frozen=True)
class MetricQuery:
    """One measurement the analysis needs: a check, for one variant, over a window.

    ``check`` is a built-in check name (see ``canaria.contracts.checks``) or ``"custom"``, in which
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


@runtime_checkable
class PromotingRouter(Protocol):
    """A traffic router that can also make the canary the new stable by itself (the canaria
    router swaps its upstreams); others leave promotion to the Deployments."""

    def promote(self, target: RouteTarget) -> None: ...


class ProviderError(RuntimeError):
    """A provider could not answer. The analysis counts the check inconclusive, never passed.

    "No data yet" is not an error: ``measure`` returns ``None`` for it.
    """


class MetricsUnavailableError(ProviderError):
    """The metrics source could not be reached or failed (connection, timeout, 5xx)."""


class MetricsQueryError(ProviderError):
    """The query itself is wrong: bad PromQL, unknown check or placeholder, several series."""


class TrafficRouterError(ProviderError):
    """The traffic provider could not read or apply routes (API error, missing backend)."""


ProviderT = TypeVar("ProviderT")


class Registry(dict[str, Callable[..., ProviderT]]):
    """Provider factories by name; ``create`` names the known ones when asked for another.

    The built-in implementations live in ``package`` and register themselves when it is
    imported; ``create`` imports it on first use, so this module (which the pure engine
    imports for ``Routes``) pulls in no client library itself.
    """

    def __init__(self, kind: str, package: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.package = package

    def register(self, name: str) -> Callable[[Callable[..., ProviderT]], Callable[..., ProviderT]]:
        def decorator(factory: Callable[..., ProviderT]) -> Callable[..., ProviderT]:
            self[name] = factory
            return factory

        return decorator

    def create(self, name: str, **settings: Any) -> ProviderT:
        """Build provider ``name``; camelCase keys as written in a CR (``tokenEnv``) are
        passed as the snake_case keyword arguments the factories take (``token_env``)."""
        if name not in self and self.package:
            importlib.import_module(self.package)
        try:
            factory = self[name]
        except KeyError:
            known = ", ".join(sorted(self)) or "none"
            raise ValueError(f"unknown {self.kind} provider {name!r} (known: {known})") from None
        return factory(**snake_case_keys(settings))


def snake_case_keys(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``{"adminUrl": u}`` -> ``{"admin_url": u}`` (pure; top-level keys only)."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in settings.items()}


metrics_providers: Registry[MetricsProvider] = Registry(
    "metrics", package="monitoring.providers.metrics"
)
traffic_routers: Registry[TrafficRouter] = Registry(
    "traffic", package="monitoring.providers.traffic"
)
