"""The Gateway API router: pure builders, schema-valid HTTPRoutes, and the exact PATCH the
real ``kubernetes`` client sends to a recording stub API server."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canaria.contracts.routes import Routes
from canaria.testing.kube_stub import KubeStub, StubResponse, status_response
from canaria.testing.running import REPO_ROOT
from monitoring.providers.interfaces import RouteTarget, TrafficRouterError
from monitoring.providers.registry import traffic_routers
from monitoring.providers.traffic.gatewayapi import GatewayApiRouter
from monitoring.providers.traffic.httproute import Backends, build_rules, read_routes

# ``../shared`` beside the checkout; searched upwards so the test also runs from a copy of
# the tree one level down (``make mutate`` runs the tests inside ``mutants/``).
SHARED = next(p / "shared" for p in REPO_ROOT.parents if (p / "shared" / "schemas").is_dir())
SCHEMA_PATH = SHARED / "schemas/crds/gateway.networking.k8s.io/httproute_v1.json"
ROUTE_PATH = "/apis/gateway.networking.k8s.io/v1/namespaces/ml/httproutes/churn"
SETTINGS = {"name": "churn", "stableBackend": "churn-stable", "canaryBackend": "churn-canary"}
TARGET = RouteTarget(namespace="ml", name="churn-rollout", settings=SETTINGS)
BACKENDS = Backends(stable="churn-stable", canary="churn-canary")
DOCS_RULE = {
    "matches": [{"path": {"type": "PathPrefix", "value": "/docs"}}],
    "backendRefs": [{"name": "docs", "port": 80}],
}
ROUTE: dict[str, Any] = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "churn", "namespace": "ml", "resourceVersion": "41"},
    "spec": {
        "parentRefs": [{"name": "canaria-gateway"}],
        "hostnames": ["churn.example.com"],
        "rules": [
            DOCS_RULE,
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "timeouts": {"request": "30s"},
                "backendRefs": [
                    {"name": "churn-stable", "port": 3000, "weight": 100},
                    {"name": "churn-canary", "port": 3000, "weight": 0},
                ],
            },
        ],
    },
}
ROOT_MATCH = {"path": {"type": "PathPrefix", "value": "/"}}


def refs(stable: int, canary: int) -> list[dict[str, Any]]:
    return [
        {"name": "churn-stable", "port": 3000, "weight": stable},
        {"name": "churn-canary", "port": 3000, "weight": canary},
    ]


MIRROR = {
    "type": "RequestMirror",
    "requestMirror": {"backendRef": {"name": "churn-canary", "port": 3000}},
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text()))


@pytest.fixture
def kube() -> Iterator[KubeStub]:
    with KubeStub() as stub:
        yield stub


@pytest.fixture
def router(kube: KubeStub) -> GatewayApiRouter:
    created = traffic_routers.create("gatewayapi", apiClient=kube.api_client())
    assert isinstance(created, GatewayApiRouter)
    return created


def test_set_weights_sends_one_exact_merge_patch(kube: KubeStub, router: GatewayApiRouter) -> None:
    kube.on("GET", ROUTE_PATH, StubResponse(body=ROUTE))
    kube.on("PATCH", ROUTE_PATH, StubResponse(body=ROUTE))

    router.set_routes(TARGET, Routes(canary_weight=10))

    assert [(r.method, r.path) for r in kube.requests] == [
        ("GET", ROUTE_PATH),
        ("PATCH", ROUTE_PATH),
    ]
    patch = kube.requests[1]
    assert patch.content_type == "application/merge-patch+json"
    assert patch.headers["authorization"] == f"Bearer {kube.token}"
    assert patch.query == {}
    assert patch.body == {
        "spec": {
            "rules": [
                DOCS_RULE,
                {
                    "matches": [ROOT_MATCH],
                    "timeouts": {"request": "30s"},
                    "backendRefs": refs(90, 10),
                },
            ]
        },
        "metadata": {"resourceVersion": "41"},
    }


def test_mirror_and_ab_match_patch(kube: KubeStub, router: GatewayApiRouter) -> None:
    kube.on("GET", ROUTE_PATH, StubResponse(body=ROUTE))
    kube.on("PATCH", ROUTE_PATH, StubResponse(body=ROUTE))

    routes = Routes(canary_weight=0, mirror=True, match={"header:x-ab": "b", "cookie:grp": "beta"})
    router.set_routes(TARGET, routes)

    ab_headers = [
        {"type": "RegularExpression", "name": "Cookie", "value": r"(^|.*;\s*)grp=beta(;.*|$)"},
        {"type": "Exact", "name": "x-ab", "value": "b"},
    ]
    assert kube.requests[-1].body == {
        "spec": {
            "rules": [
                DOCS_RULE,
                {
                    "matches": [{**ROOT_MATCH, "headers": ab_headers}],
                    "timeouts": {"request": "30s"},
                    "backendRefs": refs(0, 100),
                },
                {
                    "matches": [ROOT_MATCH],
                    "timeouts": {"request": "30s"},
                    "filters": [MIRROR],
                    "backendRefs": refs(100, 0),
                },
            ]
        },
        "metadata": {"resourceVersion": "41"},
    }


def test_round_trip_through_the_stub_and_schema(
    kube: KubeStub, router: GatewayApiRouter, schema: dict[str, Any]
) -> None:
    current = kube.serve_object(ROUTE_PATH, ROUTE)
    for routes in (
        Routes(canary_weight=25),
        Routes(canary_weight=0, mirror=True),
        Routes(canary_weight=5, match={"header:x-ab": "b"}),
        Routes(canary_weight=100),
    ):
        router.set_routes(TARGET, routes)
        jsonschema.validate(current(), schema)
        assert router.get_routes(TARGET) == routes
    # Back to plain weights: the A/B rule and the mirror are gone, the other rule kept.
    router.set_routes(TARGET, Routes(canary_weight=0))
    assert current()["spec"]["rules"] == [
        DOCS_RULE,
        {"matches": [ROOT_MATCH], "timeouts": {"request": "30s"}, "backendRefs": refs(100, 0)},
    ]
    assert current()["spec"]["parentRefs"] == ROUTE["spec"]["parentRefs"]


def test_conflict_is_retried_with_a_fresh_read(kube: KubeStub, router: GatewayApiRouter) -> None:
    fresh = copy.deepcopy(ROUTE)
    fresh["metadata"]["resourceVersion"] = "42"
    reads = iter([ROUTE, fresh])
    kube.on("GET", ROUTE_PATH, lambda request: StubResponse(body=next(reads)))
    answers = iter([status_response(409, "Conflict", "the object has been modified")])
    kube.on("PATCH", ROUTE_PATH, lambda request: next(answers, StubResponse(body=fresh)))

    router.set_routes(TARGET, Routes(canary_weight=30))

    patches = kube.requests_matching("PATCH")
    assert [p.body["metadata"]["resourceVersion"] for p in patches] == ["41", "42"]


def test_missing_route_is_a_clear_error(kube: KubeStub, router: GatewayApiRouter) -> None:
    with pytest.raises(TrafficRouterError, match=r"HTTPRoute ml/churn failed: 404"):
        router.set_routes(TARGET, Routes(canary_weight=10))


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        (Routes(canary_weight=101), "0-100"),
        (Routes(canary_weight=-1), "0-100"),
        (Routes(canary_weight=10, match={"query:x": "1"}), "header:"),
    ],
)
def test_invalid_routes_send_nothing(
    kube: KubeStub, router: GatewayApiRouter, routes: Routes, message: str
) -> None:
    with pytest.raises(TrafficRouterError, match=message):
        router.set_routes(TARGET, routes)
    assert kube.requests == []


def test_backends_default_to_the_two_backend_rule() -> None:
    assert Backends.from_settings({}, ROUTE) == BACKENDS
    assert Backends.from_settings({"canary_backend": "c", "port": "80"}, ROUTE) == Backends(
        stable="churn-stable", canary="c", port=80
    )
    with pytest.raises(TrafficRouterError, match="need stableBackend and canaryBackend"):
        Backends.from_settings({"stable_backend": "a"}, {"spec": {"rules": [DOCS_RULE]}})


def test_route_without_the_backends_is_refused() -> None:
    route = {"spec": {"rules": [DOCS_RULE]}}
    with pytest.raises(TrafficRouterError, match="no HTTPRoute rule forwards to"):
        build_rules(route, BACKENDS, Routes(canary_weight=10))


def test_canary_ref_is_added_with_the_stable_port(schema: dict[str, Any]) -> None:
    route = copy.deepcopy(ROUTE)
    route["spec"]["rules"][1]["backendRefs"] = [{"name": "churn-stable", "port": 3000}]
    rules = build_rules(route, BACKENDS, Routes(canary_weight=20))
    assert rules[-1]["backendRefs"] == refs(80, 20)
    jsonschema.validate({**route, "spec": {**route["spec"], "rules": rules}}, schema)


header_names = st.sampled_from(["x-ab", "x-canary", "X-Group"])
cookie_names = st.sampled_from(["grp", "session.v2", "beta-user"])
values = st.text(alphabet="abcXYZ019.-_ ()*+?", min_size=1, max_size=8)


@given(
    weight=st.integers(min_value=0, max_value=100),
    mirror=st.booleans(),
    headers=st.dictionaries(header_names, values, max_size=2),
    cookies=st.dictionaries(cookie_names, values, max_size=2),
)
def test_read_routes_inverts_build_rules(
    weight: int, mirror: bool, headers: dict[str, str], cookies: dict[str, str]
) -> None:
    match = {f"header:{k}": v for k, v in headers.items()}
    match.update({f"cookie:{k}": v for k, v in cookies.items()})
    routes = Routes(canary_weight=weight, mirror=mirror, match=match)
    built = {**ROUTE, "spec": {**ROUTE["spec"], "rules": build_rules(ROUTE, BACKENDS, routes)}}
    assert read_routes(built, BACKENDS) == routes
    assert build_rules(built, BACKENDS, routes) == built["spec"]["rules"]


def test_unreachable_api_server_is_a_clear_error() -> None:
    from kubernetes import client

    from canaria.testing.running import free_port

    configuration = client.Configuration(host=f"http://127.0.0.1:{free_port()}")
    configuration.retries = 0
    router = GatewayApiRouter(api_client=client.ApiClient(configuration))
    with pytest.raises(TrafficRouterError, match="API server unreachable"):
        router.get_routes(TARGET)
