"""A custom check whose PromQL answers +Inf, against a real Prometheus, never passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from canaria.testing.prometheus import running_prometheus
from monitoring.analysis import decide
from monitoring.api.spec import parse_spec
from monitoring.api.status import DecisionKind, RolloutStatus, Verdict
from monitoring.operator.measure import measure_checks
from monitoring.providers.registry import metrics_providers

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "comparison", "bounds"),
    [
        ("vector(1) / vector(0)", "relative", {"max": 1.2}),  # the reported example
        ("vector(1) / vector(0)", "absolute", {"min": 0.5}),  # +Inf above a minimum
        ("vector(-1) / vector(0)", "absolute", {"max": 1.0}),  # -Inf below a maximum
        ("vector(0) / vector(0)", "relative", {"max": 1.2}),  # NaN: no data
    ],
)
def test_a_non_finite_custom_query_is_inconclusive_never_a_pass(
    tmp_path: Path, query: str, comparison: str, bounds: dict[str, float]
) -> None:
    spec = parse_spec(
        {
            "target": {"stable": {"bentoTag": "m:v1"}, "canary": {"bentoTag": "m:v2"}},
            "trafficProvider": {"name": "noop"},
            "metricsProvider": {"name": "prometheus"},
            "analysis": {
                "interval": "10s",
                "stepWeights": [25, 50],
                "checks": [{"name": "ratio", "query": query, "comparison": comparison, **bounds}],
            },
        }
    )
    with running_prometheus([], workdir=tmp_path / "prom") as prometheus:
        provider = metrics_providers.create("prometheus", address=prometheus.base_url)
        try:
            measurements = measure_checks(provider, spec=spec, rollout="ml/m")
        finally:
            provider.close()  # type: ignore[attr-defined]
    started = decide(spec=spec, status=RolloutStatus(), measurements={}, now=T0).status
    decision = decide(
        spec=spec, status=started, measurements=measurements, now=T0 + timedelta(seconds=10)
    )
    assert decision.analysis is not None
    assert decision.analysis.verdict is Verdict.INCONCLUSIVE, decision.analysis.message
    assert decision.kind is DecisionKind.HOLD
    assert decision.status.canary_weight == 25
