"""Deleting a rollout with ``spec.workload``: the traffic goes back to the stable, then the
operator-owned canary Deployment is scaled to 0 (as Flagger scales its canary to zero),
against the Kubernetes stub through the real client."""

from __future__ import annotations

from collections.abc import Iterator

import kopf
import pytest

from canaria.testing.kube_stub import KubeStub, status_response
from monitoring.operator import handlers
from monitoring.providers.metrics.static import StaticProvider
from tests.monitoring.operator.conftest import HEALTHY, Cluster, route_patch
from tests.monitoring.operator.test_deletion import delete
from tests.monitoring.operator.workload_cluster import (
    CANARY_PATH,
    SCALE_DOWN,
    Deployments,
    run_pass,
    workload_cluster,
    writes,
)


@pytest.fixture
def world() -> Iterator[tuple[Cluster, Deployments]]:
    with KubeStub() as kube:
        cluster, deployments = workload_cluster(kube, StaticProvider(values=HEALTHY))
        run_pass(cluster)  # the canary is scaled up ...
        deployments.settle(CANARY_PATH)
        run_pass(cluster)  # ... ready: 10 % of the traffic
        cluster.kube.clear()
        yield cluster, deployments


def test_deleting_moves_the_traffic_back_then_scales_the_canary_to_zero(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    assert deployments.objects[CANARY_PATH]["spec"]["replicas"] == 2
    delete(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(100, 0)),
        ("PATCH", "canary", SCALE_DOWN),
        ("POST", "event", "TrafficReverted"),
    ]
    assert deployments.objects[CANARY_PATH]["spec"]["replicas"] == 0
    assert cluster.events()[-1]["message"] == (
        "deleted in phase Progressing; all traffic back to churn-classifier:v1; "
        "canary Deployment churn-canary scaled to 0"
    )


def test_revert_on_deletion_false_leaves_the_canary_running(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    cluster.rollout["spec"]["revertOnDeletion"] = False
    delete(cluster)
    assert writes(cluster.kube) == [("POST", "event", "TrafficReverted")]
    assert deployments.objects[CANARY_PATH]["spec"]["replicas"] == 2


def test_a_canary_already_gone_is_fine(world: tuple[Cluster, Deployments]) -> None:
    cluster, _ = world
    gone = status_response(404, "NotFound", 'deployments.apps "churn-canary" not found')
    cluster.kube.on("PATCH", CANARY_PATH, gone)  # e.g. `helm uninstall` deleted it too
    delete(cluster)
    assert [what for _, what, _ in writes(cluster.kube)] == ["route", "canary", "event"]
    assert "ml/churn" not in cluster.reconciler._applied  # let go


def test_a_refused_scale_is_retried_then_let_go_with_a_warning(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, _ = world
    cluster.kube.on("PATCH", CANARY_PATH, status_response(403, "Forbidden", "no patch"))
    with pytest.raises(kopf.TemporaryError, match="canary Deployment could not be scaled to 0"):
        delete(cluster, retry=0)
    delete(cluster, retry=handlers.DELETE_RETRIES)
    last = cluster.events()[-1]
    assert (last["reason"], last["type"]) == ("TrafficError", "Warning")
    assert "canary Deployment could not be scaled to 0" in last["message"]
    assert "403" in last["message"] and "letting go" in last["message"]
