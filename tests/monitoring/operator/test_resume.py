"""A restarted operator continues from the rollout's status: no step lost, none repeated."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from canaria.testing.kube_stub import RecordedRequest, StubResponse, status_response
from monitoring.operator.events import RolloutRef
from tests.monitoring.operator.conftest import (
    ROLLOUT_PATH,
    ROUTE_PATH,
    Cluster,
    make_reconciler,
    route_patch,
)

REF = RolloutRef(namespace="ml", name="churn", uid="uid-1")


def three_steps(cluster: Cluster) -> None:
    cluster.edit(lambda obj: obj["spec"]["analysis"].update(stepWeights=[10, 30, 50]))


def restart(cluster: Cluster) -> None:
    """A new operator process: nothing kept in memory, same API server and status."""
    cluster.reconciler = make_reconciler(cluster.kube, cluster.clock, cluster.metrics_values)


def history(cluster: Cluster) -> list[tuple[str, int]]:
    return [(h["decision"], h["canaryWeight"]) for h in cluster.rollout["status"]["history"]]


def route_weights(cluster: Cluster) -> list[int]:
    patches = [r.body for r in cluster.kube.requests_matching("PATCH", ROUTE_PATH)]
    return [p["spec"]["rules"][0]["backendRefs"][1]["weight"] for p in patches]


def test_restart_mid_analysis_continues_from_the_status(cluster: Cluster) -> None:
    three_steps(cluster)
    cluster.reconciler.reconcile(REF)  # start: 10%
    cluster.clock.advance(30)
    cluster.reconciler.reconcile(REF)  # advance: 30%
    cluster.clock.advance(12)  # the operator dies 12s into the next interval

    restart(cluster)
    cluster.kube.clear()
    cluster.reconciler.reconcile(REF)
    # The new process re-applies the status's traffic once and changes nothing else.
    assert [r.body for r in cluster.kube.requests_matching("PATCH", ROUTE_PATH)] == [
        route_patch(70, 30)
    ]
    assert cluster.kube.requests_matching("PATCH", ROLLOUT_PATH + "/status") == []
    assert cluster.kube.requests_matching("POST") == []

    cluster.clock.advance(18)  # the analysis that was due 30s after the last one
    cluster.reconciler.reconcile(REF)
    assert history(cluster) == [("start", 10), ("advance", 30), ("advance", 50)]
    assert cluster.rollout["status"]["currentStep"] == 2
    assert cluster.rollout["status"]["nextAnalysisTime"] == "2025-01-01T12:01:30Z"


def test_crash_between_traffic_and_status_does_not_repeat_the_step(cluster: Cluster) -> None:
    three_steps(cluster)
    cluster.reconciler.reconcile(REF)  # start: 10%
    cluster.clock.advance(30)
    failures = iter([True])

    def status_fails_once(request: RecordedRequest) -> StubResponse:
        if next(failures, False):
            return status_response(500, "InternalError", "connection reset")
        return cluster._patch_status(request)

    cluster.kube.on("PATCH", ROLLOUT_PATH + "/status", status_fails_once)
    with pytest.raises(ApiException):
        cluster.reconciler.reconcile(REF)  # traffic moved to 30%, status not written
    assert route_weights(cluster)[-1] == 30
    assert cluster.rollout["status"]["currentStep"] == 0

    restart(cluster)
    cluster.reconciler.reconcile(REF)  # the same step is decided again from the status
    cluster.reconciler.reconcile(REF)
    assert history(cluster) == [("start", 10), ("advance", 30)]
    assert cluster.rollout["status"]["currentStep"] == 1
    assert route_weights(cluster)[-1] == 30


def test_operator_down_for_many_intervals_runs_one_analysis_not_a_burst(
    cluster: Cluster,
) -> None:
    three_steps(cluster)
    cluster.reconciler.reconcile(REF)
    cluster.clock.advance(30 * 5)

    restart(cluster)
    for _ in range(3):
        cluster.reconciler.reconcile(REF)
    assert history(cluster) == [("start", 10), ("advance", 30)]
    status: dict[str, Any] = cluster.rollout["status"]
    assert status["nextAnalysisTime"] == "2025-01-01T12:03:00Z"  # one interval from now
