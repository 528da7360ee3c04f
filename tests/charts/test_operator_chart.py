"""The operator chart: least-privilege RBAC for every namespace or a listed few, and the
images ``canaria build`` makes."""

from __future__ import annotations

from typing import Any

import pytest

from canaria.cli import build_parser
from tests.charts.helm import find
from tests.charts.scenarios import container

pytestmark = pytest.mark.slow  # runs a real helm


@pytest.mark.parametrize("name", ["operator", "operator-namespaced"])
def test_operator_rbac_is_least_privilege(rendered: dict[str, Any], name: str) -> None:
    docs = rendered[name]
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role")]
    assert roles
    for role in roles:
        granted = {
            (group, resource): sorted(rule["verbs"])
            for rule in role["rules"]
            for group in rule["apiGroups"]
            for resource in rule["resources"]
        }
        assert granted == {
            ("canaria.dev", "modelrollouts"): ["get", "list", "patch", "watch"],
            ("canaria.dev", "modelrollouts/status"): ["get", "patch"],
            ("", "events"): ["create"],
            ("gateway.networking.k8s.io", "httproutes"): ["get", "patch"],
            ("discovery.k8s.io", "endpointslices"): ["list"],
            ("batch", "jobs"): ["create"],
            ("batch", "jobs/status"): ["get"],
            ("", "pods"): ["list"],
            ("apps", "deployments"): ["get", "patch"],
            ("", "configmaps"): ["get"],
        }
        (configmaps,) = [r for r in role["rules"] if r["resources"] == ["configmaps"]]
        assert configmaps["resourceNames"] == ["canaria-notifications"]  # no other ConfigMap
    deployment = find(docs, "Deployment")
    args = container(deployment, "operator")["args"]
    parsed = build_parser().parse_args(args[1:])  # args[0] is the program, canaria
    if name == "operator":
        assert parsed.namespace == [] and find(docs, "ClusterRoleBinding")  # every namespace
    else:
        assert sorted(r["metadata"]["namespace"] for r in roles) == ["ml", "ml-staging"]
        assert parsed.namespace == ["ml", "ml-staging"]


def test_the_operator_chart_names_the_image_canaria_build_makes(rendered: dict[str, Any]) -> None:
    from canaria.cli.images import IMAGES

    image = container(find(rendered["operator"], "Deployment"), "operator")["image"]
    assert image.rsplit(":", 1)[0] == IMAGES["operator"].repository()
    router = container(find(rendered["defaults"], "Deployment", "churn-router"), "router")
    assert router["image"].rsplit(":", 1)[0] == IMAGES["router"].repository()
