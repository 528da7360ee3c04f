"""``parse_spec``: a ModelRollout ``spec`` dict in, a typed ``RolloutSpec`` out (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from canaria.contracts.checks import BUILTIN_CHECKS, BuiltinCheck
from monitoring.api.spec import bounds
from monitoring.api.spec.extras import (
    check_fast_abort_provider,
    parse_fast_abort,
    parse_notification_entries,
)
from monitoring.api.spec.fields import (
    CHECK_NAME_RE,
    REQUIRED,
    enum_value,
    field_value,
    int_in_range,
    non_empty,
    parse_duration,
    sub_object,
)
from monitoring.api.spec.known_fields import check_known_fields
from monitoring.api.spec.model import (
    DEFAULT_CUSTOM_WINDOW_SECONDS,
    DEFAULT_FAILURE_LIMIT,
    DEFAULT_INCONCLUSIVE_LIMIT,
    DEFAULT_INTERVAL,
    DEFAULT_ITERATIONS,
    DEFAULT_MAX_WEIGHT,
    Analysis,
    Check,
    MatchRule,
    MatchType,
    MetricsProviderName,
    MetricsProviderSpec,
    ModelRef,
    RolloutSpec,
    SpecError,
    Strategy,
    StrategyType,
    TargetModels,
    ThresholdMode,
    TrafficProviderName,
    TrafficProviderSpec,
)
from monitoring.api.spec.retrain import RetrainSpec, RetrainSpecError, parse_retrain
from monitoring.api.spec.workload import parse_workload


def parse_spec(spec: Mapping[str, Any]) -> RolloutSpec:
    """Validate a ModelRollout ``spec`` dict and return it typed (pure).

    Raises ``SpecError`` (a ``ValueError``) whose ``path`` names the first bad field.
    """
    if not isinstance(spec, Mapping):
        raise SpecError("spec", "must be an object")
    check_known_fields(spec)
    analysis_raw = sub_object(spec, "analysis", "spec", required=True)
    strategy = _parse_strategy(sub_object(spec, "strategy", "spec"))
    target = _parse_target(sub_object(spec, "target", "spec", required=True))
    traffic = _parse_traffic(sub_object(spec, "trafficProvider", "spec", required=True))
    check_fast_abort_provider(analysis_raw, traffic.name.value)
    return RolloutSpec(
        target=target,
        traffic_provider=traffic,
        metrics_provider=_parse_metrics(sub_object(spec, "metricsProvider", "spec")),
        strategy=strategy,
        analysis=_parse_analysis(analysis_raw, strategy=strategy.type),
        paused=field_value(spec, "paused", "spec", bool, default=False),
        revert_on_deletion=field_value(spec, "revertOnDeletion", "spec", bool, default=True),
        retrain=_parse_retrain(spec),
        notifications=parse_notification_entries(spec.get("notifications")),
        workload=parse_workload(spec),
    )


def _parse_retrain(spec: Mapping[str, Any]) -> RetrainSpec | None:
    """``spec.retrain`` (``monitoring.api.spec.retrain``), or ``None`` when absent."""
    if spec.get("retrain") is None:
        return None
    try:
        return parse_retrain(spec["retrain"])
    except RetrainSpecError as error:  # its message names the field inside the section
        raise SpecError("spec.retrain", str(error)) from error


def _parse_model_ref(data: Mapping[str, Any], path: str) -> ModelRef:
    ref = ModelRef(
        bento_tag=field_value(data, "bentoTag", path, str, default=None),
        image=field_value(data, "image", path, str, default=None),
    )
    for key, value in (("bentoTag", ref.bento_tag), ("image", ref.image)):
        if value is not None:
            bounds.text(value, f"{path}.{key}")
    if not ref.bento_tag and not ref.image:
        raise SpecError(path, "needs a bentoTag or an image")
    return ref


def _parse_target(data: Mapping[str, Any]) -> TargetModels:
    return TargetModels(
        stable=_parse_model_ref(
            sub_object(data, "stable", "spec.target", required=True), "spec.target.stable"
        ),
        canary=_parse_model_ref(
            sub_object(data, "canary", "spec.target", required=True), "spec.target.canary"
        ),
    )


_TRAFFIC_SETTINGS_KEY = {
    TrafficProviderName.GATEWAY_API: "httpRoute",
    TrafficProviderName.ROUTER: "router",
}


def _parse_traffic(data: Mapping[str, Any]) -> TrafficProviderSpec:
    parent = "spec.trafficProvider"
    name = enum_value(data, "name", parent, TrafficProviderName, REQUIRED)
    key = _TRAFFIC_SETTINGS_KEY.get(name)
    if key is None:
        return TrafficProviderSpec(name=name)
    settings = sub_object(data, key, parent, required=True)
    if name is TrafficProviderName.GATEWAY_API:
        field_value(settings, "name", f"{parent}.{key}", str, default=REQUIRED)
    elif not any(settings.get(k) for k in ("adminUrl", "adminUrls", "configMap", "service")):
        raise SpecError(f"{parent}.{key}", "needs a service, an adminUrl or a configMap")
    _check_traffic_settings(settings, f"{parent}.{key}")
    return TrafficProviderSpec(name=name, settings=dict(settings))


_NAME_FIELDS = (
    "name",
    "namespace",
    "stableBackend",
    "canaryBackend",
    "tokenEnv",
    "configMap",
    "configMapKey",
    "service",
)


def _check_traffic_settings(settings: Mapping[str, Any], parent: str) -> None:
    """Types and bounds of the provider's own fields (the provider reads them later)."""
    for key in _NAME_FIELDS:
        if settings.get(key) is not None:
            limit = bounds.NAME_LIMITS.get(key, bounds.MAX_NAME_LENGTH)
            bounds.text(settings[key], f"{parent}.{key}", limit=limit)
    if settings.get("port") is not None:
        int_in_range(settings, "port", parent, 1, 65535, None)
    if settings.get("adminUrl") is not None:
        bounds.url(settings["adminUrl"], f"{parent}.adminUrl")
    urls = settings.get("adminUrls")
    if urls is not None:
        for i, item in enumerate(bounds.listed(urls, f"{parent}.adminUrls", 16)):
            bounds.url(item, f"{parent}.adminUrls[{i}]")
    ref = settings.get("adminTokenSecretRef")
    if ref is not None:
        ref = bounds.mapping(ref, f"{parent}.adminTokenSecretRef", 2)
        field_value(ref, "name", f"{parent}.adminTokenSecretRef", str, default=REQUIRED)
        for part in ("name", "key"):
            if ref.get(part) is not None:
                where = f"{parent}.adminTokenSecretRef.{part}"
                bounds.text(ref[part], where, limit=bounds.MAX_NAME_LENGTH)


