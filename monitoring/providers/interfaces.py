"""The provider interfaces: how the operator reads metrics, moves traffic and Deployments,
and runs Jobs.

Kept tiny on purpose (Flagger's ``RunQuery`` / ``SetRoutes``): the analysis engine never
sees a provider, the handlers call one and hand plain numbers to the engine. The
implementations live in ``metrics/``, ``traffic/`` and ``jobs/`` and register themselves by
name in ``registry``; the ModelRollout spec picks one by that name. ``Routes`` is a shared
contract (``canaria.contracts.routes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from canaria.contracts.metrics import Variant
from canaria.contracts.routes import Routes
from monitoring.api.workload import DeploymentState

if TYPE_CHECKING:
    # Only a type here: importing the jobs package at run time would import its launchers.
    from monitoring.providers.jobs.spec import RetrainSpec


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
class RouteTarget:
    """Which route a traffic provider acts on, plus that provider's own settings."""

    namespace: str
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)


class TrafficRouter(Protocol):
    """Reads and sets the split between the stable and the canary variant."""

    def get_routes(self, target: RouteTarget) -> Routes: ...

    def set_routes(self, target: RouteTarget, routes: Routes) -> None: ...


class WorkloadProvider(Protocol):
    """Reads and moves the Deployments of ``spec.workload`` (in ``namespace``): the two
    fields the operator owns, the canary's replicas and the stable model container's image.
    Errors: ``WorkloadError`` (missing Deployment or container, API error)."""

    def read(self, namespace: str, name: str, container: str) -> DeploymentState: ...

    def scale(self, namespace: str, name: str, replicas: int) -> None: ...

    def set_image(self, namespace: str, name: str, container: str, image: str) -> None: ...


@runtime_checkable
class PromotingRouter(Protocol):
    """A traffic router that can also make the canary the new stable by itself (the canaria
    router swaps its upstreams); others leave promotion to the Deployments."""

    def promote(self, target: RouteTarget) -> None: ...


@runtime_checkable
class Primable(Protocol):
    """A metrics provider that keeps its own samples: the operator primes it (calls
    ``scrape``) at the start of an analysis period, so the first window has a start."""

    def scrape(self) -> None: ...


@runtime_checkable
class Closable(Protocol):
    """A provider holding connections or clients, released by ``close`` (idempotent)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class JobStatus:
    """What a Job launcher reports about one retraining Job.

    ``phase``: ``running``, ``succeeded``, ``failed`` or ``unknown``; ``result`` the Job's
    JSON result (``canaria retrain``'s output) when the launcher can read it, else ``None``;
    ``reason`` one line saying why it failed or is unknown (empty while running).
    """

    phase: str
    result: dict[str, Any] | None
    reason: str


class JobLauncher(Protocol):
    """Starts retraining Jobs, at most one per dedupe ``key``, and reports their phase."""

    def launch(self, spec: RetrainSpec, *, key: str, champion: str, trigger: str) -> str: ...

    def status(self, key: str) -> JobStatus: ...


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


class WorkloadError(ProviderError):
    """The workload provider could not read or move a Deployment (API error, missing
    Deployment or container)."""


class WorkloadMissingError(WorkloadError):
    """The Deployment does not exist (the API server answered 404)."""
