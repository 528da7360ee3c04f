"""Level-triggered traffic in-process: any drift of weight, mirror or match rules is put
back within a verification period and reported (``TrafficCorrected``, before -> after);
a promotion is re-asserted on a router that forgot it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from canaria.contracts.routes import Routes
from monitoring.operator.events import RolloutRef
from monitoring.operator.local import FileEventRecorder, FileRolloutStore
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.reconcile import Reconciler
from monitoring.operator.state import state_path_for
from monitoring.providers.interfaces import RouteTarget
from monitoring.providers.metrics.static import StaticProvider
from monitoring.providers.traffic.noop import NoopRouter
from tests.monitoring.operator.conftest import HEALTHY, FakeClock
from tests.monitoring.operator.test_failures import write_rollout

REF = RolloutRef(namespace="default", name="churn")
TARGET = RouteTarget(namespace="default", name="churn")


class PromotingNoop(NoopRouter):
    """A router with upstreams that a restart resets, like the canaria router's."""

    def __init__(self) -> None:
        super().__init__()
        self.ups = {"stable": "http://old", "canary": "http://new"}
        self.promotions = 0

    def upstreams(self, target: RouteTarget) -> dict[str, str]:
        return dict(self.ups)

    def promote(self, target: RouteTarget) -> None:
        self.promotions += 1
        self.ups["stable"] = self.ups["canary"]
        self.set_routes(target, Routes(canary_weight=0))


def setup(tmp: Path, router: NoopRouter, **analysis: Any) -> tuple[Reconciler, FakeClock, Path]:
    strategy = analysis.pop("strategy", None)
    path = write_rollout(tmp / "churn.yaml", "churn", **analysis)
    if strategy is not None:
        import yaml

        doc = yaml.safe_load(path.read_text())
        doc["spec"]["strategy"] = strategy
        del doc["spec"]["analysis"]["stepWeights"]
        path.write_text(yaml.safe_dump(doc))
    clock = FakeClock()
    store = FileRolloutStore([path])
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
    return reconciler, clock, path


def events(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(state_path_for(path).read_text())["events"])


@pytest.mark.parametrize(
    ("strategy", "drift", "shown"),
    [
        (None, Routes(canary_weight=0), "weight 0% -> weight 25%"),
        (None, Routes(canary_weight=25, mirror=True), "weight 25%, mirror -> weight 25%"),
        ({"type": "blueGreen"}, Routes(canary_weight=0), "weight 0% -> weight 0%, mirror"),
        (
            {"type": "abTesting", "match": [{"type": "header", "name": "x-ab", "value": "b"}]},
            Routes(canary_weight=0, match={"header:x-ab": "a"}),
            "match header:x-ab=a -> weight 0%, match header:x-ab=b",
        ),
    ],
    ids=["weight", "mirror-added", "mirror-lost", "match-changed"],
)
def test_drift_is_corrected_within_a_verification_period(
    tmp_path: Path, strategy: dict[str, Any] | None, drift: Routes, shown: str
) -> None:
    router = NoopRouter()
    analysis: dict[str, Any] = {"interval": "4s"}
    if strategy is not None:
        analysis["strategy"] = strategy
    reconciler, clock, path = setup(tmp_path, router, **analysis)
    reconciler.reconcile(REF)
    desired = router.get_routes(TARGET)
    router.set_routes(TARGET, drift)  # someone (a restart, a reload, a person) changed it
    clock.advance(0.5)
    reconciler.reconcile(REF)
    assert router.get_routes(TARGET) == drift  # not re-read before the period (1 s) is over
    clock.advance(0.5)
    reconciler.reconcile(REF)
    assert router.get_routes(TARGET) == desired
    last = events(path)[-1]
    assert (last["reason"], last["type"]) == ("TrafficCorrected", "Warning")
    assert shown in last["message"]


def test_a_promotion_is_reasserted_on_a_router_that_forgot_it(tmp_path: Path) -> None:
    router = PromotingNoop()
    reconciler, clock, path = setup(tmp_path, router)
    for _ in range(6):
        reconciler.reconcile(REF)
        clock.advance(1)
    status = json.loads(state_path_for(path).read_text())["status"]
    assert status["phase"] == "Succeeded"
    assert status["promotedUpstream"] == "http://new"
    assert router.promotions == 1
    router.ups["stable"] = "http://old"  # the router restarted from its file
    clock.advance(1)
    reconciler.reconcile(REF)
    assert router.ups["stable"] == "http://new" and router.promotions == 2
    assert "stable upstream http://old -> http://new (promoted)" in events(path)[-1]["message"]
    router.ups = {"stable": "http://old", "canary": "http://other"}  # nothing to re-assert
    clock.advance(1)
    result = reconciler.reconcile(REF)
    assert result.error is not None and "put it in the router's config" in result.error
