"""Unknown keys in a ModelRollout spec are refused by ``parse_spec`` with their path (local
mode has no API server to prune them), and the known keys equal the CRD's ``properties``
(expected messages written out by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring.api.spec import SpecError, parse_spec
from monitoring.api.spec.known_fields import KNOWN_FIELDS, check_known_fields
from tests.monitoring.api.spec_builders import minimal, with_

ROOT = Path(__file__).resolve().parents[3]
CRD = ROOT / "k8s" / "crds" / "modelrollout.yaml"
TOP = (
    "analysis, metricsProvider, notifications, paused, retrain, revertOnDeletion, strategy, "
    "target, trafficProvider, workload"
)
ANALYSIS = (
    "checks, failureLimit, fastAbort, inconclusiveLimit, interval, iterations, manualGate, "
    "maxWeight, stepWeight, stepWeights"
)
ROUTER = (
    "adminTokenSecretRef, adminUrl, adminUrls, configMap, configMapKey, port, service, tokenEnv"
)
HTTP_ROUTE = "canaryBackend, name, namespace, port, stableBackend"
CHECK = "builtin, comparison, max, min, name, query, window"

REFUSED = [
    pytest.param(with_({"bogus": 1}), f"spec.bogus: unknown field (known: {TOP})", id="top"),
    pytest.param(
        with_({"analysis.bogus": 1}),
        f"spec.analysis.bogus: unknown field (known: {ANALYSIS})",
        id="analysis",
    ),
    pytest.param(
        with_({"target.bogus": 1}),
        "spec.target.bogus: unknown field (known: canary, stable)",
        id="target",
    ),
    pytest.param(
        with_({"target.stable.bogus": 1}),
        "spec.target.stable.bogus: unknown field (known: bentoTag, image)",
        id="target-stable",
    ),
    pytest.param(
        with_({"target.canary.bogus": 1}),
        "spec.target.canary.bogus: unknown field (known: bentoTag, image)",
        id="target-canary",
    ),
    pytest.param(
        with_({"analysis.checks.0.bogus": 1}),
        f"spec.analysis.checks[0].bogus: unknown field (known: {CHECK})",
        id="check",
    ),
    pytest.param(
        with_({"strategy": {"type": "canary", "bogus": 1}}),
        "spec.strategy.bogus: unknown field (known: match, type)",
        id="strategy",
    ),
    pytest.param(
        with_(
            {
                "strategy": {
                    "type": "abTesting",
                    "match": [{"type": "header", "name": "x-b", "value": "1", "regex": "y"}],
                }
            }
        ),
        "spec.strategy.match[0].regex: unknown field (known: name, type, value)",
        id="match-rule",
    ),
    pytest.param(
        with_({"trafficProvider": {"name": "noop", "router": {"service": "r"}}}),
        "spec.trafficProvider.router: only with name router, not noop "
        "(the noop provider would ignore it)",
        id="router-settings-for-noop",
    ),
    pytest.param(
        with_(
            {
                "trafficProvider": {
                    "name": "router",
                    "router": {"service": "r"},
                    "httpRoute": {"name": "r"},
                }
            }
        ),
        "spec.trafficProvider.httpRoute: only with name gatewayapi, not router "
        "(the router provider would ignore it)",
        id="httproute-settings-for-router",
    ),
    pytest.param(
        with_({"trafficProvider": {"name": "router", "router": {"service": "r", "adminURL": "x"}}}),
        f"spec.trafficProvider.router.adminURL: unknown field (known: {ROUTER})",
        id="router-misspelt",
    ),
    pytest.param(
        with_({"trafficProvider": {"name": "gatewayapi", "httpRoute": {"name": "r", "weight": 3}}}),
        f"spec.trafficProvider.httpRoute.weight: unknown field (known: {HTTP_ROUTE})",
        id="httproute-weight",
    ),
    pytest.param(
        with_({"trafficProvider": {"name": "noop", "mode": "x"}}),
        "spec.trafficProvider.mode: unknown field (known: httpRoute, name, router)",
        id="traffic-provider",
    ),
    pytest.param(
        with_(
            {
                "trafficProvider": {
                    "name": "router",
                    "router": {"service": "r", "adminTokenSecretRef": {"name": "s", "ky": "k"}},
                }
            }
        ),
        "spec.trafficProvider.router.adminTokenSecretRef.ky: unknown field (known: key, name)",
        id="admin-token-secret-ref",
    ),
    pytest.param(
        with_({"workload": {"stable": "a", "canary": "b", "replicas": 2}}),
        "spec.workload.replicas: unknown field "
        "(known: canary, canaryReplicas, container, readinessTimeout, stable)",
        id="workload",
    ),
    pytest.param(
        with_({"zeta": 1, "alpha": 2}),
        f"spec.alpha: unknown field (known: {TOP})",
        id="first-sorted",
    ),
    pytest.param(
        with_({"target.stable": {"bentoTag": "a:v1", 3: "x"}}),
        "spec.target.stable: field names must be strings, got 3",
        id="non-string-key",
    ),
]


@pytest.mark.parametrize(("spec", "message"), REFUSED)
def test_an_unknown_field_is_refused_with_its_path_and_the_known_ones(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    assert str(caught.value) == message


def test_every_known_field_at_every_level_is_accepted() -> None:
    spec = minimal()
    spec.update(paused=False, revertOnDeletion=True)
    spec["target"]["stable"]["image"] = "registry/churn:v1"
    spec["strategy"] = {"type": "canary"}
    spec["analysis"].update(
        interval="30s",
        maxWeight=50,
        iterations=3,
        failureLimit=1,
        inconclusiveLimit=1,
        manualGate=False,
    )
    spec["analysis"]["checks"] = [
        {"name": "latency", "builtin": "latencyP99", "max": 0.5, "window": "1m"},
        {"name": "q", "query": "up", "min": 0.0, "max": 2.0, "comparison": "absolute"},
    ]
    spec["workload"] = {
        "stable": "churn-stable",
        "canary": "churn-canary",
        "container": "model",
        "canaryReplicas": 1,
        "readinessTimeout": "5m",
    }
    spec["trafficProvider"] = {
        "name": "router",
        "router": {
            "adminUrl": "http://router:8081",
            "port": 8081,
            "service": "router",
            "configMap": "routes",
            "configMapKey": "routes.json",
            "adminTokenSecretRef": {"name": "token", "key": "t"},
        },
    }
    assert parse_spec(spec).workload is not None
    spec["trafficProvider"] = {
        "name": "gatewayapi",
        "httpRoute": {
            "name": "churn",
            "namespace": "prod",
            "port": 3000,
            "stableBackend": "churn-stable",
            "canaryBackend": "churn-canary",
        },
    }
    assert parse_spec(spec).traffic_provider.settings["canaryBackend"] == "churn-canary"
    spec["strategy"] = {
        "type": "abTesting",
        "match": [{"type": "header", "name": "x", "value": "b"}],
    }
    assert parse_spec(spec).strategy.match[0].value == "b"


def test_the_other_url_and_token_fields_are_accepted_by_the_key_check() -> None:
    """``adminUrls`` and ``tokenEnv`` (exclusive with the fields above in the parser's
    other rules): the key check alone lets them through."""
    spec = with_(
        {
            "trafficProvider": {
                "name": "router",
                "router": {"adminUrls": ["http://a:8081"], "tokenEnv": "ROUTER_TOKEN"},
            },
            "analysis.stepWeights": [10, 20],
            "analysis.stepWeight": None,
        }
    )
    check_known_fields(spec)
    assert parse_spec(spec).analysis.step_weights == (10, 20)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"target": "churn"}, "spec.target: must be an object, got 'churn'"),
        ({"analysis.checks": "latency"}, "spec.analysis.checks: needs at least one check"),
        (
            {"analysis.checks": ["latency"]},
            "spec.analysis.checks[0]: must be an object, got 'latency'",
        ),
        (
            {"trafficProvider": {"router": {"service": "r"}}},
            "spec.trafficProvider.name: is required",
        ),
        # workload.stable is a Deployment name; spec.target.stable, an object with the same
        # key one level over, must not be the table used to look inside it
        (
            {"workload": {"stable": {"bogus": 1}, "canary": "churn-canary"}},
            "spec.workload.stable: must be a string, got {'bogus': 1}",
        ),
    ],
)
def test_wrong_types_keep_the_parsers_own_messages(edit: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(with_(edit))
    assert str(caught.value) == message


def _crd_objects() -> dict[str, frozenset[str]]:
    """Every closed object under the CRD's ``spec`` (``properties``, no free-form marker):
    its path in ``KNOWN_FIELDS`` form -> its keys."""
    crd = yaml.safe_load(CRD.read_text())
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    found: dict[str, frozenset[str]] = {}

    def walk(node: dict[str, Any], path: str) -> None:
        if "items" in node:
            walk(node["items"], f"{path}[]")
        properties = node.get("properties")
        if properties is None:
            return
        free = node.get("x-kubernetes-preserve-unknown-fields") or node.get(
            "additionalProperties", False
        ) not in (False, None)
        if not free:
            found[path] = frozenset(properties)
        for key, child in properties.items():
            walk(child, f"{path}.{key}")

    walk(root, "spec")
    return found


CHECKED_ELSEWHERE = {
    "spec.metricsProvider": "parse._parse_metrics refuses unknown keys",
    "spec.analysis.fastAbort": "extras.parse_fast_abort refuses unknown keys",
    "spec.notifications[]": "monitoring.notify.endpoints.parse_notifications refuses them",
    "spec.notifications[].secretRef": "monitoring.notify.endpoints.parse_notifications",
    "spec.retrain": "retrain.parse_retrain refuses unknown keys",
    "spec.retrain.triggers": "retrain.parse_retrain",
    "spec.retrain.triggers.driftShare": "retrain.parse_retrain",
    "spec.retrain.job": "retrain.parse_retrain",
}


def test_the_known_fields_are_the_crd_properties() -> None:
    crd = _crd_objects()
    for path, keys in KNOWN_FIELDS.items():
        assert crd.get(path) == keys, path
    assert set(crd) == set(KNOWN_FIELDS) | set(CHECKED_ELSEWHERE)
    assert not set(KNOWN_FIELDS) & set(CHECKED_ELSEWHERE)


@pytest.mark.parametrize(
    ("path", "raw", "message"),
    [
        (
            "spec.metricsProvider",
            {"nme": "x"},
            "spec.metricsProvider.nme: unknown field (known: address, labels, name, targets)",
        ),
        (
            "spec.analysis.fastAbort",
            {"failurs": 1},
            "spec.analysis.fastAbort.failurs: unknown field "
            "(known: failures, windowRequests, windowSeconds)",
        ),
        (
            "spec.retrain",
            {"triggrs": {}},
            "spec.retrain: retrain: unknown field(s) ['triggrs']; "
            "allowed: ['cooldownSeconds', 'job', 'launcher', 'margin', 'triggers']",
        ),
        (
            "spec.notifications",
            [{"provider": "slack", "urlEnv": "U", "x": 1}],
            "spec.notifications[0].x: unknown field",
        ),
    ],
)
def test_the_sections_checked_elsewhere_do_refuse_unknown_keys(
    path: str, raw: Any, message: str
) -> None:
    """The reason ``CHECKED_ELSEWHERE`` may leave them out of ``KNOWN_FIELDS``."""
    edit: dict[str, Any] = {path.removeprefix("spec."): raw}
    if path == "spec.analysis.fastAbort":
        edit["trafficProvider"] = {"name": "router", "router": {"service": "r"}}
    with pytest.raises(SpecError) as caught:
        parse_spec(with_(edit))
    assert str(caught.value) == message
