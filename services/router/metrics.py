"""The router's Prometheus metrics (names from ``canaria.contracts.metrics``).

Each router owns a registry, so several can live in one test process. Labelled children
are cached: a label lookup per request would cost more than the rest of the bookkeeping.
"""

from __future__ import annotations

from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from canaria.contracts import metrics as catalog
from canaria.contracts.metrics import Variant

# Fast classic models answer in about a millisecond; LLM streams take seconds.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
DIFFERENCE_BUCKETS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

MetricT = TypeVar("MetricT", bound=MetricWrapperBase)


class RouterMetrics:
    """The router's Prometheus metrics (names from ``canaria.contracts.metrics``) in a
    registry of their own, exported at ``/metrics``: requests by variant and status,
    durations (seconds), upstream errors by reason, weights (0-100), reloads, rate-limit
    refusals and the shadow comparisons, differences, drops and failures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            catalog.ROUTER_REQUESTS_TOTAL,
            "Requests answered, by variant and upstream status ('error' when none came back).",
            ["variant", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            catalog.ROUTER_REQUEST_DURATION,
            "Time from receiving a request to the end of its answer, by variant.",
            ["variant"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.upstream_errors = Counter(
            catalog.ROUTER_UPSTREAM_ERRORS_TOTAL,
            "Requests whose upstream could not be reached or did not answer in time.",
            ["variant", "reason"],
            registry=registry,
        )
        self.weight = Gauge(
            catalog.ROUTER_WEIGHT, "Current traffic weight 0-100.", ["variant"], registry=registry
        )
        self.reloads = Counter(
            catalog.ROUTER_CONFIG_RELOADS_TOTAL,
            "Configuration reloads from the file, by result.",
            ["result"],
            registry=registry,
        )
        self.rate_limited = Counter(
            catalog.ROUTER_RATE_LIMITED_TOTAL,
            "Requests refused with 429 by the per-client rate limit.",
            registry=registry,
        )
        self.comparisons = Counter(
            catalog.SHADOW_COMPARISONS_TOTAL,
            "Shadow answers compared with the primary's, by comparator and outcome.",
            ["comparator", "outcome"],
            registry=registry,
        )
        self.difference = Histogram(
            catalog.SHADOW_DIFFERENCE,
            "Distance between the primary's and the shadow's answer (0 = equal).",
            ["comparator"],
            buckets=DIFFERENCE_BUCKETS,
            registry=registry,
        )
        self.shadow_dropped = Counter(
            catalog.SHADOW_DROPPED_TOTAL,
            "Sampled shadow requests dropped because max_in_flight were already running.",
            registry=registry,
        )
        self.shadow_failures = Counter(
            catalog.SHADOW_FAILURES_TOTAL,
            "Shadow requests that gave nothing to compare, by reason.",
            ["reason"],
            registry=registry,
        )
        self._children: dict[tuple[str, ...], MetricWrapperBase] = {}
        for result in ("success", "failure"):
            self.reloads.labels(result=result)

    def _child(self, metric: MetricT, *labels: str) -> MetricT:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child  # type: ignore[return-value]

    def request(self, variant: Variant, status: int | None, seconds: float) -> None:
        label = "error" if status is None else str(status)
        self._child(self.requests, variant.value, label).inc()
        self._child(self.duration, variant.value).observe(seconds)

    def upstream_error(self, variant: Variant, reason: str) -> None:
        self._child(self.upstream_errors, variant.value, reason).inc()

    def set_weight(self, canary_weight: int) -> None:
        self.weight.labels(variant=Variant.STABLE.value).set(100 - canary_weight)
        self.weight.labels(variant=Variant.CANARY.value).set(canary_weight)

    def reload(self, *, ok: bool) -> None:
        self.reloads.labels(result="success" if ok else "failure").inc()

    def compared(self, comparator: str, *, agree: bool, difference: float) -> None:
        outcome = "agree" if agree else "disagree"
        self._child(self.comparisons, comparator, outcome).inc()
        self._child(self.difference, comparator).observe(difference)

    def shadow_failed(self, reason: str) -> None:
        self._child(self.shadow_failures, reason).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
