"""The deletion policy: a deleted rollout's traffic goes back to the stable, an Event
says so, then the operator lets go. kopf mode against the stub API server (the real
client), local mode with files (a missing file is a deletion, not a parse error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kopf
import pytest

from canaria.contracts.routes import Routes
from canaria.testing.kube_stub import status_response
from monitoring.operator import handlers
from monitoring.operator.events import RolloutRef
from monitoring.operator.local import FileEventRecorder, FileRolloutStore
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.reconcile import Reconciler
from monitoring.operator.state import state_path_for
from monitoring.providers.interfaces import RouteTarget
from monitoring.providers.metrics.static import StaticProvider
from monitoring.providers.traffic.noop import NoopRouter
from tests.monitoring.operator.conftest import HEALTHY, ROUTE_PATH, Cluster, FakeClock
from tests.monitoring.operator.test_failures import write_rollout
from tests.monitoring.operator.test_kube_handlers import tick, weights


def delete(cluster: Cluster, retry: int = 0) -> None:
    handlers.deleted(
        body=cluster.rollout,
        name="churn",
        namespace="ml",
        uid="uid-1",
        memo=kopf.Memo(reconciler=cluster.reconciler),
        retry=retry,
    )


def test_kopf_deleting_a_progressing_rollout_reverts_its_traffic(cluster: Cluster) -> None:
    tick(cluster)
    cluster.clock.advance(30)
    tick(cluster)
    assert weights(cluster) == [10, 50]
    delete(cluster)
    assert weights(cluster) == [10, 50, 0]
    assert cluster.reasons()[-1] == "TrafficReverted"
    assert "all traffic back to churn-classifier:v1" in cluster.events()[-1]["message"]
    # Then the operator lets go: a later tick (the object is gone) sends nothing.
    assert "ml/churn" not in cluster.reconciler._applied


def test_kopf_revert_on_deletion_false_leaves_the_route(cluster: Cluster) -> None:
    cluster.rollout["spec"]["revertOnDeletion"] = False
    tick(cluster)
    delete(cluster)
    assert weights(cluster) == [10]
    assert "revertOnDeletion is false" in cluster.events()[-1]["message"]


def test_kopf_an_unreachable_route_is_retried_then_let_go(cluster: Cluster) -> None:
    tick(cluster)
    cluster.kube.on("GET", ROUTE_PATH, status_response(500, "InternalError", "etcd down"))
    with pytest.raises(kopf.TemporaryError):
        delete(cluster, retry=0)
    delete(cluster, retry=handlers.DELETE_RETRIES)  # the last try lets go, and says so
    last = cluster.events()[-1]
    assert (last["reason"], last["type"]) == ("TrafficError", "Warning")
    assert "letting go" in last["message"]


def state(path: Path) -> dict[str, Any]:
    return dict(json.loads(state_path_for(path).read_text()))


def test_local_a_missing_file_is_a_deletion_not_a_parse_error(tmp_path: Path) -> None:
    """The reported example: at 50 % the file is moved away; the operator used to keep
    the last good version, advance to 75 % and promote."""
    path = write_rollout(tmp_path / "churn.yaml", "churn")
    clock = FakeClock()
    store = FileRolloutStore([path])
    router = NoopRouter()
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(
            metrics_factory=lambda name, settings: StaticProvider(values=HEALTHY),
            traffic_factory=lambda name: router,
        ),
        metrics=OperatorMetrics(),
        clock=clock,
    )
    ref = RolloutRef(namespace="default", name="churn")
    target = RouteTarget(namespace="default", name="churn")
    reconciler.reconcile(ref)
    clock.advance(1)
    reconciler.reconcile(ref)
    assert router.get_routes(target) == Routes(canary_weight=50)

    path.rename(tmp_path / "moved-away.yaml")
    result = reconciler.reconcile(ref)
    assert result.gone
    assert router.get_routes(target) == Routes(canary_weight=0)
    saved = state(path)
    assert saved["events"][-1]["reason"] == "TrafficReverted"
    assert (
        "deleted in phase Progressing; all traffic back to m:v1" in saved["events"][-1]["message"]
    )
    store.drop(ref)
    assert store.refs == []
    for _ in range(10):  # nothing advances or promotes any more
        clock.advance(1)
        reconciler.reconcile(ref)
    assert state(path)["status"]["phase"] == "Progressing"
    assert router.get_routes(target) == Routes(canary_weight=0)


def test_local_a_finished_rollout_is_let_go_without_touching_traffic(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "churn.yaml", "churn")
    clock = FakeClock()
    store = FileRolloutStore([path])
    router = NoopRouter()
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(
            metrics_factory=lambda name, settings: StaticProvider(values=HEALTHY),
            traffic_factory=lambda name: router,
        ),
        metrics=OperatorMetrics(),
        clock=clock,
    )
    ref = RolloutRef(namespace="default", name="churn")
    for _ in range(6):
        reconciler.reconcile(ref)
        clock.advance(1)
    assert state(path)["status"]["phase"] == "Succeeded"
    path.unlink()
    assert reconciler.reconcile(ref).gone
    assert "deleted in phase Succeeded" in state(path)["events"][-1]["message"]
