"""The operator's Deployment and RBAC: valid Kubernetes objects, locked down, least privilege."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from canaria.cli import build_parser
from monitoring.notify.defaults import CONFIG_MAP_NAME, parse_defaults, parse_local_file

OPERATOR_DIR = Path(__file__).resolve().parents[2] / "k8s" / "operator"
RBAC_EXAMPLES = OPERATOR_DIR.parent / "examples" / "rbac"
KUBERNETES_VERSION = "1.31.0"


def documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(OPERATOR_DIR.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def by_kind(kind: str) -> dict[str, Any]:
    (doc,) = [doc for doc in documents() if doc["kind"] == kind]
    return doc


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_object_is_valid(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_file() -> None:
    listed = yaml.safe_load((OPERATOR_DIR / "kustomization.yaml").read_text())["resources"]
    files = {p.name for p in OPERATOR_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == files | {"../crds"}
    crds = OPERATOR_DIR.parent / "crds"
    assert yaml.safe_load((crds / "kustomization.yaml").read_text())["resources"] == [
        "modelrollout.yaml"
    ]


def test_the_container_is_locked_down() -> None:
    pod = by_kind("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert "add" not in security["capabilities"]
    assert container["resources"]["limits"]


def test_the_deployment_runs_a_command_the_cli_accepts() -> None:
    deployment = by_kind("Deployment")
    assert deployment["spec"]["replicas"] == 1  # kopf standalone: never two at once
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    program, *args = container["args"]
    assert program == "canaria"
    parsed = build_parser().parse_args(args)
    assert parsed.command == "operator" and parsed.metrics_port == 9108
    assert parsed.metrics_host == "0.0.0.0"  # Prometheus scrapes the pod's IP
    assert parsed.local is None


def test_rbac_grants_only_what_the_operator_uses() -> None:
    rules = {
        (group, resource): sorted(rule["verbs"])
        for rule in by_kind("ClusterRole")["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    named = {
        resource: rule["resourceNames"]
        for rule in by_kind("ClusterRole")["rules"]
        for resource in rule["resources"]
        if "resourceNames" in rule
    }
    assert named == {"configmaps": ["canaria-notifications"]}  # that one name, get only
    assert rules == {
        ("canaria.dev", "modelrollouts"): ["get", "list", "patch", "watch"],
        ("canaria.dev", "modelrollouts/status"): ["get", "patch"],
        ("", "events"): ["create"],
        ("gateway.networking.k8s.io", "httproutes"): ["get", "patch"],
        ("discovery.k8s.io", "endpointslices"): ["list"],
        # spec.retrain: create the Job, read its status, list its pods for the result.
        ("batch", "jobs"): ["create"],
        ("batch", "jobs/status"): ["get"],
        ("", "pods"): ["list"],
        ("apps", "deployments"): ["get", "patch"],
        ("", "configmaps"): ["get"],
    }
    binding = by_kind("ClusterRoleBinding")
    account = by_kind("ServiceAccount")
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]


@pytest.mark.parametrize(
    ("file", "resource", "name", "verbs"),
    [
        ("router-admin-token.yaml", "secrets", "churn-router-admin", ["get"]),
        ("router-config-map.yaml", "configmaps", "support-lm-router", ["get", "patch"]),
        ("notification-secret.yaml", "secrets", "churn-alerts", ["get"]),
    ],
    ids=["adminTokenSecretRef", "configMap", "notifications"],
)
def test_router_objects_are_granted_one_by_one_per_namespace(
    file: str, resource: str, name: str, verbs: list[str]
) -> None:
    """What the ClusterRole leaves out, a Role grants: one named object, one namespace."""
    text = (RBAC_EXAMPLES / file).read_text()
    role, binding = [doc for doc in yaml.safe_load_all(text) if doc]
    for doc in (role, binding):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert role["kind"] == "Role" and binding["kind"] == "RoleBinding"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": [resource], "resourceNames": [name], "verbs": verbs}
    ]
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    account = by_kind("ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]


def test_the_namespace_notifications_example_is_a_valid_configmap_the_operator_reads() -> None:
    """``k8s/examples/notifications/canaria-notifications.yaml``: a valid ConfigMap of the
    one name the ClusterRole grants, whose providers the operator's parser accepts."""
    path = OPERATOR_DIR.parent / "examples" / "notifications" / f"{CONFIG_MAP_NAME}.yaml"
    doc = yaml.safe_load(path.read_text())
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert doc["metadata"]["name"] == CONFIG_MAP_NAME
    entries = parse_defaults(doc["data"])
    assert [(e.provider, e.secret_name) for e in entries] == [
        ("slack", "ml-slack"),
        ("webhook", "churn-alerts"),
        ("teams", "ml-teams"),
    ]
    assert parse_local_file(doc) == entries  # local mode reads the same manifest
