"""``spec.trafficProvider`` through ``parse_spec``: every refusal with its whole message, each
limit at the largest value accepted and one step past, and the settings copied as written
(expected values written out by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.spec import SpecError, TrafficProviderName, parse_spec
from tests.monitoring.api.spec_builders import with_

ROUTER = "spec.trafficProvider.router"
REF = f"{ROUTER}.adminTokenSecretRef"
NAME_253 = "n" * 253
NAME_254 = "n" * 254
URLS_16 = [f"http://router-{i}:8081" for i in range(16)]


def router(settings: Any) -> dict[str, Any]:
    """The minimal spec with the router provider and these ``router`` settings."""
    return with_({"trafficProvider": {"name": "router", "router": settings}})


def gateway(settings: Any) -> dict[str, Any]:
    """The minimal spec with the Gateway API provider and these ``httpRoute`` settings."""
    return with_({"trafficProvider": {"name": "gatewayapi", "httpRoute": settings}})


REFUSED = [
    pytest.param(
        with_({"trafficProvider": {}}), "spec.trafficProvider.name: is required", id="no-name"
    ),
    pytest.param(
        with_({"trafficProvider.name": "istio"}),
        "spec.trafficProvider.name: must be one of gatewayapi, router, noop, got 'istio'",
        id="unknown-name",
    ),
    pytest.param(
        with_({"trafficProvider.name": "router"}),
        f"{ROUTER}: is required",
        id="router-without-settings",
    ),
    pytest.param(
        with_({"trafficProvider.name": "gatewayapi"}),
        "spec.trafficProvider.httpRoute: is required",
        id="gateway-without-settings",
    ),
    pytest.param(router("svc"), f"{ROUTER}: must be an object, got 'svc'", id="router-not-object"),
    pytest.param(
        router({}), f"{ROUTER}: needs a service, an adminUrl or a configMap", id="router-empty"
    ),
    pytest.param(
        router({"tokenEnv": "TOKEN", "service": "", "adminUrls": []}),
        f"{ROUTER}: needs a service, an adminUrl or a configMap",
        id="router-only-blank-targets",
    ),
    pytest.param(
        router({"service": 5}), f"{ROUTER}.service: must be a string, got 5", id="service-type"
    ),
    pytest.param(
        router({"service": "n" * 64}),
        f"{ROUTER}.service: must be at most 63 characters, got 64",
        id="service-64",
    ),
    pytest.param(
        gateway({"name": 5}),
        "spec.trafficProvider.httpRoute.name: must be a string, got 5",
        id="name",
    ),
    pytest.param(
        router({"service": "svc", "configMapKey": " "}),
        f"{ROUTER}.configMapKey: must not be empty",
        id="configMapKey-blank",
    ),
    pytest.param(
        gateway({"name": "route", "namespace": NAME_254}),
        "spec.trafficProvider.httpRoute.namespace: must be at most 253 characters, got 254",
        id="namespace-254",
    ),
    pytest.param(
        gateway({"name": "route", "port": 0}),
        "spec.trafficProvider.httpRoute.port: must be between 1 and 65535, got 0",
        id="port-0",
    ),
    pytest.param(
        gateway({"name": "route", "port": 65536}),
        "spec.trafficProvider.httpRoute.port: must be between 1 and 65535, got 65536",
        id="port-65536",
    ),
    pytest.param(
        router({"adminUrl": "ftp://router"}),
        f"{ROUTER}.adminUrl: must be an http:// or https:// URL, got 'ftp://router'",
        id="adminUrl",
    ),
    pytest.param(
        router({"adminUrls": "http://router:8081"}),
        f"{ROUTER}.adminUrls: must be a list, got 'http://router:8081'",
        id="adminUrls-not-list",
    ),
    pytest.param(
        router({"adminUrls": [*URLS_16, "http://router-16:8081"]}),
        f"{ROUTER}.adminUrls: must have at most 16 items, got 17",
        id="adminUrls-17",
    ),
    pytest.param(
        router({"adminUrls": ["http://router:8081", "router:8081"]}),
        f"{ROUTER}.adminUrls[1]: must be an http:// or https:// URL, got 'router:8081'",
        id="adminUrls-item",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": "token"}),
        f"{REF}: must be an object, got 'token'",
        id="ref-not-object",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"name": "s", "key": "k", "x": "y"}}),
        f"{REF}.x: unknown field (known: key, name)",
        id="ref-3-entries",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"key": "token"}}),
        f"{REF}.name: is required",
        id="ref-without-name",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"name": 5}}),
        f"{REF}.name: must be a string, got 5",
        id="ref-name-type",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"name": " "}}),
        f"{REF}.name: must not be empty",
        id="ref-name-blank",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"name": NAME_254}}),
        f"{REF}.name: must be at most 253 characters, got 254",
        id="ref-name-254",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"name": "s", "key": 5}}),
        f"{REF}.key: must be a string, got 5",
        id="ref-key-type",
    ),
    pytest.param(
        router({"service": "svc", "adminTokenSecretRef": {"name": "s", "key": NAME_254}}),
        f"{REF}.key: must be at most 253 characters, got 254",
        id="ref-key-254",
    ),
]


@pytest.mark.parametrize(("spec", "message"), REFUSED)
def test_a_bad_traffic_provider_is_refused_with_its_path_and_reason(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    assert str(caught.value) == message


ACCEPTED = [
    pytest.param({"adminUrl": "http://router:8081"}, id="adminUrl-only"),
    pytest.param({"adminUrls": URLS_16}, id="adminUrls-16-only"),
    pytest.param({"configMap": "router-config", "configMapKey": "config.yaml"}, id="configMap"),
    pytest.param(
        {
            "service": "n" * 63,  # a Service name is a DNS label
            "tokenEnv": NAME_253,
            "adminTokenSecretRef": {"name": NAME_253, "key": NAME_253},
        },
        id="names-253",
    ),
]


@pytest.mark.parametrize("settings", ACCEPTED)
def test_router_settings_are_accepted_and_copied(settings: dict[str, Any]) -> None:
    spec = parse_spec(router(settings))
    assert spec.traffic_provider.name is TrafficProviderName.ROUTER
    assert spec.traffic_provider.settings == settings


@pytest.mark.parametrize("port", [1, 65535])
def test_gateway_ports_at_both_ends_are_accepted(port: int) -> None:
    settings = {"name": NAME_253, "namespace": "prod", "port": port}
    spec = parse_spec(gateway(settings))
    assert spec.traffic_provider.name is TrafficProviderName.GATEWAY_API
    assert spec.traffic_provider.settings == settings


def test_the_noop_provider_has_no_settings() -> None:
    spec = parse_spec(with_({"trafficProvider": {"name": "noop"}}))
    assert spec.traffic_provider.name is TrafficProviderName.NOOP
    assert spec.traffic_provider.settings == {}