def _parse_metrics(data: Mapping[str, Any]) -> MetricsProviderSpec:
    parent = "spec.metricsProvider"
    name = enum_value(data, "name", parent, MetricsProviderName, MetricsProviderName.PROMETHEUS)
    labels = sub_object(data, "labels", parent)
    for label, value in labels.items():
        if not isinstance(value, str):
            raise SpecError(f"{parent}.labels.{label}", f"must be a string, got {value!r}")
    bounds.check_labels(labels, f"{parent}.labels")
    unknown = sorted(set(data) - {"name", "labels", *_METRICS_SETTINGS})
    if unknown:
        known = ", ".join(sorted({"name", "labels", *_METRICS_SETTINGS}))
        raise SpecError(f"{parent}.{unknown[0]}", f"unknown field (known: {known})")
    settings = {k: v for k, v in data.items() if k in _METRICS_SETTINGS and v is not None}
    bounds.check_metrics_settings(name.value, settings, parent)
    return MetricsProviderSpec(name=name, settings=settings, labels=dict(labels))


_METRICS_SETTINGS = ("address", "targets")


def _parse_strategy(data: Mapping[str, Any]) -> Strategy:
    parent = "spec.strategy"
    kind = enum_value(data, "type", parent, StrategyType, StrategyType.CANARY)
    raw_rules = bounds.listed(data.get("match") or [], f"{parent}.match", bounds.MAX_MATCH_RULES)
    rules = []
    for i, raw in enumerate(raw_rules):
        path = f"{parent}.match[{i}]"
        if not isinstance(raw, Mapping):
            raise SpecError(path, f"must be an object, got {raw!r}")
        rule = MatchRule(
            type=enum_value(raw, "type", path, MatchType, REQUIRED),
            name=non_empty(raw, "name", path),
            value=field_value(raw, "value", path, str, default=REQUIRED),
        )
        if not bounds.TOKEN_RE.match(rule.name) or len(rule.name) > bounds.MAX_NAME_LENGTH:
            raise SpecError(f"{path}.name", f"must be a header or cookie name, got {rule.name!r}")
        bounds.text(rule.value, f"{path}.value")
        rules.append(rule)
    if kind is StrategyType.AB_TESTING and not rules:
        raise SpecError(f"{parent}.match", "abTesting needs at least one header or cookie rule")
    if kind is not StrategyType.AB_TESTING and rules:
        raise SpecError(f"{parent}.match", f"only applies to abTesting, not {kind.value}")
    return Strategy(type=kind, match=tuple(rules))


