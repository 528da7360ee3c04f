"""Asking the metrics provider for every check of one analysis, and keeping providers alive.

Providers are built once per rollout and reused: the scrape provider keeps the earlier
scrapes its windows start from, and HTTP clients keep their connections. A provider error
is "no data" for that check (the engine calls it inconclusive, never a pass); the error
text goes to the log so a person can tell an outage from a quiet canary.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from canaria.contracts.checks import BUILTIN_CHECKS, CUSTOM_CHECK
from canaria.contracts.logs import get_logger
from canaria.contracts.metrics import Variant
from monitoring.analysis import Measurement
from monitoring.api.spec import Check, MetricsProviderName, RolloutSpec, ThresholdMode
from monitoring.providers.interfaces import (
    Closable,
    MetricQuery,
    MetricsProvider,
    Primable,
    ProviderError,
    TrafficRouter,
)
from monitoring.providers.registry import metrics_providers, traffic_routers

_log = get_logger("operator.measure")

MetricsFactory = Callable[[str, Mapping[str, Any]], MetricsProvider]
TrafficFactory = Callable[[str], TrafficRouter]


def queries_for(check: Check, *, spec: RolloutSpec) -> dict[Variant, MetricQuery]:
    """The queries one check needs (pure): the canary always; the stable when the check is
    relative, and as evidence for built-in per-variant checks."""
    name = check.builtin.value if check.builtin else CUSTOM_CHECK
    variants = [Variant.CANARY]
    per_variant = check.builtin is not None and BUILTIN_CHECKS[check.builtin].query.per_variant
    if check.comparison is ThresholdMode.RELATIVE or per_variant:
        variants.append(Variant.STABLE)
    return {
        variant: MetricQuery(
            check=name,
            variant=variant,
            window_seconds=check.window_seconds,
            promql=check.query,
            selector=dict(spec.metrics_provider.labels),
        )
        for variant in variants
    }


def measure_checks(
    provider: MetricsProvider, *, spec: RolloutSpec, rollout: str
) -> dict[str, Measurement]:
    """Measure every check of ``spec`` once; errors become ``None`` (no data)."""
    measurements: dict[str, Measurement] = {}
    for check in spec.analysis.checks:
        values: dict[Variant, float | None] = {}
        for variant, query in queries_for(check, spec=spec).items():
            try:
                values[variant] = provider.measure(query)
            except ProviderError as error:
                _log.warning(
                    "metric unavailable",
                    extra={
                        "rollout": rollout,
                        "check": check.name,
                        "variant": variant.value,
                        "error": str(error),
                    },
                )
                values[variant] = None
        measurements[check.name] = Measurement(
            canary=values[Variant.CANARY], stable=values.get(Variant.STABLE)
        )
    return measurements


def prime(provider: MetricsProvider, *, rollout: str) -> bool:
    """Mark the start of an analysis period for a provider that keeps its own samples;
    ``False`` for one that keeps none (Prometheus), which has nothing to prime.

    The scrape provider only scrapes when asked, and a window needs a scrape at its start:
    one taken now (a new canary, a resume, a restarted operator) lets the first analysis,
    an interval later, measure the traffic since now rather than have no data.
    """
    if not isinstance(provider, Primable):
        return False
    try:
        provider.scrape()
    except Exception as error:  # a failed warm-up only means a longer first window
        _log.warning("could not prime metrics", extra={"rollout": rollout, "error": repr(error)})
    return True


def default_metrics_settings(spec: RolloutSpec) -> dict[str, Any]:
    """The provider settings from the spec, with what the operator knows added (pure).

    The scrape provider scrapes at most once per ``minScrapeInterval`` (1 s by default);
    with a shorter analysis interval every analysis must still see a fresh scrape. It
    scrapes once per analysis, so the scrape current at a window's start is up to one
    interval old: that is its ``startTolerance``.
    """
    settings = dict(spec.metrics_provider.settings)
    if spec.metrics_provider.name is MetricsProviderName.SCRAPE:
        interval = spec.analysis.interval_seconds
        settings.setdefault("minScrapeInterval", min(1.0, interval / 4))
        settings.setdefault("startTolerance", interval)
    return settings


def _create_metrics(name: str, settings: Mapping[str, Any]) -> MetricsProvider:
    return metrics_providers.create(name, **settings)


@dataclass
class _Cached:
    fingerprint: str
    provider: MetricsProvider


class ProviderCache:
    """One metrics provider per rollout (rebuilt when its settings change) and one traffic
    router per provider name, shared by every rollout.

    ``traffic_settings`` are operator-level keyword arguments per router name (the API
    client in a cluster); per-route settings travel in ``RouteTarget.settings``.
    """

    def __init__(
        self,
        *,
        traffic_settings: Mapping[str, Mapping[str, Any]] | None = None,
        metrics_factory: MetricsFactory | None = None,
        traffic_factory: TrafficFactory | None = None,
    ) -> None:
        self._traffic_settings = traffic_settings or {}
        self._metrics_factory = metrics_factory or _create_metrics
        self._traffic_factory = traffic_factory or self._create_traffic
        self._metrics: dict[str, _Cached] = {}
        self._traffic: dict[str, TrafficRouter] = {}
        self._lock = threading.Lock()

    def metrics(self, *, rollout: str, spec: RolloutSpec) -> MetricsProvider:
        name = spec.metrics_provider.name.value
        settings = default_metrics_settings(spec)
        fingerprint = json.dumps([name, settings], sort_keys=True, default=str)
        with self._lock:
            cached = self._metrics.get(rollout)
            if cached is None or cached.fingerprint != fingerprint:
                if cached is not None:
                    _close(cached.provider)
                cached = _Cached(fingerprint, self._metrics_factory(name, settings))
                self._metrics[rollout] = cached
            return cached.provider

    def traffic(self, name: str) -> TrafficRouter:
        with self._lock:
            router = self._traffic.get(name)
            if router is None:
                router = self._traffic_factory(name)
                self._traffic[name] = router
            return router

    def forget(self, *, rollout: str) -> None:
        with self._lock:
            cached = self._metrics.pop(rollout, None)
        if cached is not None:
            _close(cached.provider)

    def close(self) -> None:
        with self._lock:
            providers = [c.provider for c in self._metrics.values()]
            routers = list(self._traffic.values())
            self._metrics.clear()
            self._traffic.clear()
        for provider in [*providers, *routers]:
            _close(provider)

    def _create_traffic(self, name: str) -> TrafficRouter:
        return traffic_routers.create(name, **self._traffic_settings.get(name, {}))


def _close(provider: object) -> None:
    if isinstance(provider, Closable):
        provider.close()
