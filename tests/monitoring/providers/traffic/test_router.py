"""The canaria router provider: against the real router's admin API, and in ConfigMap
mode against the recording Kubernetes stub (exact PATCH bodies)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import yaml

from canaria.contracts.routes import Routes
from canaria.testing.kube_stub import KubeStub, StubResponse, status_response
from canaria.testing.router import admin_get, running_router
from canaria.testing.running import RunningProcess, free_port
from monitoring.providers.interfaces import PromotingRouter, RouteTarget, TrafficRouterError
from monitoring.providers.registry import traffic_routers
from monitoring.providers.traffic.router import CanariaRouter

pytestmark = pytest.mark.slow  # starts real processes or trains a model

TOKEN = "providers-test-token"
STABLE_URL = "http://127.0.0.1:9/stable"
CANARY_URL = "http://127.0.0.1:9/canary"
CONFIG = {
    "upstreams": {"stable": {"url": STABLE_URL}, "canary": {"url": CANARY_URL}},
    "canary_weight": 0,
}


@pytest.fixture(scope="module")
def real_router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    with running_router(CONFIG, workdir=tmp_path_factory.mktemp("router"), token=TOKEN) as router:
        yield router


def test_set_get_and_promote_on_the_real_router(
    real_router: RunningProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTER_TOKEN", TOKEN)
    router = traffic_routers.create("router", tokenEnv="ROUTER_TOKEN")
    target = RouteTarget("ml", "churn", {"adminUrl": real_router.base_url})
    assert router.get_routes(target) == Routes(canary_weight=0)

    routes = Routes(canary_weight=20, mirror=False, match={"header:x-ab": "b"})
    router.set_routes(target, routes)
    assert router.get_routes(target) == routes
    router.set_routes(target, Routes(canary_weight=0, mirror=True))
    assert router.get_routes(target) == Routes(canary_weight=0, mirror=True)

    assert isinstance(router, PromotingRouter)
    router.promote(target)
    assert router.get_routes(target) == Routes(canary_weight=0)
    effective = admin_get(real_router, "/admin/config", token=TOKEN)
    assert effective["upstreams"]["stable"]["url"] == CANARY_URL


def test_a_wrong_token_is_refused(real_router: RunningProcess) -> None:
    router = CanariaRouter(admin_url=real_router.base_url, token="wrong")
    with pytest.raises(TrafficRouterError, match="refused the token"):
        router.set_routes(RouteTarget("ml", "churn"), Routes(canary_weight=50))


def test_router_errors_are_passed_on() -> None:
    with KubeStub() as admin:
        admin.on("PUT", "/admin/routes", StubResponse(400, {"error": "match: needs canary"}))
        router = CanariaRouter(admin_url=admin.url, token=TOKEN)
        with pytest.raises(TrafficRouterError, match=r"answered 400 Bad Request$"):
            router.set_routes(RouteTarget("ml", "churn"), Routes(canary_weight=5))
        put = admin.requests[0]
        assert put.headers["authorization"] == f"Bearer {TOKEN}"
        assert put.body == {"canary_weight": 5, "mirror": False, "match": {}}


def test_unreachable_router_is_a_clear_error() -> None:
    router = CanariaRouter(admin_url=f"http://127.0.0.1:{free_port()}", token=TOKEN, timeout=2)
    with pytest.raises(TrafficRouterError, match="unreachable"):
        router.get_routes(RouteTarget("ml", "churn"))


def test_invalid_routes_are_refused_before_any_request() -> None:
    router = CanariaRouter(admin_url="http://127.0.0.1:9", token=TOKEN)
    with pytest.raises(TrafficRouterError, match="0-100"):
        router.set_routes(RouteTarget("ml", "churn"), Routes(canary_weight=150))


# --- ConfigMap mode ---------------------------------------------------------------------

CONFIG_MAP_PATH = "/api/v1/namespaces/ml/configmaps/churn-router"
SECRET_PATH = "/api/v1/namespaces/ml/secrets/router-admin"
CONFIG_TEXT = "upstreams:\n  stable:\n    url: http://stable\n  canary:\n    url: http://canary\n"
CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "churn-router", "namespace": "ml", "resourceVersion": "7"},
    "data": {"config.yaml": CONFIG_TEXT},
}
CM_TARGET = RouteTarget("ml", "churn", {"configMap": "churn-router"})


def test_config_map_mode_sends_an_exact_merge_patch() -> None:
    with KubeStub() as kube:
        kube.on("GET", CONFIG_MAP_PATH, StubResponse(body=CONFIG_MAP))
        kube.on("PATCH", CONFIG_MAP_PATH, StubResponse(body=CONFIG_MAP))
        router = traffic_routers.create("router", apiClient=kube.api_client())

        router.set_routes(CM_TARGET, Routes(canary_weight=30, match={"cookie:grp": "beta"}))

        assert [(r.method, r.path) for r in kube.requests] == [
            ("GET", CONFIG_MAP_PATH),
            ("PATCH", CONFIG_MAP_PATH),
        ]
        patch = kube.requests[1]
        assert patch.content_type == "application/merge-patch+json"
        assert patch.headers["authorization"] == f"Bearer {kube.token}"
        expected_text = (
            "upstreams:\n  stable:\n    url: http://stable\n  canary:\n    url: http://canary\n"
            "canary_weight: 30\nmirror: false\nmatch:\n  cookie:grp: beta\n"
        )
        assert patch.body == {
            "data": {"config.yaml": expected_text},
            "metadata": {"resourceVersion": "7"},
        }


def test_config_map_round_trip() -> None:
    with KubeStub() as kube:
        current = kube.serve_object(CONFIG_MAP_PATH, CONFIG_MAP)
        router = CanariaRouter(api_client=kube.api_client())
        assert router.get_routes(CM_TARGET) == Routes(canary_weight=0)
        routes = Routes(canary_weight=40, mirror=True, match={"header:x-ab": "b"})
        router.set_routes(CM_TARGET, routes)
        assert router.get_routes(CM_TARGET) == routes
        config = yaml.safe_load(current()["data"]["config.yaml"])
        assert config["upstreams"]["canary"] == {"url": "http://canary"}
        router.promote(CM_TARGET)
        config = yaml.safe_load(current()["data"]["config.yaml"])
        assert config["upstreams"]["stable"] == {"url": "http://canary"}
        assert router.get_routes(CM_TARGET) == Routes(canary_weight=0)


def test_config_map_without_the_key_is_refused() -> None:
    with KubeStub() as kube:
        kube.on("GET", CONFIG_MAP_PATH, StubResponse(body={**CONFIG_MAP, "data": {}}))
        router = CanariaRouter(api_client=kube.api_client())
        with pytest.raises(TrafficRouterError, match=r"no key 'config\.yaml'"):
            router.set_routes(CM_TARGET, Routes(canary_weight=10))
        assert kube.requests_matching("PATCH") == []


def test_admin_token_from_a_secret() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "router-admin", "namespace": "ml"},
        "data": {"token": base64.b64encode(b"from-secret\n").decode()},
    }
    with KubeStub() as kube, KubeStub() as admin:
        kube.on("GET", SECRET_PATH, StubResponse(body=secret))
        admin.on("GET", "/admin/routes", StubResponse(body={"canary_weight": 5}))
        router = CanariaRouter(api_client=kube.api_client())
        settings = {
            "adminUrl": admin.url,
            "adminTokenSecretRef": {"name": "router-admin"},  # key defaults to "token"
        }
        assert router.get_routes(RouteTarget("ml", "churn", settings)) == Routes(canary_weight=5)
        assert admin.requests[0].headers["authorization"] == "Bearer from-secret"


def test_a_forbidden_secret_says_what_to_grant() -> None:
    with KubeStub() as kube:
        kube.on("GET", SECRET_PATH, status_response(403, "Forbidden", "secrets is forbidden"))
        router = CanariaRouter(admin_url="http://127.0.0.1:9", api_client=kube.api_client())
        settings = {"adminTokenSecretRef": {"name": "router-admin"}}
        with pytest.raises(TrafficRouterError) as caught:
            router.get_routes(RouteTarget("ml", "churn", settings))
        assert "403" in str(caught.value)
        assert "router-admin-token.yaml" in str(caught.value)
        assert "tokenEnv" in str(caught.value)


def test_a_forbidden_config_map_says_what_to_grant() -> None:
    with KubeStub() as kube:
        kube.on("GET", CONFIG_MAP_PATH, status_response(403, "Forbidden", "configmaps forbidden"))
        router = CanariaRouter(api_client=kube.api_client())
        with pytest.raises(TrafficRouterError, match=r"403 .*router-config-map\.yaml"):
            router.set_routes(CM_TARGET, Routes(canary_weight=10))
        assert kube.requests_matching("PATCH") == []


BREAKER = {"failures": 3, "window_requests": 10, "window_seconds": 5.0}


def test_the_breaker_travels_with_the_routes_and_its_state_is_read_back(
    real_router: RunningProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTER_TOKEN", TOKEN)
    router = CanariaRouter(token_env="ROUTER_TOKEN")
    plain = RouteTarget("ml", "churn", {"adminUrl": real_router.base_url})
    with_breaker = RouteTarget("ml", "churn", {**plain.settings, "breaker": BREAKER})
    router.set_routes(plain, Routes(canary_weight=0))  # the file's (no breaker)
    assert router.breaker_state(plain) == {}
    router.set_routes(with_breaker, Routes(canary_weight=10))
    state = router.breaker_state(plain)
    assert state == {"open": False, **BREAKER}
    assert router.get_routes(plain) == Routes(canary_weight=10)


def test_config_map_mode_writes_the_breaker_and_has_no_live_state() -> None:
    with KubeStub() as kube:
        kube.on("GET", CONFIG_MAP_PATH, StubResponse(body=CONFIG_MAP))
        kube.on("PATCH", CONFIG_MAP_PATH, StubResponse(body=CONFIG_MAP))
        router = CanariaRouter(api_client=kube.api_client())
        target = RouteTarget(
            CM_TARGET.namespace, CM_TARGET.name, {**CM_TARGET.settings, "breaker": BREAKER}
        )
        router.set_routes(target, Routes(canary_weight=30))
        written = yaml.safe_load(kube.requests[1].body["data"]["config.yaml"])
        assert written["breaker"] == BREAKER and written["canary_weight"] == 30
        assert router.breaker_state(target) is None
