"""Each strategy (canary, blueGreen, abTesting) end to end through the reconciler, with each
real traffic provider: ``gatewayapi`` (the HTTPRoute on the Kubernetes stub, through the
real client) and ``router`` (the real canaria router's admin API). Traffic is read back
from the route or the router after every decision, through to promotion."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import kopf
import pytest

from canaria.contracts.routes import Routes
from canaria.testing.router import TOKEN_ENV, admin_get, running_router
from canaria.testing.running import RunningProcess
from monitoring.api.spec import TrafficProviderName
from monitoring.operator import handlers
from monitoring.providers.interfaces import PromotingRouter
from monitoring.providers.registry import traffic_routers
from monitoring.providers.traffic.httproute import Backends, read_routes
from monitoring.providers.traffic.router import routes_from_body
from tests.monitoring.operator.conftest import Cluster

pytestmark = pytest.mark.slow  # starts real processes or trains a model

TOKEN = "strategies-test-token"
V2 = "churn-classifier:v2"
STABLE_URL = "http://127.0.0.1:9/stable"
CANARY_URL = "http://127.0.0.1:9/canary"
MATCH = [{"type": "header", "name": "x-cohort", "value": "b"}]
MATCH_ROUTES = {"header:x-cohort": "b"}


@dataclass(frozen=True)
class Case:
    strategy: dict[str, Any]
    analysis: dict[str, Any]
    while_analysed: tuple[Routes, Routes]  # after the start, after the first passing analysis


CASES = {
    "canary": Case({"type": "canary"}, {"stepWeights": [10, 50]}, (Routes(10), Routes(50))),
    "blueGreen": Case(
        {"type": "blueGreen"},
        {"iterations": 2},
        (Routes(0, mirror=True), Routes(0, mirror=True)),
    ),
    "abTesting": Case(
        {"type": "abTesting", "match": MATCH},
        {"iterations": 2},
        (Routes(0, match=MATCH_ROUTES), Routes(0, match=MATCH_ROUTES)),
    ),
}


@pytest.fixture(scope="module")
def real_router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    config = {
        "upstreams": {"stable": {"url": STABLE_URL}, "canary": {"url": CANARY_URL}},
        "canary_weight": 0,
    }
    workdir = tmp_path_factory.mktemp("strategies-router")
    with running_router(config, workdir=workdir, token=TOKEN) as router:
        yield router


def gateway_routes(cluster: Cluster) -> Routes:
    return read_routes(cluster.route(), Backends(stable="churn-stable", canary="churn-canary"))


def use_router(cluster: Cluster, router: RunningProcess) -> Callable[[], Routes]:
    cluster.rollout["spec"]["trafficProvider"] = {
        "name": "router",
        "router": {"adminUrl": router.base_url, "tokenEnv": TOKEN_ENV},
    }
    return lambda: routes_from_body(admin_get(router, "/admin/routes", token=TOKEN))


def reconcile(cluster: Cluster, *, spec_changed: bool = False) -> None:
    memo = kopf.Memo(reconciler=cluster.reconciler)
    if spec_changed:
        handlers.spec_changed(name="churn", namespace="ml", uid="uid-1", memo=memo)
    else:
        handlers.tick(body=cluster.rollout, name="churn", namespace="ml", uid="uid-1", memo=memo)


@pytest.mark.parametrize("provider", [TrafficProviderName.GATEWAY_API, TrafficProviderName.ROUTER])
@pytest.mark.parametrize("strategy", list(CASES))
def test_strategy_through_the_reconciler_to_promotion(
    cluster: Cluster,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    provider: TrafficProviderName,
    strategy: str,
) -> None:
    case = CASES[strategy]
    analysis = cluster.rollout["spec"]["analysis"]
    del analysis["stepWeights"]
    analysis.update(case.analysis)
    cluster.rollout["spec"]["strategy"] = case.strategy
    current_routes: Callable[[], Routes] = partial(gateway_routes, cluster)
    if provider is TrafficProviderName.ROUTER:
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        router = request.getfixturevalue("real_router")
        current_routes = use_router(cluster, router)

    reconcile(cluster)
    assert cluster.rollout["status"]["phase"] == "Progressing"
    assert current_routes() == case.while_analysed[0]
    cluster.clock.advance(30)
    reconcile(cluster)
    assert cluster.rollout["status"]["currentStep"] == 1
    assert current_routes() == case.while_analysed[1]
    cluster.clock.advance(30)
    reconcile(cluster)
    assert cluster.rollout["status"]["phase"] == "Promoting"
    assert current_routes() == Routes(100)  # everything to the candidate, no mirror or match

    cluster.clock.advance(30)
    reconcile(cluster)
    if provider is TrafficProviderName.GATEWAY_API:
        # The stable Service serves v1 until its workload is updated: traffic stays put.
        assert cluster.rollout["status"]["phase"] == "Promoting"
        assert current_routes() == Routes(100)
        cluster.edit(
            lambda obj: obj["spec"]["target"]["stable"].update(bentoTag="churn-classifier:v2")
        )
        reconcile(cluster, spec_changed=True)
    else:
        # The router made its canary upstream the stable one by itself.
        config = admin_get(router, "/admin/config", token=TOKEN)
        assert config["upstreams"]["stable"]["url"] == CANARY_URL

    status = cluster.rollout["status"]
    assert status["phase"] == "Succeeded"
    assert status["stableModel"] == {"bentoTag": V2}
    assert current_routes() == Routes(0)
    assert cluster.reasons() == ["AnalysisStarted", "StepAdvanced", "Promoting", "Promoted"]


def test_only_the_router_promotes_by_itself() -> None:
    """The engine's ``promotes_stable`` says which providers need no stable update; the
    reconciler asks those that implement ``PromotingRouter`` to swap (noop moves nothing)."""
    for name in TrafficProviderName:
        router = traffic_routers.create(name.value)
        promoting = isinstance(router, PromotingRouter)
        assert promoting is (name is TrafficProviderName.ROUTER)
        assert name.promotes_stable is (promoting or name is TrafficProviderName.NOOP)
