"""The operator's workload moves that fail, against the Kubernetes stub: a canary never
ready, a missing or refused Deployment, one without the model container."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canaria.testing.kube_stub import KubeStub, status_response
from monitoring.api.spec import parse_spec
from monitoring.api.status import Phase
from monitoring.providers.metrics.static import StaticProvider
from tests.monitoring.operator.conftest import HEALTHY, Cluster
from tests.monitoring.operator.workload_cluster import (
    CANARY_PATH,
    REF,
    SCALE_DOWN,
    SCALE_UP,
    STABLE_PATH,
    Deployments,
    run_pass,
    status,
    workload_cluster,
    writes,
)


@pytest.fixture
def world() -> Iterator[tuple[Cluster, Deployments]]:
    with KubeStub() as kube:
        yield workload_cluster(kube, StaticProvider(values=HEALTHY))


def test_a_canary_never_ready_fails_after_the_readiness_timeout(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, _ = world
    run_pass(cluster)
    cluster.clock.advance(119)
    run_pass(cluster)
    assert writes(cluster.kube) == []
    cluster.clock.advance(1)
    run_pass(cluster)
    assert writes(cluster.kube) == [  # the traffic never left the stable: no route patch
        ("PATCH", "status", "Failed"),
        ("POST", "event", "RolledBack"),
        ("PATCH", "canary", SCALE_DOWN),
    ]
    assert "Deployment churn-canary not ready after 120s" in status(cluster).message


def test_a_missing_deployment_is_reported_and_nothing_is_written(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    del deployments.objects[CANARY_PATH]
    cluster.kube.on("GET", CANARY_PATH, _not_found)
    cluster.kube.clear()
    result = cluster.reconciler.reconcile(REF)
    assert result.error is not None and "churn-canary" in result.error and "404" in result.error
    assert writes(cluster.kube) == [("POST", "event", "WorkloadError"), ("PATCH", "status", "=")]
    reconciled = {c.type: c for c in status(cluster).conditions}["Reconciled"]
    assert reconciled.status == "False" and "churn-canary" in reconciled.message
    assert parse_spec(cluster.rollout["spec"]).workload is not None


def _not_found(request: Any) -> Any:
    return status_response(404, "NotFound", 'deployments.apps "churn-canary" not found')


def test_a_refused_scale_is_reported_once_and_retried_every_pass(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, _ = world
    forbidden = 'deployments.apps "churn-canary" is forbidden: cannot patch'
    cluster.kube.on("PATCH", CANARY_PATH, lambda r: status_response(403, "Forbidden", forbidden))
    cluster.kube.clear()
    first = cluster.reconciler.reconcile(REF)
    assert first.error is not None and "403" in first.error and "churn-canary" in first.error
    assert status(cluster).phase is Phase.PROGRESSING  # the decision stands; the move waits
    assert writes(cluster.kube)[-3:] == [
        ("PATCH", "canary", SCALE_UP),
        ("POST", "event", "WorkloadError"),
        ("PATCH", "status", "="),  # condition Reconciled=False
    ]
    cluster.clock.advance(2)  # past the backoff
    cluster.kube.clear()
    cluster.reconciler.reconcile(REF)
    assert writes(cluster.kube) == [  # retried; no second Event, the condition stays False
        ("PATCH", "status", "="),
        ("PATCH", "canary", SCALE_UP),
        ("PATCH", "status", "="),
    ]
    reconciled = {c.type: c for c in status(cluster).conditions}["Reconciled"]
    assert reconciled.status == "False" and "forbidden" in reconciled.message


def test_a_deployment_without_the_model_container_is_named(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    containers = deployments.objects[STABLE_PATH]["spec"]["template"]["spec"]["containers"]
    containers[0]["name"] = "server"
    cluster.kube.clear()
    result = cluster.reconciler.reconcile(REF)
    assert result.error == (
        "workload not read: Deployment ml/churn-stable has no container 'model'"
    )
    assert writes(cluster.kube) == [("POST", "event", "WorkloadError"), ("PATCH", "status", "=")]