def _parse_analysis(data: Mapping[str, Any], *, strategy: StrategyType) -> Analysis:
    parent = "spec.analysis"
    interval_text = field_value(data, "interval", parent, str, default=DEFAULT_INTERVAL)
    step_weight = int_in_range(data, "stepWeight", parent, 1, 100, None)
    step_weights = _parse_step_weights(data.get("stepWeights"), f"{parent}.stepWeights")
    if step_weight is not None and step_weights:
        raise SpecError(f"{parent}.stepWeights", "give stepWeight or stepWeights, not both")
    default_max = step_weights[-1] if step_weights else DEFAULT_MAX_WEIGHT
    max_weight = int_in_range(data, "maxWeight", parent, 1, 100, default_max)
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
        interval_seconds=parse_duration(
            interval_text, path=f"{parent}.interval", bounds=bounds.INTERVAL_SECONDS
        ),
        checks=_parse_checks(data.get("checks"), f"{parent}.checks"),
        step_weight=step_weight,
        step_weights=step_weights,
        max_weight=max_weight,
        iterations=int_in_range(data, "iterations", parent, 1, 1000, DEFAULT_ITERATIONS),
        failure_limit=int_in_range(data, "failureLimit", parent, 0, 100, DEFAULT_FAILURE_LIMIT),
        inconclusive_limit=int_in_range(
            data, "inconclusiveLimit", parent, 0, 100, DEFAULT_INCONCLUSIVE_LIMIT
        ),
        manual_gate=field_value(data, "manualGate", parent, bool, default=False),
        fast_abort=parse_fast_abort(data.get("fastAbort"), parent),
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
    bounds.listed(raw, path, bounds.MAX_CHECKS)
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
    name = field_value(data, "name", path, str, default=REQUIRED)
    if not CHECK_NAME_RE.match(name) or len(name) > 63:
        raise SpecError(f"{path}.name", f"must be lower-case letters, digits and '-', got {name!r}")
    builtin = enum_value(data, "builtin", path, BuiltinCheck, None)
    query = field_value(data, "query", path, str, default=None)
    if (builtin is None) == (query is None):
        raise SpecError(path, "needs exactly one of builtin or query")
    if query is not None:
        bounds.text(query, f"{path}.query", limit=bounds.MAX_QUERY_LENGTH)
    low = bounds.threshold(field_value(data, "min", path, float, default=None), f"{path}.min")
    high = bounds.threshold(field_value(data, "max", path, float, default=None), f"{path}.max")
    if low is None and high is None:
        raise SpecError(path, "needs a min or a max threshold")
    if low is not None and high is not None and low > high:
        raise SpecError(f"{path}.max", f"{high} < min ({low})")
    default_window = (
        BUILTIN_CHECKS[builtin].default_window_seconds if builtin else DEFAULT_CUSTOM_WINDOW_SECONDS
    )
    window = field_value(data, "window", path, str, default=None)
    return Check(
        name=name,
        builtin=builtin,
        query=query,
        min=low,
        max=high,
        comparison=enum_value(data, "comparison", path, ThresholdMode, ThresholdMode.ABSOLUTE),
        window_seconds=(
            parse_duration(window, path=f"{path}.window", bounds=bounds.WINDOW_SECONDS)
            if window
            else default_window
        ),
    )
