"""The ModelRollout spec's types: enums and frozen dataclasses (identity constants re-exported
from ``monitoring.api.constants``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from canaria.contracts.checks import BuiltinCheck
from monitoring.api.constants import ACTION_ANNOTATION, GROUP, KIND, PLURAL, VERSION
from monitoring.notify.endpoints import NotificationSpec

if TYPE_CHECKING:  # retrain.py imports bounds, which imports SpecError from here
    from monitoring.api.spec.retrain import RetrainSpec

if TYPE_CHECKING:
    from monitoring.api.spec.workload import WorkloadSpec

__all__ = [
    "ACTION_ANNOTATION",
    "DEFAULT_CUSTOM_WINDOW_SECONDS",
    "DEFAULT_FAILURE_LIMIT",
    "DEFAULT_INCONCLUSIVE_LIMIT",
    "DEFAULT_INTERVAL",
    "DEFAULT_ITERATIONS",
    "DEFAULT_MAX_WEIGHT",
    "GROUP",
    "KIND",
    "PLURAL",
    "VERSION",
    "Action",
    "Analysis",
    "Check",
    "FastAbort",
    "MatchRule",
    "MatchType",
    "MetricsProviderName",
    "MetricsProviderSpec",
    "ModelRef",
    "RolloutSpec",
    "SpecError",
    "Strategy",
    "StrategyType",
    "TargetModels",
    "ThresholdMode",
    "TrafficProviderName",
    "TrafficProviderSpec",
]

DEFAULT_INTERVAL = "1m"
DEFAULT_MAX_WEIGHT = 50
DEFAULT_ITERATIONS = 5
DEFAULT_FAILURE_LIMIT = 2
DEFAULT_INCONCLUSIVE_LIMIT = 2
DEFAULT_CUSTOM_WINDOW_SECONDS = 60.0


class SpecError(ValueError):
    """A ModelRollout spec that cannot run; ``path`` names the field (``spec.analysis.x``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StrategyType(StrEnum):
    """How the candidate gets traffic while it is analysed."""

    CANARY = "canary"  # progressive weights
    BLUE_GREEN = "blueGreen"  # mirrored (shadow) traffic only, then everything at once
    AB_TESTING = "abTesting"  # only requests matching a header or cookie


class TrafficProviderName(StrEnum):
    GATEWAY_API = "gatewayapi"
    ROUTER = "router"
    NOOP = "noop"

    @property
    def promotes_stable(self) -> bool:
        """Whether promoting through this provider makes the canary the stable by itself:
        the canaria router swaps its upstreams, noop moves nothing. An HTTPRoute only
        weighs two Services, and the stable one serves the old model until its workload
        is updated, so the promotion completes once ``spec.target.stable`` names the
        candidate (the traffic stays on the canary until then)."""
        return self is not TrafficProviderName.GATEWAY_API


class MetricsProviderName(StrEnum):
    PROMETHEUS = "prometheus"
    SCRAPE = "scrape"


class ThresholdMode(StrEnum):
    """``relative``: the threshold bounds canary ÷ stable (max 1.2 = at most 20 % worse)."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"


class MatchType(StrEnum):
    HEADER = "header"
    COOKIE = "cookie"


class Action(StrEnum):
    """A one-shot manual request (``canaria.dev/action`` annotation or the kubectl plugin)."""

    PROMOTE = "promote"  # one step: the next weight now, or the promotion after the last
    PROMOTE_FULL = "promote-full"  # skip the remaining steps: promote now
    ABORT = "abort"  # traffic back to the stable; the canary kept for inspection (retryable)
    RETRY = "retry"  # restart the analysis of an aborted, failed or rolled-back canary
    ROLLBACK = "rollback"  # traffic back to the stable; the rollout ends (RolledBack)
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True)
class ModelRef:
    """One model version: a BentoML tag (``churn-classifier:v2``) and/or an image."""

    bento_tag: str | None = None
    image: str | None = None

    def describe(self) -> str:
        """Short human name for messages: the bento tag, else the image."""
        return self.bento_tag or self.image or "<none>"

    def to_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.bento_tag is not None:
            out["bentoTag"] = self.bento_tag
        if self.image is not None:
            out["image"] = self.image
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelRef:
        return cls(bento_tag=data.get("bentoTag"), image=data.get("image"))


@dataclass(frozen=True)
class TargetModels:
    stable: ModelRef
    canary: ModelRef


@dataclass(frozen=True)
class TrafficProviderSpec:
    """Which traffic router moves the split, and its own settings.

    ``settings`` is the provider's sub-object as written in the CR (camelCase keys; the
    provider registry turns them into snake_case keyword arguments): ``httpRoute`` for
    ``gatewayapi`` (``name``, ``namespace``, ``stableBackend``, ``canaryBackend``,
    ``port``), ``router`` for ``router`` (``adminUrl`` with ``tokenEnv`` or
    ``adminTokenSecretRef: {name, key}``, or ``configMap`` and ``configMapKey``), empty
    for ``noop``.
    """

    name: TrafficProviderName
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsProviderSpec:
    """Which metrics provider measures the checks, and its own settings (camelCase keys).

    ``prometheus``: ``address``; ``scrape``: ``targets`` (``/metrics`` URLs by group, e.g.
    ``{"router": [url]}``; a group named after a variant labels its series with it).
    ``labels`` are extra label matchers added to every query (``MetricQuery.selector``).
    """

    name: MetricsProviderName = MetricsProviderName.PROMETHEUS
    settings: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchRule:
    """Route requests whose header/cookie ``name`` equals ``value`` to the candidate."""

    type: MatchType
    name: str
    value: str

    @property
    def route_key(self) -> str:
        """The key of this rule in ``Routes.match`` (``header:x-canary``)."""
        return f"{self.type.value}:{self.name}"


@dataclass(frozen=True)
class Strategy:
    type: StrategyType = StrategyType.CANARY
    match: tuple[MatchRule, ...] = ()


@dataclass(frozen=True)
class Check:
    """One analysis check: a built-in measurement or a custom PromQL ``query``.

    The value compared with ``min``/``max`` is the canary's value (``absolute``) or the
    canary's value divided by the stable's (``relative``).
    """

    name: str
    builtin: BuiltinCheck | None = None
    query: str | None = None
    min: float | None = None
    max: float | None = None
    comparison: ThresholdMode = ThresholdMode.ABSOLUTE
    window_seconds: float = DEFAULT_CUSTOM_WINDOW_SECONDS


@dataclass(frozen=True)
class FastAbort:
    """The router's per-variant breaker for the canary (``spec.analysis.fastAbort``): it
    trips when ``failures`` of the canary's last ``window_requests`` answers failed (5xx
    or none) within ``window_seconds``; the canary's share goes to the stable at once and
    the operator rolls back at its next pass. Only the ``router`` traffic provider has it."""

    failures: int = 5
    window_requests: int = 20
    window_seconds: float = 10.0

    def router_body(self) -> dict[str, Any]:
        """The router's ``breaker`` settings (its config and ``PUT /admin/routes``)."""
        return {
            "failures": self.failures,
            "window_requests": self.window_requests,
            "window_seconds": self.window_seconds,
        }


