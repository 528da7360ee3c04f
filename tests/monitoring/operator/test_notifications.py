"""Notifications through the Kubernetes API stub: the operator reads the URL and HMAC key
from the Secret a rollout names (with the real client) and a loopback receiver gets the
signed message; a Secret the operator may not read is skipped, named with the Role to add,
and the decision is applied all the same."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from canaria.testing.kube_stub import StubResponse, status_response
from canaria.testing.wait import wait_until
from monitoring.notify.endpoints import parse_notifications
from monitoring.notify.messages import SIGNATURE_HEADER, verify
from monitoring.operator.events import RolloutRef
from monitoring.operator.kube_store import cluster_reconciler
from monitoring.operator.notifications import (
    NotificationSetupError,
    RolloutNotifier,
    endpoint_for,
)
from tests.monitoring.notify.receiver import Receiver, receiving
from tests.monitoring.operator.conftest import Cluster

SECRET_PATH = "/api/v1/namespaces/ml/secrets/churn-alerts"
HMAC = "s3cret-signing-key"
REF = RolloutRef(namespace="ml", name="churn", uid="uid-1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(lambda index: (200, 0.0)) as running:
        yield running


def secret(url: str) -> dict[str, Any]:
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "churn-alerts", "namespace": "ml"},
        "data": {"url": encode(url), "hmacKey": encode(HMAC)},
    }


def notified(cluster: Cluster) -> RolloutNotifier:
    """The cluster's reconciler with the notifier ``canaria operator`` builds in a cluster
    (``cluster_reconciler``: Secrets through the API, no environment)."""
    notifier = cluster_reconciler(api_client=cluster.kube.api_client()).notifier
    cluster.reconciler.notifier = notifier
    cluster.rollout["spec"]["notifications"] = [
        {"provider": "webhook", "secretRef": {"name": "churn-alerts"}, "events": ["started"]}
    ]
    return notifier


def test_the_url_and_key_come_from_the_named_secret(cluster: Cluster, receiver: Receiver) -> None:
    notifier = notified(cluster)
    cluster.kube.serve_object(SECRET_PATH, secret(receiver.url))
    result = cluster.reconciler.reconcile(REF)
    assert result.error is None and result.decision is not None
    wait_until("the started message", lambda: len(receiver.requests) == 1, timeout=10)
    notifier.close()
    (got,) = receiver.requests
    assert verify(got.body, got.headers[SIGNATURE_HEADER], key=HMAC.encode())
    body = json.loads(got.body)
    assert (body["event"], body["rollout"], body["decision"]) == ("started", "ml/churn", "start")
    assert len(cluster.requests("GET", SECRET_PATH)) == 1
    cluster.clock.advance(1)
    cluster.reconciler.reconcile(REF)  # nothing to announce: the Secret is not read again
    assert len(cluster.requests("GET", SECRET_PATH)) == 1


def test_a_secret_the_operator_may_not_read_is_skipped_and_named(
    cluster: Cluster, receiver: Receiver
) -> None:
    notifier = notified(cluster)
    cluster.kube.on(
        "GET", SECRET_PATH, lambda r: status_response(403, "Forbidden", "secrets is forbidden")
    )
    result = cluster.reconciler.reconcile(REF)
    assert result.error is None and result.decision is not None  # the decision is applied
    assert cluster.rollout["status"]["phase"] == "Progressing"
    problem = notifier.problem(REF) or ""
    assert "spec.notifications[0]" in problem
    assert "k8s/examples/rbac/notification-secret.yaml" in problem
    assert receiver.requests == []


def test_a_cluster_operator_refuses_urlenv(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = notified(cluster)
    monkeypatch.setenv("ALERTS_URL", "http://127.0.0.1:9/hook")
    cluster.rollout["spec"]["notifications"] = [{"provider": "slack", "urlEnv": "ALERTS_URL"}]
    assert cluster.reconciler.reconcile(REF).error is None
    assert "urlEnv is for local mode" in (notifier.problem(REF) or "")


def test_local_sources_are_refused_in_a_cluster_and_secrets_in_local_mode() -> None:
    (from_env,) = parse_notifications([{"provider": "slack", "urlEnv": "ALERTS_URL"}])
    (from_secret,) = parse_notifications([{"provider": "slack", "secretRef": {"name": "a"}}])
    with pytest.raises(NotificationSetupError, match="urlEnv is for local mode"):
        endpoint_for(from_env, namespace="ml", secrets=None, environ=None)
    with pytest.raises(NotificationSetupError, match="in local mode use urlEnv"):
        endpoint_for(from_secret, namespace="ml", secrets=None, environ={})
    with pytest.raises(NotificationSetupError, match="ALERTS_URL is unset"):
        endpoint_for(from_env, namespace="ml", secrets=None, environ={})
    with pytest.raises(NotificationSetupError, match="not an http"):
        endpoint_for(from_env, namespace="ml", secrets=None, environ={"ALERTS_URL": "ftp://x"})
    endpoint = endpoint_for(
        from_env, namespace="ml", secrets=None, environ={"ALERTS_URL": "https://hooks/x"}
    )
    assert (endpoint.provider, endpoint.url, endpoint.signing_key) == (
        "slack",
        "https://hooks/x",
        None,
    )


def test_a_stub_secret_without_the_url_key_is_named(cluster: Cluster) -> None:
    notifier = notified(cluster)
    empty = secret("https://x")
    empty["data"] = {}
    cluster.kube.on("GET", SECRET_PATH, lambda r: StubResponse(body=empty))
    cluster.reconciler.reconcile(REF)
    assert "Secret ml/churn-alerts key url is unset or empty" in (notifier.problem(REF) or "")


def test_a_slow_receiver_never_delays_a_decision(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local-mode sources (the reconciler's default notifier); the receiver takes 4 s."""
    with receiving(lambda index: (200, 4.0)) as slow:
        monkeypatch.setenv("ALERTS_URL", slow.url)
        cluster.rollout["spec"]["notifications"] = [{"provider": "teams", "urlEnv": "ALERTS_URL"}]
        started = time.monotonic()
        result = cluster.reconciler.reconcile(REF)
        took = time.monotonic() - started
        assert result.decision is not None and result.decision.kind.value == "start"
        assert took < 2.0, took  # the decision did not wait for the 4 s answer
        wait_until("the receiver got it", lambda: len(slow.requests) == 1, timeout=10)
        assert json.loads(slow.requests[0].body)["type"] == "message"  # a Teams card
        cluster.reconciler.notifier.close()
