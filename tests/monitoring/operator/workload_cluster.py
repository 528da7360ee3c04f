"""The stub API server holding a ModelRollout with ``spec.workload``, its HTTPRoute and its
two Deployments, with a hand-driven Deployment controller: a patch changes the spec (and
the generation), ``settle`` makes the status catch up, as the controller and the kubelet
would. The reconciler under test uses the real ``kubernetes`` client for everything."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from canaria.testing.kube_stub import KubeStub, RecordedRequest, StubResponse
from monitoring.api.status import RolloutStatus
from monitoring.operator.events import RolloutRef
from monitoring.operator.reconcile import Reconciler, ReconcileResult
from monitoring.operator.workload import WorkloadApplier
from monitoring.providers.workload import KubernetesWorkloads
from tests.monitoring.operator.conftest import (
    ROLLOUT_PATH,
    ROUTE_PATH,
    Cluster,
    FakeClock,
    make_reconciler,
    rollout_object,
)

DEPLOYMENTS = "/apis/apps/v1/namespaces/ml/deployments/"
STABLE_PATH = DEPLOYMENTS + "churn-stable"
CANARY_PATH = DEPLOYMENTS + "churn-canary"
V1 = "ghcr.io/canaria/churn-classifier:v1"
V2 = "ghcr.io/canaria/churn-classifier:v2"
SIDECAR = {"name": "shadow-sidecar", "image": "ghcr.io/canaria/router:0.1.0"}
WORKLOAD = {
    "stable": "churn-stable",
    "canary": "churn-canary",
    "canaryReplicas": 2,
    "readinessTimeout": "2m",
}


def workload_rollout(**analysis: Any) -> dict[str, Any]:
    obj = rollout_object(**analysis)
    obj["spec"]["workload"] = dict(WORKLOAD)
    return obj


def deployment(name: str, image: str, replicas: int) -> dict[str, Any]:
    """A Deployment as the API server returns it, fully rolled out."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ml", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "model", "image": image}, SIDECAR]},
            },
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        },
    }


def strategic_merge(obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The two shapes the operator sends: ``spec.replicas``, and containers by name."""
    result = copy.deepcopy(obj)
    spec = patch.get("spec") or {}
    if "replicas" in spec:
        result["spec"]["replicas"] = spec["replicas"]
    for container in ((spec.get("template") or {}).get("spec") or {}).get("containers", []):
        live = result["spec"]["template"]["spec"]["containers"]
        (match,) = [c for c in live if c["name"] == container["name"]]
        match.update(container)
    if result["spec"] != obj["spec"]:
        result["metadata"]["generation"] += 1
    return result


@dataclass
class Deployments:
    """Both Deployments, stored by path."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def serve(self, kube: KubeStub) -> None:
        for path in (STABLE_PATH, CANARY_PATH):
            kube.on("GET", path, self._get)
            kube.on("PATCH", path, self._patch)

    def _get(self, request: RecordedRequest) -> StubResponse:
        return StubResponse(body=self.objects[request.path])

    def _patch(self, request: RecordedRequest) -> StubResponse:
        self.objects[request.path] = strategic_merge(self.objects[request.path], request.body)
        return StubResponse(body=self.objects[request.path])

    def settle(self, path: str) -> None:
        """The controller and the kubelet catch up: every pod updated, ready, available."""
        obj = self.objects[path]
        replicas = obj["spec"]["replicas"]
        obj["status"] = {
            "observedGeneration": obj["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }

    def image(self, path: str) -> str:
        return str(self.objects[path]["spec"]["template"]["spec"]["containers"][0]["image"])


def workload_reconciler(kube: KubeStub, clock: FakeClock, provider: Any) -> Reconciler:
    """A fresh reconciler (a new operator process) moving Deployments through the stub."""
    reconciler = make_reconciler(kube, clock, provider)
    reconciler.workloads = WorkloadApplier(KubernetesWorkloads(api_client=kube.api_client()))
    return reconciler


def workload_cluster(kube: KubeStub, provider: Any) -> tuple[Cluster, Deployments]:
    """A ``Cluster`` (tests/monitoring/operator/conftest.py) whose rollout has a workload,
    with its Deployments: the stable on v1 (3 replicas), the canary on v2 at 0."""
    clock = FakeClock()
    reconciler = workload_reconciler(kube, clock, provider)
    cluster = Cluster(
        kube=kube,
        clock=clock,
        metrics_values=provider,
        reconciler=reconciler,
        rollout=workload_rollout(),
    )
    cluster.serve()
    deployments = Deployments(
        {
            STABLE_PATH: deployment("churn-stable", V1, 3),
            CANARY_PATH: deployment("churn-canary", V2, 0),
        }
    )
    deployments.serve(kube)
    return cluster, deployments


def writes(kube: KubeStub) -> list[tuple[str, str, Any]]:
    """Every write the operator sent, in order: (method, what, body); reads left out. An
    Event is summarised by its reason, a status patch by the phase it sets ("=": none)."""
    names = {
        ROUTE_PATH: "route",
        ROLLOUT_PATH + "/status": "status",
        ROLLOUT_PATH: "rollout",
        STABLE_PATH: "stable",
        CANARY_PATH: "canary",
        "/api/v1/namespaces/ml/events": "event",
    }
    result = []
    for request in kube.requests:
        if request.method == "GET":
            continue
        what = names.get(request.path, request.path)
        body = request.body
        if what == "event":
            body = body["reason"]
        elif what == "status":
            body = body["status"].get("phase", "=")  # "=": the phase did not change
        result.append((request.method, what, body))
    return result


REF = RolloutRef(namespace="ml", name="churn", uid="uid-1")
SCALE_UP = {"spec": {"replicas": 2}}
SCALE_DOWN = {"spec": {"replicas": 0}}


def run_pass(cluster: Cluster) -> ReconcileResult:
    """One reconcile of ``REF`` with the stub's request log cleared first; it must succeed."""
    cluster.kube.clear()
    result = cluster.reconciler.reconcile(REF)
    assert result.error is None, result.error
    return result


def status(cluster: Cluster) -> RolloutStatus:
    return RolloutStatus.from_dict(cluster.rollout.get("status"))
