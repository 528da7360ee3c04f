"""Helm and the operator never fight: a second ``helm upgrade`` with the same values, after
the operator moved its fields, changes nothing the operator set.

The chart is rendered by a real helm (3 and 4) with ``--dry-run=server`` against the
Kubernetes stub (canaria/testing/kube_stub.py answering discovery and GETs, as an API server
would for ``lookup``): once on an empty cluster (the install), then again with the same
values after a simulated operator pass changed the live objects. Between the two renders
only operator-owned fields may differ, and there they must equal the live values; so
Helm 3's three-way merge (patch = what changed between the two renders) leaves the live
objects exactly as the operator left them, and Helm 4's server-side apply sends only values
equal to the live ones (co-ownership, no conflict). The canary's replicas are never rendered.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from canaria.testing.kube_stub import KubeStub, StubResponse
from tests.charts.helm import APP_CHART, find, render

pytestmark = pytest.mark.slow  # runs a real helm against the stub API server

NAMESPACE = "ml"
RESOURCES = {
    "v1": [
        ("services", "Service"),
        ("configmaps", "ConfigMap"),
        ("secrets", "Secret"),
        ("serviceaccounts", "ServiceAccount"),
    ],
    "apps/v1": [("deployments", "Deployment")],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget")],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy")],
    "rbac.authorization.k8s.io/v1": [("roles", "Role"), ("rolebindings", "RoleBinding")],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
    "gateway.networking.k8s.io/v1": [("httproutes", "HTTPRoute")],
    "monitoring.coreos.com/v1": [
        ("servicemonitors", "ServiceMonitor"),
        ("prometheusrules", "PrometheusRule"),
    ],
    "canaria.dev/v1alpha1": [("modelrollouts", "ModelRollout")],
}
# What the operator owns (README "Who owns what"), as paths in the rendered objects.
OPERATOR_OWNED = {
    ("Deployment", "churn-stable"): ["spec.template.spec.containers.0.image"],
    ("Deployment", "churn-canary"): ["spec.replicas"],
    ("HTTPRoute", "churn"): [
        "spec.rules.0.backendRefs.0.weight",
        "spec.rules.0.backendRefs.1.weight",
    ],
}
VALUES = {"traffic": {"provider": "gatewayapi"}, "canary": {"bentoTag": "churn-classifier:v2"}}


def _base(group_version: str) -> str:
    return f"/api/{group_version}" if group_version == "v1" else f"/apis/{group_version}"


def serve_discovery(kube: KubeStub) -> None:
    """The discovery documents helm reads before it maps kinds to resources."""
    kube.on(
        "GET", "/version", StubResponse(body={"major": "1", "minor": "31", "gitVersion": "v1.31.0"})
    )
    kube.on("GET", "/api", StubResponse(body={"kind": "APIVersions", "versions": ["v1"]}))
    groups = []
    for group_version in RESOURCES:
        if group_version == "v1":
            continue
        group, version = group_version.split("/")
        preferred = {"groupVersion": group_version, "version": version}
        groups.append({"name": group, "versions": [preferred], "preferredVersion": preferred})
    kube.on(
        "GET",
        "/apis",
        StubResponse(body={"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
    for group_version, resources in RESOURCES.items():
        listed = [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": True,
                "kind": kind,
                "verbs": ["get", "list", "watch", "patch"],
            }
            for plural, kind in resources
        ]
        kube.on(
            "GET",
            re.escape(_base(group_version)),
            StubResponse(
                body={"kind": "APIResourceList", "groupVersion": group_version, "resources": listed}
            ),
        )


def serve_live(kube: KubeStub, objects: list[dict[str, Any]]) -> None:
    """GET of each object answers it (anything else: the stub's 404 NotFound)."""
    plurals = {kind: plural for rs in RESOURCES.values() for plural, kind in rs}
    for obj in objects:
        path = (
            f"{_base(obj['apiVersion'])}/namespaces/{NAMESPACE}/"
            f"{plurals[obj['kind']]}/{obj['metadata']['name']}"
        )
        kube.on("GET", re.escape(path), StubResponse(body=obj))


def render_against(helm: Path, tmp_path: Path, live: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with KubeStub() as kube:
        serve_discovery(kube)
        serve_live(kube, live)
        config = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
        extra = ("--dry-run=server", "--disable-openapi-validation", "--kubeconfig", str(config))
        return render(helm, APP_CHART, VALUES, tmp_path=tmp_path, extra=extra)


def leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{prefix}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), node


def at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj.get(part)
        if obj is None:
            return None
    return obj


def put(obj: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj[int(part)] if isinstance(obj, list) else obj.setdefault(part, {})
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


def three_way(last: dict[str, Any], new: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """Helm 3's client-side upgrade, leaf by leaf: what changed between the last and the
    new render is written to the live object; everything else stays as it is live."""
    result = copy.deepcopy(live)
    old = dict(leaves(last))
    for path, value in leaves(new):
        if old.get(path) != value:
            put(result, path, value)
    return result


def operator_pass(installed: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    """The live objects after the operator's moves: mid-rollout (canary scaled up, 30% of
    the traffic) or promoted (stable runs the candidate, canary scaled to 0, 100/0)."""
    live = copy.deepcopy(installed)
    for obj in live:  # what a real helm install writes on each object it owns
        obj["metadata"].setdefault("annotations", {}).update(
            {"meta.helm.sh/release-name": "churn", "meta.helm.sh/release-namespace": NAMESPACE}
        )
    stable = find(live, "Deployment", "churn-stable")
    canary = find(live, "Deployment", "churn-canary")
    route = find(live, "HTTPRoute")
    backends = route["spec"]["rules"][0]["backendRefs"]
    if state == "mid-rollout":
        canary["spec"]["replicas"] = 3
        backends[0]["weight"], backends[1]["weight"] = 70, 30
    else:
        candidate = canary["spec"]["template"]["spec"]["containers"][0]["image"]
        stable["spec"]["template"]["spec"]["containers"][0]["image"] = candidate
        canary["spec"]["replicas"] = 0
        backends[0]["weight"], backends[1]["weight"] = 100, 0
    return live


@pytest.mark.parametrize("state", ["mid-rollout", "promoted"])
def test_a_second_upgrade_changes_nothing_the_operator_set(
    helm: Path, tmp_path: Path, state: str
) -> None:
    installed = render_against(helm, tmp_path, live=[])
    canary = find(installed, "Deployment", "churn-canary")
    assert "replicas" not in canary["spec"]
    stable = find(installed, "Deployment", "churn-stable")
    assert stable["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v1")

    live = operator_pass(installed, state)
    upgraded = render_against(helm, tmp_path, live=live)

    assert len(upgraded) == len(installed)
    for last, new in zip(installed, upgraded, strict=True):
        key = (new["kind"], new["metadata"]["name"])
        owned = OPERATOR_OWNED.get(key, [])
        changed = {p for p, v in leaves(new) if dict(leaves(last)).get(p) != v}
        current = find(live, *key)
        current = {**current, "metadata": {**current["metadata"], "annotations": None}}
        assert changed <= set(owned), f"{key}: Helm would change {changed - set(owned)}"
        for path in owned:
            if at(new, path) is not None:  # rendered: it must be the live value
                assert at(new, path) == at(current, path), f"{key} {path}"
        assert three_way(last, new, current) == current, f"{key}: the upgrade moved it"
    assert "replicas" not in find(upgraded, "Deployment", "churn-canary")["spec"]
    # The desired versions stay Helm's: the rollout spec is the values', not the cluster's.
    rollout = find(upgraded, "ModelRollout")
    assert rollout == find(installed, "ModelRollout")


def test_without_a_cluster_two_renders_are_identical(helm: Path, tmp_path: Path) -> None:
    first = render(helm, APP_CHART, VALUES, tmp_path=tmp_path)
    assert render(helm, APP_CHART, VALUES, tmp_path=tmp_path) == first


def test_workloads_left_to_helm_render_replicas_and_never_read_the_cluster(
    helm4: Path, tmp_path: Path
) -> None:
    """rollout.workload.manage=false: Helm owns everything, so the render is the values'."""
    values = {**VALUES, "rollout": {"workload": {"manage": False, "readinessTimeout": "10m"}}}
    docs = render(helm4, APP_CHART, values, tmp_path=tmp_path)
    assert find(docs, "Deployment", "churn-canary")["spec"]["replicas"] == 1
    assert "workload" not in find(docs, "ModelRollout")["spec"]
    idle = {"rollout": values["rollout"]}  # no candidate: Helm keeps the canary at 0
    docs = render(helm4, APP_CHART, idle, tmp_path=tmp_path)
    assert find(docs, "Deployment", "churn-canary")["spec"]["replicas"] == 0
