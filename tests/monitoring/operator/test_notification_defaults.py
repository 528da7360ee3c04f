"""A namespace's default notifications through the Kubernetes API stub (the real client)
and real receivers on loopback: the ConfigMap ``canaria-notifications`` of the rollout's
namespace reaches a rollout without a list of its own; the rollout's own entries add to it
and replace the one for the same destination; invalid content is refused with an Event
naming the key while the last good defaults stay in use; a Secret is only ever read in the
rollout's namespace; a missing grant is named. No decision waits for any of it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from canaria.testing.kube_stub import status_response
from canaria.testing.wait import wait_until
from monitoring.notify.messages import SIGNATURE_HEADER, verify
from monitoring.operator.events import RolloutRef
from monitoring.operator.kube_store import cluster_reconciler
from monitoring.operator.notification_defaults import (
    RESOLVE_SECONDS,
    FileDefaults,
    KubeDefaults,
    NamespaceDefaults,
)
from monitoring.operator.notifications import KubeSecrets, RolloutNotifier
from tests.monitoring.notify.receiver import Receiver, receiving
from tests.monitoring.operator.conftest import Cluster

CONFIG_MAP_PATH = "/api/v1/namespaces/ml/configmaps/canaria-notifications"
SECRETS = "/api/v1/namespaces/ml/secrets"
HMAC = "namespace-signing-key"
REF = RolloutRef(namespace="ml", name="churn", uid="uid-1")


@dataclass
class Ticks:
    """A monotonic clock the test moves (the defaults' cache lifetime)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def audit() -> Iterator[Receiver]:
    with receiving(lambda index: (200, 0.0)) as running:
        yield running


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def serve_secret(cluster: Cluster, name: str, url: str) -> None:
    data = {"url": encoded(url), "hmacKey": encoded(HMAC)}
    secret = {"kind": "Secret", "metadata": {"name": name, "namespace": "ml"}, "data": data}
    cluster.kube.serve_object(f"{SECRETS}/{name}", secret)


def config_map(providers: str) -> dict[str, Any]:
    meta = {"name": "canaria-notifications", "namespace": "ml"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {"providers": providers},
    }


def own_notifier(cluster: Cluster, ticks: Ticks) -> RolloutNotifier:
    """What ``cluster_reconciler`` builds, with the test's clock for the caches."""
    api = cluster.kube.api_client()
    notifier = RolloutNotifier(
        registry=CollectorRegistry(),
        secrets=KubeSecrets(api),
        defaults=NamespaceDefaults(KubeDefaults(api), monotonic=ticks),
        events=cluster.reconciler.events,
        monotonic=ticks,
    )
    cluster.reconciler.notifier = notifier
    return notifier


def messages(receiver: Receiver) -> list[str]:
    return [json.loads(r.body)["event"] for r in receiver.requests]


def test_the_namespace_configmap_reaches_a_rollout_without_its_own(
    cluster: Cluster, audit: Receiver
) -> None:
    notifier = cluster_reconciler(api_client=cluster.kube.api_client()).notifier
    cluster.reconciler.notifier = notifier
    assert "notifications" not in cluster.rollout["spec"]
    serve_secret(cluster, "ml-audit", audit.url)
    entry = "- {provider: webhook, secretRef: {name: ml-audit}, events: [started]}\n"
    cluster.kube.serve_object(CONFIG_MAP_PATH, config_map(entry))
    result = cluster.reconciler.reconcile(REF)
    assert result.error is None and cluster.rollout["status"]["phase"] == "Progressing"
    wait_until("the started message", lambda: len(audit.requests) == 1, timeout=10)
    notifier.close()
    (got,) = audit.requests
    assert verify(got.body, got.headers[SIGNATURE_HEADER], key=HMAC.encode())
    assert json.loads(got.body)["rollout"] == "ml/churn"
    assert len(cluster.requests("GET", CONFIG_MAP_PATH)) == 1
    assert notifier.problem(REF) is None


def test_the_rollouts_entries_add_and_replace_the_same_destination(
    cluster: Cluster, audit: Receiver
) -> None:
    notifier = own_notifier(cluster, Ticks())
    with receiving(lambda index: (200, 0.0)) as team:
        serve_secret(cluster, "ml-audit", audit.url)
        serve_secret(cluster, "churn-team", team.url)
        shared = "- {provider: webhook, secretRef: {name: ml-audit}, events: [promoted]}\n"
        cluster.kube.serve_object(CONFIG_MAP_PATH, config_map(shared))
        cluster.rollout["spec"]["notifications"] = [
            {"provider": "webhook", "secretRef": {"name": "ml-audit"}, "events": ["started"]},
            {"provider": "webhook", "secretRef": {"name": "churn-team"}, "events": ["started"]},
        ]
        assert cluster.reconciler.reconcile(REF).decision is not None
        wait_until("both messages", lambda: len(audit.requests) + len(team.requests) == 2)
        notifier.close()
        assert messages(audit) == ["started"] and messages(team) == ["started"]


def test_invalid_content_is_refused_in_an_event_and_the_last_good_kept(
    cluster: Cluster, audit: Receiver
) -> None:
    ticks = Ticks()
    notifier = own_notifier(cluster, ticks)
    serve_secret(cluster, "ml-audit", audit.url)
    good = "- {provider: webhook, secretRef: {name: ml-audit}}\n"
    cluster.kube.serve_object(CONFIG_MAP_PATH, config_map(good))
    result = cluster.reconciler.reconcile(REF)
    assert result.spec is not None and result.decision is not None
    wait_until("the started message", lambda: len(audit.requests) == 1, timeout=10)
    invalid = good + "- {provider: pager, secretRef: {name: p}}\n"
    cluster.kube.serve_object(CONFIG_MAP_PATH, config_map(invalid))  # an edit
    ticks.now += RESOLVE_SECONDS + 1
    notifier.announce(REF, result.spec, result.decision, action=None, now=cluster.clock())
    wait_until("sent with the last good defaults", lambda: len(audit.requests) == 2)
    notifier.close()
    (event,) = [e for e in cluster.events() if e["reason"] == "InvalidNotifications"]
    assert event["type"] == "Warning"
    assert event["message"].startswith(
        "ConfigMap ml/canaria-notifications: data.providers[1].provider: must be one of"
    )
    assert "the last good defaults (1 entries) are kept" in event["message"]
    assert cluster.rollout["status"]["phase"] == "Progressing"  # the decision stood


def test_a_secret_is_only_read_in_the_rollouts_namespace(cluster: Cluster) -> None:
    notifier = own_notifier(cluster, Ticks())
    other = "- provider: slack\n  secretRef: {name: admin, namespace: kube-system}\n"
    cluster.kube.serve_object(CONFIG_MAP_PATH, config_map(other))
    assert cluster.reconciler.reconcile(REF).error is None
    assert "data.providers[0].secretRef: must be {name, key?}" in (notifier.problem(REF) or "")
    read = [r.path for r in cluster.kube.requests_matching("GET", ".*")]
    assert not [path for path in read if "kube-system" in path or "/secrets" in path], read


def test_a_configmap_the_operator_may_not_read_names_the_grant(cluster: Cluster) -> None:
    notifier = own_notifier(cluster, Ticks())
    cluster.kube.on(
        "GET",
        CONFIG_MAP_PATH,
        lambda r: status_response(403, "Forbidden", "configmaps is forbidden"),
    )
    result = cluster.reconciler.reconcile(REF)
    assert result.error is None and cluster.rollout["status"]["phase"] == "Progressing"
    problem = notifier.problem(REF) or ""
    assert "ConfigMap ml/canaria-notifications unreadable" in problem
    assert "k8s/operator/rbac.yaml" in problem
    reasons = [e["reason"] for e in cluster.events()]
    assert reasons.count("InvalidNotifications") == 1


def test_local_mode_reads_the_file_beside_the_rollout(tmp_path: Path) -> None:
    """Local mode's namespace: the folder of the rollout's YAML (the same manifest)."""
    rollout = tmp_path / "churn.yaml"
    ticks = Ticks()
    defaults = NamespaceDefaults(FileDefaults(lambda ref: rollout), monotonic=ticks)
    assert defaults.entries(REF) == ((), "")  # no file: no defaults
    beside = tmp_path / "canaria-notifications.yaml"
    beside.write_text(yaml.safe_dump(config_map("- {provider: teams, urlEnv: TEAMS_URL}\n")))
    assert defaults.entries(REF) == ((), "")  # read at most once per RESOLVE_SECONDS
    ticks.now += RESOLVE_SECONDS + 1
    (entry,), problem = defaults.entries(REF)
    assert (entry.provider, entry.url_env, problem) == ("teams", "TEAMS_URL", "")
    beside.write_text("kind: ConfigMap\ndata:\n  providers: '- {provider: teams, urlEnv: 1x}'\n")
    ticks.now += RESOLVE_SECONDS + 1
    kept, problem = defaults.entries(REF)
    assert kept == (entry,)
    assert problem.startswith(f"{beside}: data.providers[0].urlEnv: must be an environment")
    assert defaults.entries(RolloutRef("ml", "other")) == ((entry,), problem)  # same folder
