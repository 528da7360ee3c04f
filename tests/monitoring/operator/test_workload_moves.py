"""The operator's workload moves against the Kubernetes stub, through the real client: the
exact Deployment, HTTPRoute, status and Event requests, in order, for the start, each
step, the promotion, a rollback and a resume in the middle of a promotion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canaria.contracts.routes import PROMOTE_PATH, ROUTES_PATH, Routes, routes_body
from canaria.testing.kube_stub import KubeStub, RecordedRequest, StubResponse
from monitoring.api.status import Phase
from monitoring.operator.workload import WorkloadApplier
from monitoring.providers.metrics.static import StaticProvider
from monitoring.providers.workload import KubernetesWorkloads
from tests.monitoring.operator.conftest import (
    ERRORS,
    HEALTHY,
    ROLLOUT_PATH,
    ROUTE_PATH,
    Cluster,
    route_patch,
)
from tests.monitoring.operator.workload_cluster import (
    CANARY_PATH,
    REF,
    SCALE_DOWN,
    SCALE_UP,
    STABLE_PATH,
    V1,
    V2,
    Deployments,
    run_pass,
    status,
    workload_cluster,
    workload_reconciler,
    writes,
)

SMP = "application/strategic-merge-patch+json"
ACTION_REMOVAL = [
    {"op": "test", "path": "/metadata/annotations/canaria.dev~1action", "value": "rollback"},
    {"op": "remove", "path": "/metadata/annotations/canaria.dev~1action"},
]
STABLE_TO_V2 = {"spec": {"template": {"spec": {"containers": [{"name": "model", "image": V2}]}}}}


@pytest.fixture
def world() -> Iterator[tuple[Cluster, Deployments]]:
    with KubeStub() as kube:
        yield workload_cluster(kube, StaticProvider(values=HEALTHY))


def start_and_get_ready(cluster: Cluster, deployments: Deployments) -> None:
    run_pass(cluster)
    deployments.settle(CANARY_PATH)
    run_pass(cluster)
    assert status(cluster).canary_weight == 10


def test_start_scales_the_canary_and_moves_no_traffic_until_it_is_ready(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    run_pass(cluster)
    # Reads first (rollout, both Deployments, the route: already all on the stable), then
    # the status, the Event, and the scale.
    assert [(r.method, r.path) for r in cluster.kube.requests] == [
        ("GET", ROLLOUT_PATH),
        ("GET", STABLE_PATH),
        ("GET", CANARY_PATH),
        ("GET", ROUTE_PATH),
        ("PATCH", ROLLOUT_PATH + "/status"),
        ("POST", "/api/v1/namespaces/ml/events"),
        ("PATCH", CANARY_PATH),
    ]
    assert writes(cluster.kube) == [
        ("PATCH", "status", "Progressing"),
        ("POST", "event", "AnalysisStarted"),
        ("PATCH", "canary", SCALE_UP),
    ]
    assert cluster.requests("PATCH", CANARY_PATH)[0].content_type == SMP
    first = status(cluster)
    assert first.canary_weight == 0 and first.next_analysis_time is None
    assert first.workload is not None and not first.workload.canary_ready
    assert "waiting for it to be ready (at most 120s)" in first.message

    # Scaled but not ready: only reads, whatever the clock says.
    cluster.clock.advance(60)
    run_pass(cluster)
    assert writes(cluster.kube) == []

    deployments.settle(CANARY_PATH)
    run_pass(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(90, 10)),
        ("PATCH", "status", "="),
        ("POST", "event", "CanaryReady"),
    ]
    ready = status(cluster)
    assert ready.workload is not None and ready.workload.canary_ready
    conditions = {c.type: c.status for c in ready.conditions}
    assert conditions["WorkloadReady"] == "True"


def test_each_step_moves_traffic_only_then_promotion_updates_the_stable(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    start_and_get_ready(cluster, deployments)

    cluster.clock.advance(30)
    run_pass(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(50, 50)),
        ("PATCH", "status", "="),
        ("POST", "event", "StepAdvanced"),
    ]

    # Last step passed: all traffic to the candidate, then the stable gets its image.
    cluster.clock.advance(30)
    run_pass(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(0, 100)),
        ("PATCH", "status", "Promoting"),
        ("POST", "event", "Promoting"),
        ("PATCH", "stable", STABLE_TO_V2),
    ]
    assert cluster.requests("PATCH", STABLE_PATH)[0].content_type == SMP
    promoting = status(cluster).workload
    assert promoting is not None
    assert (promoting.stable_image, promoting.previous_stable_image) == (V2, V1)
    # The patch touched the model container only: the sidecar is as Helm rendered it.
    containers = deployments.objects[STABLE_PATH]["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == [V2, "ghcr.io/canaria/router:0.1.0"]

    # Rolling out: nothing to write, however long the analysis interval.
    cluster.clock.advance(60)
    run_pass(cluster)
    assert writes(cluster.kube) == []
    assert status(cluster).phase is Phase.PROMOTING

    deployments.settle(STABLE_PATH)
    run_pass(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(100, 0)),
        ("PATCH", "status", "Succeeded"),
        ("POST", "event", "Promoted"),
        ("PATCH", "canary", SCALE_DOWN),
    ]
    done = status(cluster)
    assert done.stable_model is not None and done.stable_model.bento_tag == "churn-classifier:v2"
    assert deployments.image(STABLE_PATH) == V2

    # Succeeded: passes send nothing while the canary stays at 0.
    run_pass(cluster)
    assert writes(cluster.kube) == []


def test_rollback_moves_traffic_first_then_scales_the_canary_and_leaves_the_stable(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    start_and_get_ready(cluster, deployments)
    for check, value in ERRORS.items():
        cluster.metrics_values.set(check, value)

    cluster.clock.advance(30)
    run_pass(cluster)  # failed (1) <= failureLimit (1): hold
    assert writes(cluster.kube) == [
        ("PATCH", "status", "="),
        ("POST", "event", "AnalysisFailed"),
    ]
    cluster.clock.advance(30)
    run_pass(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(100, 0)),
        ("PATCH", "status", "Failed"),
        ("POST", "event", "RolledBack"),
        ("PATCH", "canary", SCALE_DOWN),
    ]
    assert deployments.image(STABLE_PATH) == V1
    assert cluster.requests("PATCH", STABLE_PATH) == []


def test_a_restarted_operator_resumes_a_promotion_the_stable_already_runs(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    start_and_get_ready(cluster, deployments)
    cluster.clock.advance(30)
    run_pass(cluster)
    cluster.clock.advance(30)
    run_pass(cluster)  # promoting; the stable patched, rolling out
    assert status(cluster).phase is Phase.PROMOTING

    # A new operator process: nothing in memory, everything from the status and the world.
    cluster.reconciler = workload_reconciler(cluster.kube, cluster.clock, cluster.metrics_values)
    cluster.kube.clear()
    cluster.reconciler.reconcile(REF)
    # The stable already runs the candidate: no second patch; the route, read back, is
    # already all on the candidate: nothing to write.
    assert [(r.method, r.path) for r in cluster.kube.requests] == [
        ("GET", ROLLOUT_PATH),
        ("GET", STABLE_PATH),
        ("GET", CANARY_PATH),
        ("GET", ROUTE_PATH),
    ]

    deployments.settle(STABLE_PATH)
    run_pass(cluster)
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(100, 0)),
        ("PATCH", "status", "Succeeded"),
        ("POST", "event", "Promoted"),
        ("PATCH", "canary", SCALE_DOWN),
    ]


def test_resume_before_the_stable_patch_went_out_sends_it(
    world: tuple[Cluster, Deployments],
) -> None:
    """A crash after the status said Promoting but before the patch: the next pass sends it."""
    cluster, deployments = world
    start_and_get_ready(cluster, deployments)
    cluster.clock.advance(30)
    run_pass(cluster)
    cluster.clock.advance(30)
    run_pass(cluster)
    deployments.objects[STABLE_PATH] = _stable_on(V1)  # as if the patch never arrived
    run_pass(cluster)
    assert writes(cluster.kube) == [("PATCH", "stable", STABLE_TO_V2)]


def test_idle_keeps_the_canary_at_zero_every_pass(world: tuple[Cluster, Deployments]) -> None:
    cluster, deployments = world
    cluster.edit(lambda obj: obj["spec"]["target"].update(canary=obj["spec"]["target"]["stable"]))
    run_pass(cluster)
    assert status(cluster).phase is Phase.IDLE
    deployments.objects[CANARY_PATH]["spec"]["replicas"] = 3  # someone scaled it up
    cluster.reconciler.workloads.resync_seconds = 0
    run_pass(cluster)
    assert writes(cluster.kube) == [("PATCH", "canary", SCALE_DOWN)]


def _stable_on(image: str) -> dict[str, Any]:
    from tests.monitoring.operator.workload_cluster import deployment

    return deployment("churn-stable", image, 3)


def test_with_the_canaria_router_promotion_never_calls_admin_promote(
    world: tuple[Cluster, Deployments], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stable Deployment runs the candidate after the promotion, so the router keeps its
    upstreams (stable Service, canary Service) and only gets its weight back to 0."""
    cluster, deployments = world
    kube = cluster.kube
    monkeypatch.setenv("CANARIA_ROUTER_ADMIN_TOKEN", "secret-token")
    router = {"adminUrl": kube.url, "tokenEnv": "CANARIA_ROUTER_ADMIN_TOKEN"}
    cluster.edit(
        lambda obj: obj["spec"].update(trafficProvider={"name": "router", "router": router})
    )
    routes = {"body": routes_body(Routes(canary_weight=0))}  # what the router holds

    def put_routes(request: RecordedRequest) -> StubResponse:
        routes["body"] = request.body
        return StubResponse(body=request.body)

    kube.on("GET", ROUTES_PATH, lambda request: StubResponse(body=routes["body"]))
    kube.on("PUT", ROUTES_PATH, put_routes)
    kube.on("POST", PROMOTE_PATH, StubResponse(body={}))
    start_and_get_ready(cluster, deployments)
    cluster.clock.advance(30)
    run_pass(cluster)
    cluster.clock.advance(30)
    run_pass(cluster)  # promoting: stable patched
    deployments.settle(STABLE_PATH)
    run_pass(cluster)
    assert writes(kube) == [
        ("PUT", ROUTES_PATH, routes_body(Routes(canary_weight=0))),
        ("PATCH", "status", "Succeeded"),
        ("POST", "event", "Promoted"),
        ("PATCH", "canary", SCALE_DOWN),
    ]
    assert status(cluster).phase is Phase.SUCCEEDED
    assert kube.requests_matching("POST", PROMOTE_PATH) == []


