"""``canaria operator`` (kopf) as a real process against the Kubernetes stub: discovery,
the list and watch, kopf's own patches, and our handlers' requests, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from canaria.testing.kube_stub import RecordedRequest, StubResponse
from canaria.testing.running import free_port, running
from canaria.testing.wait import wait_until
from tests.monitoring.operator.conftest import (
    EVENTS_PATH,
    ROLLOUT_PATH,
    ROUTE_PATH,
    Cluster,
    route_patch,
)

pytestmark = pytest.mark.slow

LIST_PATH = "/apis/canaria.dev/v1alpha1/namespaces/ml/modelrollouts"


def _resources(group_version: str, *resources: dict[str, Any]) -> StubResponse:
    return StubResponse(
        body={"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}
    )


def _resource(name: str, kind: str, *, namespaced: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "singularName": kind.lower() if "/" not in name else "",
        "namespaced": namespaced,
        "kind": kind,
        "verbs": ["get", "list", "watch", "patch"],
    }


def _group(name: str, version: str) -> dict[str, Any]:
    entry = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [entry], "preferredVersion": entry}


def serve_discovery(cluster: Cluster) -> None:
    """What kopf reads before it watches: the API groups and their resources."""
    kube = cluster.kube
    kube.on("GET", "/api", StubResponse(body={"kind": "APIVersions", "versions": ["v1"]}))
    kube.on(
        "GET",
        "/api/v1",
        _resources(
            "v1",
            _resource("namespaces", "Namespace", namespaced=False),
            _resource("events", "Event"),
        ),
    )
    groups = [_group("apiextensions.k8s.io", "v1"), _group("canaria.dev", "v1alpha1")]
    kube.on("GET", "/apis", StubResponse(body={"kind": "APIGroupList", "groups": groups}))
    kube.on(
        "GET",
        "/apis/apiextensions.k8s.io/v1",
        _resources(
            "apiextensions.k8s.io/v1",
            _resource("customresourcedefinitions", "CustomResourceDefinition", namespaced=False),
        ),
    )
    kube.on(
        "GET",
        "/apis/canaria.dev/v1alpha1",
        _resources(
            "canaria.dev/v1alpha1",
            _resource("modelrollouts", "ModelRollout"),
            _resource("modelrollouts/status", "ModelRollout"),
        ),
    )

    def list_or_watch(request: RecordedRequest) -> StubResponse:
        if request.query.get("watch"):
            return StubResponse(stream=[], hold_open=60)
        items = [cluster.rollout]
        metadata = {"resourceVersion": cluster.rollout["metadata"]["resourceVersion"]}
        return StubResponse(body={"kind": "ModelRolloutList", "metadata": metadata, "items": items})

    kube.on("GET", LIST_PATH, list_or_watch)


def test_kopf_runs_the_handlers_against_the_api(cluster: Cluster, tmp_path: Path) -> None:
    serve_discovery(cluster)
    kubeconfig = cluster.kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="ml")
    metrics_port = free_port()
    args = ["canaria", "operator", "--kubeconfig", str(kubeconfig), "-n", "ml"]
    args += ["--metrics-port", str(metrics_port)]
    env = {"CANARIA_OPERATOR_TICK_SECONDS": "0.2"}
    with running(args, log_path=tmp_path / "operator.log", ready_path=None, env=env) as operator:
        wait_until(
            "the first decision",
            lambda: cluster.rollout.get("status", {}).get("phase") == "Progressing",
            timeout=60,
            poll=0.1,
            detail=lambda: operator.log()[-3000:],
        )
        assert [r.body for r in cluster.requests("PATCH", ROUTE_PATH)] == [route_patch(90, 10)]
        wait_until(
            "the event",
            lambda: "AnalysisStarted" in cluster.reasons(),
            timeout=60,
            poll=0.1,
            detail=lambda: operator.log()[-3000:],
        )
        # kopf's own bookkeeping: its finalizer, in our prefix, never in the status.
        assert "canaria.dev/operator" in cluster.rollout["metadata"].get("finalizers", [])
        assert "kopf" not in cluster.rollout["status"]

        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert 'canaria_rollout_phase{phase="Progressing",rollout="ml/churn"} 1.0' in metrics

        cluster.edit(
            lambda obj: (
                obj["metadata"]
                .setdefault("annotations", {})
                .update({"canaria.dev/action": "rollback"})
            )
        )
        wait_until(
            "the manual rollback",
            lambda: cluster.rollout["status"].get("phase") == "RolledBack",
            timeout=60,
            poll=0.1,
            detail=lambda: operator.log()[-3000:],
        )
        assert [r.body for r in cluster.requests("PATCH", ROUTE_PATH)][-1] == route_patch(100, 0)
        assert "canaria.dev/action" not in cluster.rollout["metadata"]["annotations"]
        wait_until(
            "the rollback event",
            lambda: "RolledBack" in cluster.reasons(),
            timeout=60,
            poll=0.1,
            detail=lambda: operator.log()[-3000:],
        )
    assert cluster.reasons().count("AnalysisStarted") == 1
    assert len(cluster.requests("POST", EVENTS_PATH)) == 2
    assert cluster.requests("PATCH", ROLLOUT_PATH + "/status")
