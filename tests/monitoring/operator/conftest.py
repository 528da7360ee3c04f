"""A ModelRollout and its HTTPRoute served by the Kubernetes stub, and a reconciler wired
to them through the real ``kubernetes`` client, with a fake clock and fixed metrics."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from canaria.testing.kube_stub import KubeStub, RecordedRequest, StubResponse, status_response
from monitoring.operator.events import KubeEventRecorder
from monitoring.operator.kube_store import KubeRolloutStore
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.patches import apply_merge_patch
from monitoring.operator.reconcile import Reconciler
from monitoring.providers.metrics.static import StaticProvider

ROLLOUT_PATH = "/apis/canaria.dev/v1alpha1/namespaces/ml/modelrollouts/churn"
ROUTE_PATH = "/apis/gateway.networking.k8s.io/v1/namespaces/ml/httproutes/churn"
EVENTS_PATH = "/api/v1/namespaces/ml/events"
START = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
HEALTHY = {"requestSuccessRate": 1.0, "latencyP99": 0.1}
ERRORS = {"requestSuccessRate": 0.5, "latencyP99": 0.1}


def rollout_object(**analysis: Any) -> dict[str, Any]:
    return {
        "apiVersion": "canaria.dev/v1alpha1",
        "kind": "ModelRollout",
        "metadata": {
            "name": "churn",
            "namespace": "ml",
            "uid": "uid-1",
            "generation": 1,
            "resourceVersion": "100",
        },
        "spec": {
            "target": {
                "stable": {"bentoTag": "churn-classifier:v1"},
                "canary": {"bentoTag": "churn-classifier:v2"},
            },
            "trafficProvider": {
                "name": "gatewayapi",
                "httpRoute": {
                    "name": "churn",
                    "stableBackend": "churn-stable",
                    "canaryBackend": "churn-canary",
                },
            },
            "metricsProvider": {"name": "prometheus", "address": "http://prometheus:9090"},
            "analysis": {
                "interval": "30s",
                "stepWeights": [10, 50],
                "failureLimit": 1,
                "checks": [
                    {"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99},
                    {"name": "latency-p99", "builtin": "latencyP99", "max": 0.5},
                ],
                **analysis,
            },
        },
    }


def route_object() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "churn", "namespace": "ml", "resourceVersion": "7"},
        "spec": {
            "parentRefs": [{"name": "gateway"}],
            "rules": [
                {
                    "backendRefs": [
                        {"name": "churn-stable", "port": 3000, "weight": 100},
                        {"name": "churn-canary", "port": 3000, "weight": 0},
                    ]
                }
            ],
        },
    }


def route_patch(stable: int, canary: int) -> dict[str, Any]:
    """The exact merge patch the gatewayapi router sends for a weight."""
    return {
        "metadata": {"resourceVersion": "7"},
        "spec": {
            "rules": [
                {
                    "backendRefs": [
                        {"name": "churn-stable", "port": 3000, "weight": stable},
                        {"name": "churn-canary", "port": 3000, "weight": canary},
                    ]
                }
            ]
        },
    }


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _json_patch(target: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """The operations the operator (test, remove) and kopf (test, add) send."""
    result = copy.deepcopy(target)
    for op in operations:
        parts = op["path"][1:].split("/")
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in parts]
        holder = result
        for part in parents:
            holder = holder[part]
        if op["op"] == "test" and holder.get(last) != op["value"]:
            raise ValueError("test failed")
        if op["op"] == "remove":
            del holder[last]
        if op["op"] in ("add", "replace"):
            holder[last] = op["value"]
    return result


@dataclass
class Cluster:
    """The stub API server holding one ModelRollout (with a status subresource) and one
    HTTPRoute, and the reconciler under test."""

    kube: KubeStub
    clock: FakeClock
    metrics_values: StaticProvider
    reconciler: Reconciler
    rollout: dict[str, Any] = field(default_factory=rollout_object)
    route: Any = None
    resource_version: int = 100

    def serve(self) -> None:
        self.kube.on("GET", ROLLOUT_PATH, self._get)
        self.kube.on("PATCH", ROLLOUT_PATH, self._patch)
        self.kube.on("PATCH", ROLLOUT_PATH + "/status", self._patch_status)
        self.kube.on("POST", EVENTS_PATH, lambda r: StubResponse(status=201, body=r.body))
        self.route = self.kube.serve_object(ROUTE_PATH, route_object())

    def _bump(self) -> None:
        self.resource_version += 1
        self.rollout["metadata"]["resourceVersion"] = str(self.resource_version)

    def _get(self, request: RecordedRequest) -> StubResponse:
        return StubResponse(body=self.rollout)

    def _patch(self, request: RecordedRequest) -> StubResponse:
        if request.content_type == "application/json-patch+json":
            try:
                self.rollout = _json_patch(self.rollout, request.body)
            except (KeyError, ValueError):
                return status_response(422, "Invalid", "the test operation failed")
        else:
            self.rollout = apply_merge_patch(self.rollout, request.body)
        self._bump()
        return StubResponse(body=self.rollout)

    def _patch_status(self, request: RecordedRequest) -> StubResponse:
        self.rollout["status"] = apply_merge_patch(
            self.rollout.get("status") or {}, request.body["status"]
        )
        self._bump()
        return StubResponse(body=self.rollout)

    # --- what tests do -------------------------------------------------------------------

    def edit(self, change: Any) -> None:
        """A person's edit: ``change(rollout)``; a spec change bumps the generation."""
        before = copy.deepcopy(self.rollout["spec"])
        change(self.rollout)
        if self.rollout["spec"] != before:
            self.rollout["metadata"]["generation"] += 1
        self._bump()

    def requests(self, method: str, path: str) -> list[RecordedRequest]:
        return self.kube.requests_matching(method, path)

    def events(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests("POST", EVENTS_PATH)]

    def reasons(self) -> list[str]:
        return [e["reason"] for e in self.events()]


def make_reconciler(kube: KubeStub, clock: FakeClock, provider: StaticProvider) -> Reconciler:
    from kubernetes.client import CoreV1Api

    api = kube.api_client()
    return Reconciler(
        store=KubeRolloutStore(api),
        events=KubeEventRecorder(CoreV1Api(api), instance="canaria-operator-0"),
        providers=ProviderCache(
            traffic_settings={"gatewayapi": {"api_client": api}},
            metrics_factory=lambda name, settings: provider,
        ),
        metrics=OperatorMetrics(),
        clock=clock,
    )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with KubeStub() as kube:
        clock = FakeClock()
        provider = StaticProvider(values=HEALTHY)
        state = Cluster(
            kube=kube,
            clock=clock,
            metrics_values=provider,
            reconciler=make_reconciler(kube, clock, provider),
        )
        state.serve()
        yield state