def test_a_rollback_during_the_promotion_puts_the_stable_image_back(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    start_and_get_ready(cluster, deployments)
    cluster.clock.advance(30)
    run_pass(cluster)
    cluster.clock.advance(30)
    run_pass(cluster)  # promoting: the stable is rolling out v2
    cluster.edit(
        lambda obj: (
            obj["metadata"].setdefault("annotations", {}).update({"canaria.dev/action": "rollback"})
        )
    )
    run_pass(cluster)
    stable_back = {"spec": {"template": {"spec": {"containers": [{"name": "model", "image": V1}]}}}}
    assert writes(cluster.kube) == [
        ("PATCH", "route", route_patch(100, 0)),
        ("PATCH", "status", "RolledBack"),
        ("PATCH", "rollout", ACTION_REMOVAL),
        ("POST", "event", "RolledBack"),
        ("PATCH", "stable", stable_back),
        ("PATCH", "canary", SCALE_DOWN),
    ]
    assert deployments.image(STABLE_PATH) == V1


def test_the_timer_looks_every_tick_while_waiting_and_every_resync_otherwise(
    world: tuple[Cluster, Deployments],
) -> None:
    cluster, deployments = world
    reconciler = cluster.reconciler
    now = [1000.0]
    reconciler.workloads = WorkloadApplier(
        KubernetesWorkloads(api_client=cluster.kube.api_client()), monotonic=lambda: now[0]
    )
    run_pass(cluster)  # started: waiting for the canary
    assert reconciler.needs_reconcile(cluster.rollout)  # every tick while waiting
    cluster.edit(lambda obj: obj["spec"]["target"].update(canary=obj["spec"]["target"]["stable"]))
    run_pass(cluster)  # idle now
    assert not reconciler.needs_reconcile(cluster.rollout)
    now[0] += reconciler.workloads.resync_seconds
    assert reconciler.needs_reconcile(cluster.rollout)  # a resync re-asserts the canary at 0
    assert deployments.objects[CANARY_PATH]["spec"]["replicas"] == 0
