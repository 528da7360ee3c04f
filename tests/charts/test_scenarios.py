"""``helm template`` of both charts in twelve values scenarios, with Helm 3 and Helm 4:
the two render the same bytes, every object is valid (core kinds for Kubernetes 1.30 and
the newest kubernetes-validate knows; HTTPRoute, ServiceMonitor, PrometheusRule and
ModelRollout against their schemas), the ModelRollout passes the operator's own parser,
every router config passes the router's own parser, and each scenario has the objects and
settings it is about."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from monitoring.api.spec import parse_spec
from services.router.config import parse_yaml
from tests.charts.helm import (
    APP_CHART,
    find,
    kinds,
    validate,
)
from tests.charts.scenarios import SCENARIOS, container, pod

pytestmark = pytest.mark.slow  # runs a real helm


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_object_is_valid(rendered: dict[str, Any], name: str) -> None:
    docs = rendered[name]
    assert docs
    for doc in docs:
        validate(doc)
        if doc["kind"] == "ModelRollout":
            parse_spec(doc["spec"])
        if doc["kind"] == "ConfigMap" and "config.yaml" in doc["data"]:
            parse_yaml(doc["data"]["config.yaml"])


@pytest.mark.parametrize("name", [n for n, (chart, _) in SCENARIOS.items() if chart == APP_CHART])
def test_every_pod_is_locked_down(rendered: dict[str, Any], name: str) -> None:
    for doc in rendered[name]:
        if doc["kind"] != "Deployment":
            continue
        spec = pod(doc)
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in spec["containers"]:
            security = c["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert c["resources"]["limits"] and c["resources"]["requests"]
            assert "/tmp" in {m["mountPath"] for m in c["volumeMounts"]}
            for env in c.get("env", []):  # the admin token is a file, never a variable
                assert "TOKEN" not in env["name"]


def test_defaults(rendered: dict[str, Any]) -> None:
    docs = rendered["defaults"]
    assert kinds(docs) == [
        "ConfigMap/churn-router",
        "Deployment/churn-canary",
        "Deployment/churn-router",
        "Deployment/churn-stable",
        "ModelRollout/churn",
        "NetworkPolicy/churn-model-server",
        "NetworkPolicy/churn-router",
        "PodDisruptionBudget/churn-router",
        "Role/churn-operator-router-token",
        "RoleBinding/churn-operator-router-token",
        "Service/churn-canary",
        "Service/churn-router",
        "Service/churn-stable",
        "ServiceAccount/churn-model",
        "ServiceAccount/churn-router",
    ]
    stable = find(docs, "Deployment", "churn-stable")
    model = container(stable, "model")
    assert model["image"] == "ghcr.io/canaria/churn-classifier:v1"
    assert model["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert model["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert stable["spec"]["replicas"] == 2
    canary = find(docs, "Deployment", "churn-canary")  # the desired version: the stable's
    assert container(canary, "model")["image"] == model["image"]
    assert "replicas" not in canary["spec"]  # the operator keeps it at 0
    router = find(docs, "Deployment", "churn-router")
    assert router["spec"]["replicas"] == 2
    assert find(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    volumes = {v["name"]: v for v in pod(router)["volumes"]}
    assert volumes["router-admin"]["secret"]["secretName"] == "churn-router-admin"
    config = yaml.safe_load(find(docs, "ConfigMap", "churn-router")["data"]["config.yaml"])
    assert config["admin"] == {
        "token_file": "/var/run/secrets/canaria/router-admin/token",
        "listen": "separate",  # its own port on every pod address, for the operator only
        "host": "0.0.0.0",
        "port": 8081,
    }
    assert {p["name"]: p["containerPort"] for p in container(router, "router")["ports"]} == {
        "router": 8080,
        "admin": 8081,
    }
    admin_rule = find(docs, "NetworkPolicy", "churn-router")["spec"]["ingress"][-1]
    assert admin_rule["ports"] == [{"port": "admin", "protocol": "TCP"}]
    assert admin_rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "canaria-system"}}}
    ]
    assert config["canary_weight"] == 0
    rollout = find(docs, "ModelRollout")["spec"]
    assert rollout["target"]["canary"] == rollout["target"]["stable"]  # nothing to roll out
    router_settings = rollout["trafficProvider"]["router"]
    assert (router_settings["service"], router_settings["port"]) == ("churn-router", 8081)
    assert "adminUrl" not in router_settings  # the operator resolves the pods itself
    assert find(docs, "Role")["rules"][0]["resourceNames"] == ["churn-router-admin"]


def test_canary_25_starts_at_25_then_steps_to_max_weight(rendered: dict[str, Any]) -> None:
    docs = rendered["canary-25"]
    canary = find(docs, "Deployment", "churn-canary")
    assert "replicas" not in canary["spec"]  # the operator's
    assert container(canary, "model")["image"] == "ghcr.io/canaria/churn-classifier:v2"
    spec = find(docs, "ModelRollout")["spec"]
    assert spec["analysis"]["stepWeights"] == [25, 35, 45]
    assert spec["target"]["canary"] == {
        "bentoTag": "churn-classifier:v2",
        "image": "ghcr.io/canaria/churn-classifier:v2",
    }
    assert spec["workload"] == {
        "stable": "churn-stable",
        "canary": "churn-canary",
        "container": "model",
        "canaryReplicas": 1,
        "readinessTimeout": "10m",
    }


def test_shadow_gets_copies_from_the_router(rendered: dict[str, Any]) -> None:
    docs = rendered["shadow"]
    find(docs, "Deployment", "churn-shadow")
    config = yaml.safe_load(find(docs, "ConfigMap", "churn-router")["data"]["config.yaml"])
    assert config["upstreams"]["shadow"]["url"] == "http://churn-shadow.ml.svc:3000"
    assert config["shadow"]["sample_rate"] == 0.1


def test_gatewayapi_routes_with_weights_and_no_router(rendered: dict[str, Any]) -> None:
    docs = rendered["gatewayapi"]
    assert not [d for d in docs if d["metadata"]["name"].endswith("router")]
    route = find(docs, "HTTPRoute")
    (rule,) = route["spec"]["rules"]
    assert [(b["name"], b["weight"]) for b in rule["backendRefs"]] == [
        ("churn-stable", 100),
        ("churn-canary", 0),
    ]
    provider = find(docs, "ModelRollout")["spec"]["trafficProvider"]
    assert provider == {
        "name": "gatewayapi",
        "httpRoute": {
            "name": "churn",
            "stableBackend": "churn-stable",
            "canaryBackend": "churn-canary",
            "port": 3000,
        },
    }


def test_gatewayapi_shadow_runs_as_a_sidecar_in_the_stable_pods(rendered: dict[str, Any]) -> None:
    docs = rendered["gatewayapi-shadow-sidecar"]
    stable = find(docs, "Deployment", "churn-stable")
    assert [c["name"] for c in pod(stable)["containers"]] == ["model", "router"]
    config = yaml.safe_load(find(docs, "ConfigMap", "churn-router-sidecar")["data"]["config.yaml"])
    assert config["upstreams"]["stable"]["url"] == "http://127.0.0.1:3000"
    assert "canary" not in config["upstreams"]
    service = find(docs, "Service", "churn-stable")
    assert service["spec"]["ports"][0]["targetPort"] == "router"


def test_router_with_three_replicas(rendered: dict[str, Any]) -> None:
    docs = rendered["router-3-replicas"]
    assert find(docs, "Deployment", "churn-router")["spec"]["replicas"] == 3
    config = yaml.safe_load(find(docs, "ConfigMap", "churn-router")["data"]["config.yaml"])
    assert config["sticky"] == {"header": "x-user-id"}
    assert config["rate_limit"]["burst"] == 40


def test_gpu_llm(rendered: dict[str, Any]) -> None:
    docs = rendered["gpu-llm"]
    for name in ("churn-stable", "churn-canary", "churn-shadow"):
        deployment = find(docs, "Deployment", name)
        spec = pod(deployment)
        assert spec["runtimeClassName"] == "nvidia"
        assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
            "tolerations"
        ]
        assert container(deployment, "model")["resources"]["limits"]["nvidia.com/gpu"] == 1
    config = yaml.safe_load(find(docs, "ConfigMap", "churn-router")["data"]["config.yaml"])
    assert config["shadow"]["comparator"] == "text"
    assert find(docs, "ModelRollout")["spec"]["analysis"]["iterations"] == 5


def test_monitoring(rendered: dict[str, Any]) -> None:
    docs = rendered["monitoring"]
    models = find(docs, "ServiceMonitor", "churn-model-servers")
    (endpoint,) = models["spec"]["endpoints"]
    assert {
        "sourceLabels": ["__meta_kubernetes_service_label_canaria_dev_variant"],
        "targetLabel": "variant",
        "action": "replace",
    } in endpoint["relabelings"]
    assert models["metadata"]["labels"]["release"] == "prometheus"
    router = find(docs, "ServiceMonitor", "churn-router")
    assert all(r["targetLabel"] != "variant" for r in router["spec"]["endpoints"][0]["relabelings"])
    dashboard = find(docs, "ConfigMap", "churn-dashboard-canaria-example")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "canaria_rollout_canary_weight" in dashboard["data"]["canaria-example.json"]
    rule = find(docs, "PrometheusRule")
    assert rule["spec"]["groups"][0]["rules"][0]["alert"] == "CanariaRolloutFailed"
    labels = find(docs, "ModelRollout")["spec"]["metricsProvider"]["labels"]
    assert labels == {"namespace": "ml", "rollout": "churn"}


def test_pinned_autoscaled_abtesting(rendered: dict[str, Any]) -> None:
    docs = rendered["pinned-autoscaled-abtesting"]
    stable = find(docs, "Deployment", "churn-stable")
    assert "replicas" not in stable["spec"]  # the HPA's
    assert container(stable, "model")["image"] == (
        "ghcr.io/canaria/churn-classifier:v1@sha256:" + "a" * 64
    )
    canary = find(docs, "Deployment", "churn-canary")
    assert container(canary, "model")["image"] == (
        "ghcr.io/canaria/churn-classifier:v2@sha256:" + "b" * 64
    )
    assert find(docs, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] == "churn-stable"
    spec = find(docs, "ModelRollout")["spec"]
    assert spec["strategy"]["match"] == [{"type": "header", "name": "x-cohort", "value": "b"}]
