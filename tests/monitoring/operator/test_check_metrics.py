"""The operator exports every check of a rollout's last analysis: its compared value, its
limits and whether it passed; stale checks and inconclusive verdicts leave no series."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import generate_latest

from canaria.contracts.metrics import ROLLOUT_CHECK_LIMIT, ROLLOUT_CHECK_PASSED, ROLLOUT_CHECK_VALUE
from canaria.testing.metrics import MetricSamples, metric_samples, series_value
from monitoring.analysis import Measurement, evaluate_analysis
from monitoring.api.spec import Check, ThresholdMode
from monitoring.operator.metrics import OperatorMetrics

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SUCCESS = Check(name="success-rate", min=0.99)
LATENCY = Check(name="latency-p99", max=0.5)
RATIO = Check(name="error-ratio", max=1.2, comparison=ThresholdMode.RELATIVE)
ROLLOUT = "ml/churn"


def samples(metrics: OperatorMetrics) -> MetricSamples:
    return metric_samples(generate_latest(metrics.registry).decode())


def names_for(found: MetricSamples, name: str) -> set[str]:
    return {dict(labels)["check"] for sample, labels in found if sample == name}


def test_each_check_of_the_last_analysis_is_exported() -> None:
    metrics = OperatorMetrics()
    record = evaluate_analysis(
        (SUCCESS, LATENCY, RATIO),
        {
            "success-rate": Measurement(canary=0.95),
            "latency-p99": Measurement(canary=0.2),
            "error-ratio": Measurement(canary=0.02, stable=0.01),
        },
        now=T0,
    )
    metrics.observe_checks(rollout=ROLLOUT, record=record)
    found = samples(metrics)
    value = {c: series_value(found, ROLLOUT_CHECK_VALUE, rollout=ROLLOUT, check=c) for c in
             ("success-rate", "latency-p99", "error-ratio")}  # fmt: skip
    assert value == {"success-rate": 0.95, "latency-p99": 0.2, "error-ratio": 2.0}
    assert series_value(found, ROLLOUT_CHECK_LIMIT, check="success-rate", bound="min") == 0.99
    assert series_value(found, ROLLOUT_CHECK_LIMIT, check="latency-p99", bound="max") == 0.5
    assert series_value(found, ROLLOUT_CHECK_LIMIT, check="error-ratio", bound="max") == 1.2
    bounds = {dict(labels)["bound"] for name, labels in found if name == ROLLOUT_CHECK_LIMIT
              and dict(labels)["check"] == "latency-p99"}  # fmt: skip
    assert bounds == {"max"}  # no min: no series for it
    passed = {c: series_value(found, ROLLOUT_CHECK_PASSED, check=c) for c in value}
    assert passed == {"success-rate": 0.0, "latency-p99": 1.0, "error-ratio": 0.0}


def test_inconclusive_checks_and_checks_no_longer_analysed_leave_no_series() -> None:
    metrics = OperatorMetrics()
    both = {"success-rate": Measurement(canary=1.0), "latency-p99": Measurement(canary=0.1)}
    metrics.observe_checks(
        rollout=ROLLOUT, record=evaluate_analysis((SUCCESS, LATENCY), both, now=T0)
    )
    only_success = evaluate_analysis((SUCCESS,), {}, now=T0)  # no data: inconclusive
    metrics.observe_checks(rollout=ROLLOUT, record=only_success)
    found = samples(metrics)
    assert names_for(found, ROLLOUT_CHECK_VALUE) == set()
    assert names_for(found, ROLLOUT_CHECK_PASSED) == set()
    assert names_for(found, ROLLOUT_CHECK_LIMIT) == {"success-rate"}


@pytest.mark.parametrize("how", ["new-canary", "deleted"])
def test_a_new_canary_or_a_deleted_rollout_drops_every_check(how: str) -> None:
    metrics = OperatorMetrics()
    record = evaluate_analysis((SUCCESS,), {"success-rate": Measurement(canary=1.0)}, now=T0)
    metrics.observe_checks(rollout=ROLLOUT, record=record)
    metrics.observe_checks(rollout="ml/other", record=record)
    if how == "new-canary":
        metrics.observe_checks(rollout=ROLLOUT, record=None)  # the status's last analysis cleared
    else:
        metrics.forget(rollout=ROLLOUT)
    found = samples(metrics)
    rollouts = {
        dict(labels)["rollout"]
        for name, labels in found
        if name.startswith("canaria_rollout_check")
    }
    assert rollouts == {"ml/other"}
