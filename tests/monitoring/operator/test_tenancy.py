"""A ModelRollout is untrusted input: it cannot send the operator's secrets anywhere, see
an upstream's answer body in an Event, or touch another namespace's HTTPRoute or a backend
of its choice. Each example against the stub API server (the real client) and in local
mode (files)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from canaria.testing.kube_stub import KubeStub, StubResponse
from canaria.testing.processes import free_port
from monitoring.operator.events import RolloutRef
from monitoring.operator.local import FileEventRecorder, FileRolloutStore
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.reconcile import Reconciler
from monitoring.operator.state import state_path_for
from monitoring.operator.trust import RouterPolicy, TrustedReplicas, kube_endpoints
from monitoring.providers.metrics.static import StaticProvider
from tests.monitoring.operator.conftest import HEALTHY, ROUTE_PATH, Cluster, FakeClock
from tests.monitoring.operator.test_kube_handlers import route_patches, tick

SECRET = "s3cr3t-of-the-operator"
BODY = "SECRET-BODY-FROM-THE-LISTENER"


class Listener:
    """A router admin API stand-in on ``host:port``: records requests, answers ``status``."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, status: int = 200):
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.routes: dict[str, Any] = {"canary_weight": 0, "mirror": False, "match": {}}
        self.status = status
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None: ...

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                listener.requests.append((self.command, self.path, dict(self.headers)))
                if listener.status != 200:
                    payload = BODY.encode()
                elif self.command == "PUT":
                    listener.routes = json.loads(body)
                    payload = json.dumps(listener.routes).encode()
                else:
                    payload = json.dumps(listener.routes).encode()
                self.send_response(listener.status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = _handle

        self.server = ThreadingHTTPServer((host, port or free_port()), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    served = Listener()
    yield served
    served.close()


def rollout_doc(router: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "canaria.dev/v1alpha1",
        "kind": "ModelRollout",
        "metadata": {"name": "churn", "namespace": namespace},
        "spec": {
            "target": {"stable": {"bentoTag": "m:v1"}, "canary": {"bentoTag": "m:v2"}},
            "trafficProvider": {"name": "router", "router": router},
            "analysis": {
                "interval": "1s",
                "stepWeights": [25, 50],
                "checks": [{"name": "ok", "builtin": "requestSuccessRate", "min": 0.99}],
            },
        },
    }


def local_run(tmp: Path, doc: dict[str, Any], **cache: Any) -> list[dict[str, Any]]:
    path = tmp / "churn.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = FileRolloutStore([path])
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(
            metrics_factory=lambda name, settings: StaticProvider(values=HEALTHY), **cache
        ),
        metrics=OperatorMetrics(),
        clock=FakeClock(),
        replicas=TrustedReplicas(RouterPolicy.from_env(local=True, environ={})),
    )
    reconciler.reconcile(RolloutRef(namespace=doc["metadata"]["namespace"], name="churn"))
    return list(json.loads(state_path_for(path).read_text())["events"])


def test_local_a_token_variable_outside_the_allowlist_is_never_sent(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported example: adminUrl at the author's listener, tokenEnv naming another
    secret of the operator's: it was sent 46 times in 12 s."""
    monkeypatch.setenv("SOME_OTHER_OPERATOR_SECRET", SECRET)
    doc = rollout_doc({"adminUrl": listener.url, "tokenEnv": "SOME_OTHER_OPERATOR_SECRET"})
    events = local_run(tmp_path, doc)
    assert listener.requests == []
    assert events[-1]["reason"] == "TrafficError"
    assert "tokenEnv SOME_OTHER_OPERATOR_SECRET is not allowed" in events[-1]["message"]
    assert SECRET not in json.dumps(events)


def test_local_a_router_url_off_the_machine_needs_the_operator_allowlist(tmp_path: Path) -> None:
    doc = rollout_doc(
        {"adminUrl": "http://10.255.255.1:8080", "tokenEnv": "CANARIA_ROUTER_ADMIN_TOKEN"}
    )
    events = local_run(tmp_path, doc)
    assert "router URL http://10.255.255.1:8080 is not allowed" in events[-1]["message"]
    assert "CANARIA_OPERATOR_ROUTER_URLS" in events[-1]["message"]


def test_local_an_upstream_answer_body_never_reaches_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARIA_ROUTER_ADMIN_TOKEN", SECRET)
    failing = Listener(status=500)
    try:
        doc = rollout_doc({"adminUrl": failing.url, "tokenEnv": "CANARIA_ROUTER_ADMIN_TOKEN"})
        events = local_run(tmp_path, doc)
    finally:
        failing.close()
    assert "answered 500 Internal Server Error" in events[-1]["message"]
    assert BODY not in json.dumps(events)


def cluster_reconciler(cluster: Cluster, environ: dict[str, str]) -> Reconciler:
    api = cluster.kube.api_client()
    reconciler = cluster.reconciler
    reconciler.providers = ProviderCache(
        traffic_settings={"gatewayapi": {"api_client": api}, "router": {"api_client": api}},
        metrics_factory=lambda name, settings: StaticProvider(values=HEALTHY),
    )
    reconciler.replicas = TrustedReplicas(
        RouterPolicy.from_env(local=False, environ=environ), kube_endpoints(api)
    )
    return reconciler


def use_router(cluster: Cluster, router: dict[str, Any]) -> None:
    cluster.rollout["spec"]["trafficProvider"] = {"name": "router", "router": router}


def test_kopf_a_free_admin_url_is_refused_in_a_cluster(
    cluster: Cluster, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARIA_ROUTER_ADMIN_TOKEN", SECRET)
    cluster_reconciler(cluster, environ={})
    use_router(cluster, {"adminUrl": listener.url, "tokenEnv": "CANARIA_ROUTER_ADMIN_TOKEN"})
    tick(cluster)
    assert listener.requests == []
    warning = cluster.events()[-1]
    assert warning["reason"] == "TrafficError"
    assert f"router URL {listener.url} is not allowed" in warning["message"]


def test_kopf_a_token_variable_outside_the_allowlist_is_never_sent(
    cluster: Cluster, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_OTHER_OPERATOR_SECRET", SECRET)
    cluster_reconciler(cluster, environ={"CANARIA_OPERATOR_ROUTER_URLS": listener.url})
    use_router(cluster, {"adminUrl": listener.url, "tokenEnv": "SOME_OTHER_OPERATOR_SECRET"})
    tick(cluster)
    assert listener.requests == []
    assert "tokenEnv SOME_OTHER_OPERATOR_SECRET is not allowed" in cluster.events()[-1]["message"]


def endpoint_slice(addresses: list[str], ready: bool = True) -> dict[str, Any]:
    return {
        "kind": "EndpointSliceList",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {},
        "items": [
            {
                "metadata": {"name": "churn-router-abc", "namespace": "ml"},
                "addressType": "IPv4",
                "endpoints": [
                    {"addresses": [address], "conditions": {"ready": ready}}
                    for address in addresses
                ],
                "ports": [{"port": 8080}],
            }
        ],
    }


def test_kopf_the_router_service_is_resolved_to_every_ready_pod_in_the_namespace(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three router replicas behind a Service: every one gets the routes, and one that
    restarts (back at 0 %) is corrected at the next verification."""
    monkeypatch.setenv("CANARIA_ROUTER_ADMIN_TOKEN", SECRET)
    port = free_port()
    replicas = [Listener(host=f"127.0.0.{i}", port=port) for i in (1, 2, 3)]
    try:
        cluster.kube.on(
            "GET",
            "/apis/discovery.k8s.io/v1/namespaces/ml/endpointslices",
            StubResponse(body=endpoint_slice([f"127.0.0.{i}" for i in (1, 2, 3)])),
        )
        cluster_reconciler(cluster, environ={})
        use_router(
            cluster,
            {"service": "churn-router", "port": port, "tokenEnv": "CANARIA_ROUTER_ADMIN_TOKEN"},
        )
        tick(cluster)
        assert [r.routes["canary_weight"] for r in replicas] == [10, 10, 10]
        slices = cluster.kube.requests_matching("GET", r"/apis/discovery.k8s.io/.*")
        assert slices[0].query["labelSelector"] == ["kubernetes.io/service-name=churn-router"]
        assert all(
            headers.get("Authorization") == f"Bearer {SECRET}"
            for r in replicas
            for _, _, headers in r.requests
        )
        replicas[1].routes = {"canary_weight": 0, "mirror": False, "match": {}}  # restarted
        cluster.clock.advance(1)  # one verification period (interval 30 s / 4, at least 1 s)
        cluster.clock.advance(7)
        tick(cluster)
        assert [r.routes["canary_weight"] for r in replicas] == [10, 10, 10]
        assert cluster.reasons()[-1] == "TrafficCorrected"
        assert "127.0.0.2" in cluster.events()[-1]["message"]
    finally:
        for replica in replicas:
            replica.close()


def other_namespace_route(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "payments", "namespace": "team-a", "resourceVersion": "3"},
        "spec": {
            "rules": [
                {
                    "backendRefs": [
                        {"name": "pay-stable", "port": 80, "weight": 100},
                        {"name": "pay-canary", "port": 80, "weight": 0},
                    ]
                }
            ]
        },
    }
    if annotations:
        route["metadata"]["annotations"] = annotations
    return route


TEAM_A_ROUTE = "/apis/gateway.networking.k8s.io/v1/namespaces/team-a/httproutes/payments"


@pytest.mark.parametrize(
    ("http_route", "annotations", "allowed", "message"),
    [
        (  # the reported example: team-b's rollout, team-a's route, a backend it chose
            {"name": "payments", "namespace": "team-a", "canaryBackend": "some-svc"},
            None,
            False,
            "does not allow rollouts from ml",
        ),
        (
            {"name": "payments", "namespace": "team-a"},
            None,
            False,
            "canaria.dev/allow-rollouts-from=ml",
        ),
        (
            {"name": "payments", "namespace": "team-a", "canaryBackend": "some-svc"},
            {"canaria.dev/allow-rollouts-from": "ml"},
            False,
            "has no backendRef some-svc",
        ),
        (
            {"name": "payments", "namespace": "team-a"},
            {"canaria.dev/allow-rollouts-from": "ml"},
            True,
            "",
        ),
    ],
)
def test_kopf_another_namespace_route_only_with_its_opt_in_and_its_own_backends(
    cluster: Cluster,
    http_route: dict[str, Any],
    annotations: dict[str, str] | None,
    allowed: bool,
    message: str,
) -> None:
    get_route = cluster.kube.serve_object(TEAM_A_ROUTE, other_namespace_route(annotations))
    cluster.rollout["spec"]["trafficProvider"] = {"name": "gatewayapi", "httpRoute": http_route}
    tick(cluster)
    patches = cluster.kube.requests_matching("PATCH", TEAM_A_ROUTE)
    if allowed:
        assert [r["weight"] for r in get_route()["spec"]["rules"][0]["backendRefs"]] == [90, 10]
        return
    assert patches == []
    assert cluster.events()[-1]["reason"] == "TrafficError"
    assert message in cluster.events()[-1]["message"]


def test_local_another_namespace_route_is_refused(tmp_path: Path) -> None:
    with KubeStub() as kube:
        kube.serve_object(TEAM_A_ROUTE, other_namespace_route())
        doc = rollout_doc({}, namespace="team-b")
        doc["spec"]["trafficProvider"] = {
            "name": "gatewayapi",
            "httpRoute": {"name": "payments", "namespace": "team-a", "canaryBackend": "some-svc"},
        }
        events = local_run(
            tmp_path,
            copy.deepcopy(doc),
            traffic_settings={"gatewayapi": {"api_client": kube.api_client()}},
        )
        assert kube.requests_matching("PATCH") == []
    assert "does not allow rollouts from team-b" in events[-1]["message"]


def test_the_own_namespace_route_still_works(cluster: Cluster) -> None:
    tick(cluster)
    assert route_patches(cluster) and cluster.requests("PATCH", ROUTE_PATH)
