"""A rollout whose reconcile fails, for any reason, gets the ``Reconciled`` condition and
one Warning Event saying why, and is retried with a backoff, not every tick; the other
rollouts go on. Local mode (files) and kopf mode (the stub API server, real client)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from canaria.contracts.routes import Routes
from canaria.testing.kube_stub import StubResponse
from monitoring.operator.events import RolloutRef
from monitoring.operator.local import FileEventRecorder, FileRolloutStore
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.reconcile import Reconciler
from monitoring.operator.state import state_path_for
from monitoring.providers.interfaces import RouteTarget
from monitoring.providers.metrics.static import StaticProvider
from tests.monitoring.operator.conftest import (
    EVENTS_PATH,
    HEALTHY,
    ROLLOUT_PATH,
    Cluster,
    FakeClock,
)
from tests.monitoring.operator.test_kube_handlers import tick

TICK = 0.25  # local mode's poll


class FlakyRouter:
    """A traffic router that raises a plain exception for the rollout named ``broken``."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.broken = True

    def get_routes(self, target: RouteTarget) -> Routes:
        self.calls[target.name] += 1
        self._maybe_raise(target)
        return Routes(canary_weight=0)

    def set_routes(self, target: RouteTarget, routes: Routes) -> None:
        self.calls[target.name] += 1
        self._maybe_raise(target)

    def _maybe_raise(self, target: RouteTarget) -> None:
        if self.broken and target.name == "broken":
            raise RuntimeError("boom: the router exploded")


def write_rollout(path: Path, name: str, **analysis: Any) -> Path:
    doc = {
        "apiVersion": "canaria.dev/v1alpha1",
        "kind": "ModelRollout",
        "metadata": {"name": name},
        "spec": {
            "target": {"stable": {"bentoTag": "m:v1"}, "canary": {"bentoTag": "m:v2"}},
            "trafficProvider": {"name": "noop"},
            "analysis": {
                "interval": "1s",
                "stepWeights": [25, 50, 75],
                "checks": [{"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99}],
                **analysis,
            },
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def state(path: Path) -> dict[str, Any]:
    return dict(json.loads(state_path_for(path).read_text()))


def reconciled(status: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or () if c["type"] == "Reconciled"), None)


def test_local_mode_a_failing_rollout_backs_off_and_the_others_go_on(tmp_path: Path) -> None:
    broken = write_rollout(tmp_path / "broken.yaml", "broken")
    healthy = write_rollout(tmp_path / "healthy.yaml", "healthy")
    clock = FakeClock()
    store = FileRolloutStore([broken, healthy])
    router = FlakyRouter()
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
    for _ in range(int(10 / TICK)):  # 10 s of the local loop's ticks
        for ref in store.refs:
            reconciler.reconcile(ref)  # never raises
        clock.advance(TICK)

    # 1 s, 2 s, 4 s backoff: tries at 0, 1, 3 and 7 s, not 40 times.
    assert router.calls["broken"] <= 5, router.calls
    events = state(broken)["events"]
    assert [(e["reason"], e["type"]) for e in events] == [("ReconcileError", "Warning")]
    assert "RuntimeError: boom: the router exploded" in events[0]["message"]
    condition = reconciled(state(broken)["status"])
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "ReconcileError")
    assert state(healthy)["status"]["phase"] == "Succeeded"  # the other one went on

    router.broken = False
    clock.advance(300)
    reconciler.reconcile(RolloutRef(namespace="default", name="broken"))
    status = state(broken)["status"]
    assert status["phase"] == "Progressing"
    condition = reconciled(status)
    assert condition is not None and condition["status"] == "True"


def test_local_mode_an_out_of_bounds_interval_is_refused_once_with_a_condition(
    tmp_path: Path,
) -> None:
    """The reported example: ``99999999999h`` once made every reconcile overflow."""
    path = write_rollout(tmp_path / "r.yaml", "r", interval="99999999999h")
    clock = FakeClock()
    store = FileRolloutStore([path])
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(),
        metrics=OperatorMetrics(),
        clock=clock,
    )
    for _ in range(20):
        result = reconciler.reconcile(store.refs[0])
        clock.advance(TICK)
    assert result.error is not None
    events = state(path)["events"]
    assert [e["reason"] for e in events] == ["InvalidSpec"]
    assert events[0]["message"].startswith("spec refused: spec.analysis.interval: ")
    condition = reconciled(state(path)["status"])
    assert condition is not None and condition["reason"] == "InvalidSpec"


def test_kopf_mode_a_failing_reconcile_backs_off_with_a_condition_and_an_event(
    cluster: Cluster,
) -> None:
    # The HTTPRoute answers something the provider cannot read (a list): not an API
    # error, a plain exception deep in a provider.
    cluster.kube.on(
        "GET",
        "/apis/gateway.networking.k8s.io/v1/namespaces/ml/httproutes/churn",
        StubResponse(body=[1, 2]),
    )
    cluster.kube.on("PATCH", "/apis/gateway.networking.k8s.io/.*", StubResponse(body=[1, 2]))
    for _ in range(40):  # 10 s of 0.25 s ticks
        tick(cluster)
        cluster.clock.advance(TICK)
    gets = cluster.requests("GET", ROLLOUT_PATH)
    assert len(gets) <= 6, len(gets)
    warnings = [e for e in cluster.events() if e["type"] == "Warning"]
    assert len(warnings) == 1, [e["message"] for e in cluster.events()]
    condition = reconciled(cluster.rollout.get("status") or {})
    assert condition is not None and condition["status"] == "False"
    assert condition["message"] == warnings[0]["message"][: len(condition["message"])]
    assert cluster.requests("POST", EVENTS_PATH)
