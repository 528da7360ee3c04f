"""``OperatorMetrics.count_retraining``: ``canaria_retraining_jobs_total{rollout, result}``
counts each result apart, refuses an unknown result and is dropped with its rollout."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from canaria.contracts.metrics import RETRAINING_JOBS_TOTAL
from monitoring.operator.metrics import OperatorMetrics


def counted(metrics: OperatorMetrics, rollout: str, result: str) -> float | None:
    return metrics.registry.get_sample_value(
        RETRAINING_JOBS_TOTAL, {"rollout": rollout, "result": result}
    )


def test_each_result_is_counted_per_rollout() -> None:
    metrics = OperatorMetrics()
    page = generate_latest(metrics.registry).decode()
    assert f"# HELP {RETRAINING_JOBS_TOTAL} Retraining Jobs by result" in page  # declared
    for result in ("started", "started", "failed", "not_improved", "succeeded"):
        metrics.count_retraining(rollout="ml/churn", result=result)
    metrics.count_retraining(rollout="ml/other", result="started")
    assert counted(metrics, "ml/churn", "started") == 2.0
    assert counted(metrics, "ml/churn", "failed") == 1.0
    assert counted(metrics, "ml/churn", "not_improved") == 1.0
    assert counted(metrics, "ml/churn", "succeeded") == 1.0
    assert counted(metrics, "ml/other", "started") == 1.0
    assert counted(metrics, "ml/other", "failed") is None


def test_an_unknown_result_is_refused_and_a_forgotten_rollout_dropped() -> None:
    metrics = OperatorMetrics()
    with pytest.raises(ValueError, match="result='registered': must be one of started"):
        metrics.count_retraining(rollout="ml/churn", result="registered")
    metrics.count_retraining(rollout="ml/churn", result="failed")
    metrics.forget(rollout="ml/churn")
    assert counted(metrics, "ml/churn", "failed") is None
