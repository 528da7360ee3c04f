"""The operator's own Prometheus metrics: phase, canary weight, decisions, analysis time.

Names come from ``canaria.contracts.metrics``. A private ``CollectorRegistry`` keeps them
apart from whatever else runs in the process (tests create several operators).
"""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from canaria.contracts.metrics import (
    RETRAINING_JOBS_TOTAL,
    RETRAINING_RESULTS,
    ROLLOUT_ANALYSIS_DURATION,
    ROLLOUT_CANARY_WEIGHT,
    ROLLOUT_CHECK_LIMIT,
    ROLLOUT_CHECK_PASSED,
    ROLLOUT_CHECK_VALUE,
    ROLLOUT_DECISIONS_TOTAL,
    ROLLOUT_PHASE,
)
from monitoring.api.status import AnalysisRecord, DecisionKind, Phase, Verdict

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
        self.check_value = Gauge(
            ROLLOUT_CHECK_VALUE,
            "The value each check of the last analysis compared with its limits (the canary's,"
            " or canary / stable for a relative check); absent when it had no data",
            ["rollout", "check"],
            registry=self.registry,
        )
        self.check_limit = Gauge(
            ROLLOUT_CHECK_LIMIT,
            "Each check's limit in the last analysis, by bound (min or max)",
            ["rollout", "check", "bound"],
            registry=self.registry,
        )
        self.check_passed = Gauge(
            ROLLOUT_CHECK_PASSED,
            "1 when the check passed in the last analysis, 0 when it failed; absent when"
            " inconclusive",
            ["rollout", "check"],
            registry=self.registry,
        )
        self.retraining_jobs = Counter(
            RETRAINING_JOBS_TOTAL,
            "Retraining Jobs by result: started, succeeded (a better version became the"
            " canary), not_improved (refused: not better than the champion), failed",
            ["rollout", "result"],
            registry=self.registry,
        )
        self._checks: dict[str, set[str]] = {}

    def observe_state(self, *, rollout: str, phase: Phase, canary_weight: int) -> None:
        # Every phase gets a sample so a dashboard's "== 1" query sees the switch at once.
        for known in Phase:
            self.phase.labels(rollout=rollout, phase=known.value).set(
                1.0 if known is phase else 0.0
            )
        self.canary_weight.labels(rollout=rollout).set(canary_weight)

    def count_decision(self, *, rollout: str, decision: DecisionKind) -> None:
        self.decisions.labels(rollout=rollout, decision=decision.value).inc()

    def count_retraining(self, *, rollout: str, result: str) -> None:
        """One step of the retraining loop; ``result`` is one of ``RETRAINING_RESULTS``
        (anything else raises ValueError)."""
        if result not in RETRAINING_RESULTS:
            raise ValueError(f"result={result!r}: must be one of {', '.join(RETRAINING_RESULTS)}")
        self.retraining_jobs.labels(rollout=rollout, result=result).inc()

    def observe_analysis(self, *, rollout: str, seconds: float) -> None:
        self.analysis_duration.labels(rollout=rollout).observe(seconds)

    def observe_checks(self, *, rollout: str, record: AnalysisRecord | None) -> None:
        """Export every check of ``record``, the rollout's last analysis (``None``: none
        yet, e.g. a new canary, whose old checks are dropped). Series of checks no longer
        in it are removed, so a dashboard never shows a stale check."""
        results = record.checks if record is not None else ()
        for check in self._checks.pop(rollout, set()) - {r.name for r in results}:
            self._drop_check(rollout, check)
        for result in results:
            name = result.name
            if result.compared is None:
                _remove(self.check_value, rollout, name)
            else:
                self.check_value.labels(rollout=rollout, check=name).set(result.compared)
            for bound, limit in (("min", result.min), ("max", result.max)):
                if limit is None:
                    _remove(self.check_limit, rollout, name, bound)
                else:
                    self.check_limit.labels(rollout=rollout, check=name, bound=bound).set(limit)
            if result.verdict is Verdict.INCONCLUSIVE:
                _remove(self.check_passed, rollout, name)
            else:
                passed = 1.0 if result.verdict is Verdict.PASS else 0.0
                self.check_passed.labels(rollout=rollout, check=name).set(passed)
        if results:
            self._checks[rollout] = {r.name for r in results}

    def _drop_check(self, rollout: str, check: str) -> None:
        _remove(self.check_value, rollout, check)
        _remove(self.check_passed, rollout, check)
        for bound in ("min", "max"):
            _remove(self.check_limit, rollout, check, bound)

    def forget(self, *, rollout: str) -> None:
        """Drop a deleted rollout's series so dashboards stop showing it."""
        self.observe_checks(rollout=rollout, record=None)
        for known in Phase:
            _remove(self.phase, rollout, known.value)
        _remove(self.canary_weight, rollout)
        for decision in DecisionKind:
            _remove(self.decisions, rollout, decision.value)
        _remove(self.analysis_duration, rollout)
        for result in RETRAINING_RESULTS:
            _remove(self.retraining_jobs, rollout, result)

    def serve(self, *, port: int, address: str = "0.0.0.0") -> None:  # nosec B104 # in a pod Prometheus scrapes the pod IP, not loopback
        """Serve ``/metrics`` on ``port`` from a daemon thread."""
        start_http_server(port, addr=address, registry=self.registry)


def _remove(metric: Gauge | Counter | Histogram, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never observed for this rollout
        metric.remove(*labels)