@dataclass(frozen=True)
class Analysis:
    """When and how the candidate is judged, and how far traffic moves per passing step.

    ``steps`` (canary): the weights one after another, from ``stepWeights`` or from
    ``stepWeight`` multiples capped at ``maxWeight``. ``iterations`` (blueGreen and
    abTesting): how many passing analyses before promotion.
    """

    interval_seconds: float
    checks: tuple[Check, ...]
    step_weight: int | None = None
    step_weights: tuple[int, ...] = ()
    max_weight: int = DEFAULT_MAX_WEIGHT
    iterations: int = DEFAULT_ITERATIONS
    failure_limit: int = DEFAULT_FAILURE_LIMIT
    inconclusive_limit: int = DEFAULT_INCONCLUSIVE_LIMIT
    manual_gate: bool = False
    fast_abort: FastAbort | None = None

    @property
    def steps(self) -> tuple[int, ...]:
        if self.step_weights:
            return self.step_weights
        step = self.step_weight or self.max_weight
        weights = list(range(step, self.max_weight, step))
        return (*weights, self.max_weight)


@dataclass(frozen=True)
class RolloutSpec:
    target: TargetModels
    traffic_provider: TrafficProviderSpec
    analysis: Analysis
    strategy: Strategy = field(default_factory=Strategy)
    metrics_provider: MetricsProviderSpec = field(default_factory=MetricsProviderSpec)
    paused: bool = False
    revert_on_deletion: bool = True
    """Deleting the rollout (the file, in local mode) sends all traffic back to the stable
    first, as Flagger's ``revertOnDeletion``; ``false`` leaves the routes as they are."""
    retrain: RetrainSpec | None = None
    """``spec.retrain``: when the operator starts a retraining Job (``None``: never)."""
    notifications: tuple[NotificationSpec, ...] = ()
    """``spec.notifications``: where the operator announces decisions (``monitoring.notify``)."""
    # The operator-owned Deployments (monitoring/api/spec/workload.py); None: traffic only.
    workload: WorkloadSpec | None = None

    @property
    def total_steps(self) -> int:
        """Passing analyses needed before promotion: one per canary step, else iterations."""
        if self.strategy.type is StrategyType.CANARY:
            return len(self.analysis.steps)
        return self.analysis.iterations
