"""The operator's own Prometheus metrics: phase, canary weight, decisions, analysis time.

Names come from ``canaria.contracts.metrics``. A private ``CollectorRegistry`` keeps them
apart from whatever else runs in the process (tests create several operators).
"""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from canaria.contracts.metrics import (
    ROLLOUT_ANALYSIS_DURATION,
    ROLLOUT_CANARY_WEIGHT,
    ROLLOUT_DECISIONS_TOTAL,
    ROLLOUT_PHASE,
)
from monitoring.api.status import DecisionKind, Phase

# Analyses are a few HTTP calls; 5 s or more means a provider is timing out.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OperatorMetrics:
    """The series one operator process exports, labelled by rollout (``namespace/name``)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.phase = Gauge(
            ROLLOUT_PHASE,
            "1 for the rollout's current phase, 0 for the others",
            ["rollout", "phase"],
            registry=self.registry,
        )
        self.canary_weight = Gauge(
            ROLLOUT_CANARY_WEIGHT,
            "Share of traffic (0-100) the operator last gave the canary",
            ["rollout"],
            registry=self.registry,
        )
        self.decisions = Counter(
            ROLLOUT_DECISIONS_TOTAL,
            "Decisions of the analysis engine that changed the rollout, by kind",
            ["rollout", "decision"],
            registry=self.registry,
        )
        self.analysis_duration = Histogram(
            ROLLOUT_ANALYSIS_DURATION,
            "Seconds one analysis took: measuring every check, deciding and applying",
            ["rollout"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )

    def observe_state(self, *, rollout: str, phase: Phase, canary_weight: int) -> None:
        # Every phase gets a sample so a dashboard's "== 1" query sees the switch at once.
        for known in Phase:
            self.phase.labels(rollout=rollout, phase=known.value).set(
                1.0 if known is phase else 0.0
            )
        self.canary_weight.labels(rollout=rollout).set(canary_weight)

    def count_decision(self, *, rollout: str, decision: DecisionKind) -> None:
        self.decisions.labels(rollout=rollout, decision=decision.value).inc()

    def observe_analysis(self, *, rollout: str, seconds: float) -> None:
        self.analysis_duration.labels(rollout=rollout).observe(seconds)

    def forget(self, *, rollout: str) -> None:
        """Drop a deleted rollout's series so dashboards stop showing it."""
        for known in Phase:
            _remove(self.phase, rollout, known.value)
        _remove(self.canary_weight, rollout)
        for decision in DecisionKind:
            _remove(self.decisions, rollout, decision.value)
        _remove(self.analysis_duration, rollout)

    def serve(self, *, port: int, address: str = "0.0.0.0") -> None:
        """Serve ``/metrics`` on ``port`` from a daemon thread."""
        start_http_server(port, addr=address, registry=self.registry)


def _remove(metric: Gauge | Counter | Histogram, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never observed for this rollout
        metric.remove(*labels)
