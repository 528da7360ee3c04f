"""The stub API server itself: what it records and how it answers (others build on it)."""

from __future__ import annotations

from pathlib import Path

import httpx

from canaria.testing.kube_stub import KubeStub, StubResponse, merge_patch


def test_records_requests_and_answers_by_method_and_path() -> None:
    with KubeStub() as kube:
        kube.on("GET", r"/api/v1/namespaces/[^/]+/pods", StubResponse(body={"items": []}))
        kube.on("GET", r"/api/v1/namespaces/ml/pods", StubResponse(body={"items": [1]}))
        assert httpx.get(f"{kube.url}/api/v1/namespaces/ml/pods").json() == {"items": [1]}
        assert httpx.get(f"{kube.url}/api/v1/namespaces/x/pods?watch=true&limit=5").json() == {
            "items": []
        }
        missing = httpx.post(f"{kube.url}/nowhere", json={"a": 1}, headers={"X-Test": "yes"})
        assert missing.status_code == 404
        assert missing.json()["reason"] == "NotFound"

        recorded = kube.requests
        assert recorded[1].query == {"watch": ["true"], "limit": ["5"]}
        assert recorded[2].method == "POST"
        assert recorded[2].body == {"a": 1}
        assert recorded[2].headers["x-test"] == "yes"
        assert recorded[2].content_type == "application/json"
        assert kube.requests_matching("GET", r".*/ml/.*") == [recorded[0]]


def test_stream_sends_json_lines_like_a_watch() -> None:
    events = [{"type": "ADDED", "object": {"n": 1}}, {"type": "MODIFIED", "object": {"n": 2}}]
    with KubeStub() as kube:
        kube.on("GET", "/watch", StubResponse(stream=events))
        lines = httpx.get(f"{kube.url}/watch").text.splitlines()
        assert [line for line in lines if line] == [
            '{"type": "ADDED", "object": {"n": 1}}',
            '{"type": "MODIFIED", "object": {"n": 2}}',
        ]


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": {"b": 1, "c": 2}, "l": [1, 2], "d": 1}
    assert merge_patch(target, {"a": {"b": None, "e": 3}, "l": [3], "d": None}) == {
        "a": {"c": 2, "e": 3},
        "l": [3],
    }
    assert target["a"] == {"b": 1, "c": 2}


def test_kubeconfig_points_at_the_stub(tmp_path: Path) -> None:
    from kubernetes import client, config

    with KubeStub() as kube:
        kube.on("GET", "/api/v1/namespaces/ml/configmaps/x", StubResponse(body={"data": {}}))
        path = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="ml")
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(path), client_configuration=configuration)
        api = client.CoreV1Api(client.ApiClient(configuration))
        api.read_namespaced_config_map("x", "ml")
        assert kube.requests[0].headers["authorization"] == f"Bearer {kube.token}"
