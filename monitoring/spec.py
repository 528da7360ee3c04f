"""The ModelRollout spec as typed dataclasses, parsed and validated from the CR's dict.

``parse_spec(obj["spec"])`` turns the camelCase dict Kubernetes stores into a frozen
``RolloutSpec`` or raises ``SpecError`` naming the offending field with its full path
(``spec.analysis.checks[1].max: ...``), so a handler can refuse a bad spec with a clear
message and keep running the last good one. The CRD's openAPIV3Schema
(``k8s/crds/modelrollout.yaml``) rejects most of the same mistakes at ``kubectl apply``;
this module also checks what a schema cannot (duplicate check names, increasing steps).

The status dataclasses live in ``monitoring.status``; the engine in ``monitoring.analysis``.

Manual control by plain kubectl (the kubectl plugin does the same):

* ``spec.paused: true`` pauses the rollout (traffic frozen) until set back to ``false``;
* the annotation ``canaria.dev/action`` with a value of ``Action`` (``promote``,
  ``rollback``, ``pause``, ``resume``) is a one-shot request: the operator hands it to the
  engine at the next reconcile and then removes the annotation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from monitoring.checks import BUILTIN_CHECKS, BuiltinCheck

GROUP = "canaria.dev"
VERSION = "v1alpha1"
KIND = "ModelRollout"
PLURAL = "modelrollouts"
ACTION_ANNOTATION = "canaria.dev/action"
"""Annotation a person sets (``kubectl annotate mr churn canaria.dev/action=rollback``)."""

DEFAULT_INTERVAL = "1m"
DEFAULT_MAX_WEIGHT = 50
DEFAULT_ITERATIONS = 5
DEFAULT_FAILURE_LIMIT = 2
DEFAULT_INCONCLUSIVE_LIMIT = 2
DEFAULT_CUSTOM_WINDOW_SECONDS = 60.0

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
"""Go-style durations: ``30s``, ``1m``, ``1m30s``, ``500ms``, ``1.5s``."""
_DURATION_RE = re.compile(DURATION_PATTERN)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
CHECK_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_CHECK_NAME_RE = re.compile(CHECK_NAME_PATTERN)


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


class MetricsProviderName(StrEnum):
    PROMETHEUS = "prometheus"
    SCRAPE = "scrape"


class Comparison(StrEnum):
    """``relative``: the threshold bounds canary ÷ stable (max 1.2 = at most 20 % worse)."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"


class MatchType(StrEnum):
    HEADER = "header"
    COOKIE = "cookie"


class Action(StrEnum):
    """A one-shot manual request (``canaria.dev/action`` annotation or the kubectl plugin)."""

    PROMOTE = "promote"
    ROLLBACK = "rollback"
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
class Target:
    stable: ModelRef
    canary: ModelRef


@dataclass(frozen=True)
class TrafficProviderSpec:
    """Which traffic router moves the split, and its own settings.

    ``settings`` is the provider's sub-object as written in the CR (camelCase keys):
    ``httpRoute`` for ``gatewayapi`` (``name``, ``namespace``, ``stableBackend``,
    ``canaryBackend``), ``router`` for ``router`` (``adminUrl``, ``adminTokenSecretRef``,
    ``configMap``), empty for ``noop``.
    """

    name: TrafficProviderName
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsProviderSpec:
    """Which metrics provider measures the checks, and its own settings (camelCase keys).

    ``prometheus``: ``address``; ``scrape``: ``targets`` (``stable``/``canary`` URL lists).
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
    comparison: Comparison = Comparison.ABSOLUTE
    window_seconds: float = DEFAULT_CUSTOM_WINDOW_SECONDS


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

    @property
    def steps(self) -> tuple[int, ...]:
        if self.step_weights:
            return self.step_weights
        step = self.step_weight or self.max_weight
        weights = list(range(step, self.max_weight, step))
        return (*weights, self.max_weight)


@dataclass(frozen=True)
class RolloutSpec:
    target: Target
    traffic_provider: TrafficProviderSpec
    analysis: Analysis
    strategy: Strategy = field(default_factory=Strategy)
    metrics_provider: MetricsProviderSpec = field(default_factory=MetricsProviderSpec)
    paused: bool = False

    @property
    def total_steps(self) -> int:
        """Passing analyses needed before promotion: one per canary step, else iterations."""
        if self.strategy.type is StrategyType.CANARY:
            return len(self.analysis.steps)
        return self.analysis.iterations


def parse_duration(text: str, *, path: str = "duration") -> float:
    """``"1m30s"`` -> 90.0 seconds; ``SpecError`` naming ``path`` when malformed or zero."""
    if not isinstance(text, str) or not _DURATION_RE.match(text):
        raise SpecError(path, f"must be a duration like 30s, 1m or 500ms, got {text!r}")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise SpecError(path, f"must be longer than 0, got {text!r}")
    return seconds


def parse_spec(spec: Mapping[str, Any]) -> RolloutSpec:
    """Validate a ModelRollout ``spec`` dict and return it typed (pure).

    Raises ``SpecError`` (a ``ValueError``) whose ``path`` names the first bad field.
    """
    if not isinstance(spec, Mapping):
        raise SpecError("spec", "must be an object")
    analysis_raw = _obj(spec, "analysis", "spec", required=True)
    strategy = _parse_strategy(_obj(spec, "strategy", "spec"))
    return RolloutSpec(
        target=_parse_target(_obj(spec, "target", "spec", required=True)),
        traffic_provider=_parse_traffic(_obj(spec, "trafficProvider", "spec", required=True)),
        metrics_provider=_parse_metrics(_obj(spec, "metricsProvider", "spec")),
        strategy=strategy,
        analysis=_parse_analysis(analysis_raw, strategy=strategy.type),
        paused=_get(spec, "paused", "spec", bool, default=False),
    )


T = TypeVar("T")


def _get(data: Mapping[str, Any], key: str, parent: str, kind: type[T], *, default: Any) -> T:
    path = f"{parent}.{key}"
    if key not in data or data[key] is None:
        if default is _REQUIRED:
            raise SpecError(path, "is required")
        return default
    value = data[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise SpecError(path, f"must be {_KIND_NAMES.get(kind, kind.__name__)}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(path, f"must be a finite number, got {value!r}")
    return value


_REQUIRED: Any = object()
_KIND_NAMES = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}


def _obj(data: Mapping[str, Any], key: str, parent: str, *, required: bool = False) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            raise SpecError(f"{parent}.{key}", "is required")
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{parent}.{key}", f"must be an object, got {value!r}")
    return value


def _enum(data: Mapping[str, Any], key: str, parent: str, enum: type[Any], default: Any) -> Any:
    raw = _get(data, key, parent, str, default=default if default is _REQUIRED else None)
    if raw is None:
        return default
    try:
        return enum(raw)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise SpecError(f"{parent}.{key}", f"must be one of {known}, got {raw!r}") from None


def _int_range(
    data: Mapping[str, Any], key: str, parent: str, lo: int, hi: int, default: Any
) -> Any:
    value = _get(data, key, parent, int, default=default)
    if value is not None and not lo <= value <= hi:
        raise SpecError(f"{parent}.{key}", f"must be between {lo} and {hi}, got {value}")
    return value


def _parse_model_ref(data: Mapping[str, Any], path: str) -> ModelRef:
    ref = ModelRef(
        bento_tag=_get(data, "bentoTag", path, str, default=None),
        image=_get(data, "image", path, str, default=None),
    )
    if not ref.bento_tag and not ref.image:
        raise SpecError(path, "needs a bentoTag or an image")
    return ref


def _parse_target(data: Mapping[str, Any]) -> Target:
    return Target(
        stable=_parse_model_ref(
            _obj(data, "stable", "spec.target", required=True), "spec.target.stable"
        ),
        canary=_parse_model_ref(
            _obj(data, "canary", "spec.target", required=True), "spec.target.canary"
        ),
    )


_TRAFFIC_SETTINGS_KEY = {
    TrafficProviderName.GATEWAY_API: "httpRoute",
    TrafficProviderName.ROUTER: "router",
}


def _parse_traffic(data: Mapping[str, Any]) -> TrafficProviderSpec:
    parent = "spec.trafficProvider"
    name = _enum(data, "name", parent, TrafficProviderName, _REQUIRED)
    key = _TRAFFIC_SETTINGS_KEY.get(name)
    if key is None:
        return TrafficProviderSpec(name=name)
    settings = _obj(data, key, parent, required=True)
    if name is TrafficProviderName.GATEWAY_API:
        _get(settings, "name", f"{parent}.{key}", str, default=_REQUIRED)
    elif not settings.get("adminUrl") and not settings.get("configMap"):
        raise SpecError(f"{parent}.{key}", "needs an adminUrl or a configMap")
    return TrafficProviderSpec(name=name, settings=dict(settings))


def _parse_metrics(data: Mapping[str, Any]) -> MetricsProviderSpec:
    parent = "spec.metricsProvider"
    name = _enum(data, "name", parent, MetricsProviderName, MetricsProviderName.PROMETHEUS)
    labels = _obj(data, "labels", parent)
    for label, value in labels.items():
        if not isinstance(value, str):
            raise SpecError(f"{parent}.labels.{label}", f"must be a string, got {value!r}")
    settings = {k: v for k, v in data.items() if k not in ("name", "labels")}
    return MetricsProviderSpec(name=name, settings=settings, labels=dict(labels))


def _parse_strategy(data: Mapping[str, Any]) -> Strategy:
    parent = "spec.strategy"
    kind = _enum(data, "type", parent, StrategyType, StrategyType.CANARY)
    raw_rules = data.get("match") or []
    if not isinstance(raw_rules, Sequence) or isinstance(raw_rules, str):
        raise SpecError(f"{parent}.match", f"must be a list, got {raw_rules!r}")
    rules = []
    for i, raw in enumerate(raw_rules):
        path = f"{parent}.match[{i}]"
        if not isinstance(raw, Mapping):
            raise SpecError(path, f"must be an object, got {raw!r}")
        rules.append(
            MatchRule(
                type=_enum(raw, "type", path, MatchType, _REQUIRED),
                name=_non_empty(raw, "name", path),
                value=_get(raw, "value", path, str, default=_REQUIRED),
            )
        )
    if kind is StrategyType.AB_TESTING and not rules:
        raise SpecError(f"{parent}.match", "abTesting needs at least one header or cookie rule")
    if kind is not StrategyType.AB_TESTING and rules:
        raise SpecError(f"{parent}.match", f"only applies to abTesting, not {kind.value}")
    return Strategy(type=kind, match=tuple(rules))


def _non_empty(data: Mapping[str, Any], key: str, parent: str) -> str:
    value = _get(data, key, parent, str, default=_REQUIRED)
    if not value.strip():
        raise SpecError(f"{parent}.{key}", "must not be empty")
    return value


def _parse_analysis(data: Mapping[str, Any], *, strategy: StrategyType) -> Analysis:
    parent = "spec.analysis"
    interval_text = _get(data, "interval", parent, str, default=DEFAULT_INTERVAL)
    step_weight = _int_range(data, "stepWeight", parent, 1, 100, None)
    step_weights = _parse_step_weights(data.get("stepWeights"), f"{parent}.stepWeights")
    if step_weight is not None and step_weights:
        raise SpecError(f"{parent}.stepWeights", "give stepWeight or stepWeights, not both")
    default_max = step_weights[-1] if step_weights else DEFAULT_MAX_WEIGHT
    max_weight = _int_range(data, "maxWeight", parent, 1, 100, default_max)
    if strategy is StrategyType.CANARY:
        if step_weight is None and not step_weights:
            raise SpecError(f"{parent}.stepWeight", "canary needs stepWeight or stepWeights")
        if step_weight is not None and step_weight > max_weight:
            raise SpecError(f"{parent}.stepWeight", f"{step_weight} > maxWeight ({max_weight})")
        for i, weight in enumerate(step_weights):
            if weight > max_weight:
                raise SpecError(
                    f"{parent}.stepWeights[{i}]", f"{weight} > maxWeight ({max_weight})"
                )
    return Analysis(
        interval_seconds=parse_duration(interval_text, path=f"{parent}.interval"),
        checks=_parse_checks(data.get("checks"), f"{parent}.checks"),
        step_weight=step_weight,
        step_weights=step_weights,
        max_weight=max_weight,
        iterations=_int_range(data, "iterations", parent, 1, 1000, DEFAULT_ITERATIONS),
        failure_limit=_int_range(data, "failureLimit", parent, 0, 100, DEFAULT_FAILURE_LIMIT),
        inconclusive_limit=_int_range(
            data, "inconclusiveLimit", parent, 0, 100, DEFAULT_INCONCLUSIVE_LIMIT
        ),
        manual_gate=_get(data, "manualGate", parent, bool, default=False),
    )


def _parse_step_weights(raw: Any, path: str) -> tuple[int, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise SpecError(path, f"must be a non-empty list of weights, got {raw!r}")
    weights: list[int] = []
    for i, value in enumerate(raw):
        weight = value
        if isinstance(weight, float) and weight.is_integer():
            weight = int(weight)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
            raise SpecError(f"{path}[{i}]", f"must be an integer between 1 and 100, got {value!r}")
        if weights and weight <= weights[-1]:
            raise SpecError(f"{path}[{i}]", f"must be greater than the previous step {weights[-1]}")
        weights.append(weight)
    return tuple(weights)


def _parse_checks(raw: Any, path: str) -> tuple[Check, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise SpecError(path, "needs at least one check")
    checks: list[Check] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        check = _parse_check(item, f"{path}[{i}]")
        if check.name in seen:
            raise SpecError(f"{path}[{i}].name", f"duplicate check name {check.name!r}")
        seen.add(check.name)
        checks.append(check)
    return tuple(checks)


def _parse_check(data: Any, path: str) -> Check:
    if not isinstance(data, Mapping):
        raise SpecError(path, f"must be an object, got {data!r}")
    name = _get(data, "name", path, str, default=_REQUIRED)
    if not _CHECK_NAME_RE.match(name) or len(name) > 63:
        raise SpecError(f"{path}.name", f"must be lower-case letters, digits and '-', got {name!r}")
    builtin = _enum(data, "builtin", path, BuiltinCheck, None)
    query = _get(data, "query", path, str, default=None)
    if (builtin is None) == (query is None):
        raise SpecError(path, "needs exactly one of builtin or query")
    if query is not None and not query.strip():
        raise SpecError(f"{path}.query", "must not be empty")
    low = _get(data, "min", path, float, default=None)
    high = _get(data, "max", path, float, default=None)
    if low is None and high is None:
        raise SpecError(path, "needs a min or a max threshold")
    if low is not None and high is not None and low > high:
        raise SpecError(f"{path}.max", f"{high} < min ({low})")
    default_window = (
        BUILTIN_CHECKS[builtin].default_window_seconds if builtin else DEFAULT_CUSTOM_WINDOW_SECONDS
    )
    window = _get(data, "window", path, str, default=None)
    return Check(
        name=name,
        builtin=builtin,
        query=query,
        min=low,
        max=high,
        comparison=_enum(data, "comparison", path, Comparison, Comparison.ABSOLUTE),
        window_seconds=(
            parse_duration(window, path=f"{path}.window") if window else default_window
        ),
    )
