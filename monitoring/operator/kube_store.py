"""The Kubernetes side of the operator: the ModelRollout store and the API clients.

Everything goes through the official ``kubernetes`` client: GET the rollout, PATCH its
``/status`` subresource with a JSON merge patch, remove the handled action annotation with
a JSON patch whose ``test`` makes sure a newer action set meanwhile is not lost.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from canaria.contracts.logs import get_logger
from monitoring.api.constants import ACTION_ANNOTATION, GROUP, PLURAL, VERSION
from monitoring.operator.events import KubeEventRecorder, RolloutRef
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.notification_defaults import KubeDefaults, NamespaceDefaults
from monitoring.operator.notifications import KubeSecrets, RolloutNotifier
from monitoring.operator.reconcile import Reconciler
from monitoring.operator.trust import RouterPolicy, TrustedReplicas, kube_endpoints
from monitoring.operator.workload import WorkloadApplier
from monitoring.providers.kubeclient import MERGE_PATCH, load_api_client

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

JSON_PATCH = "application/json-patch+json"
_log = get_logger("operator.kube")


def action_removal_patch(action: str) -> list[dict[str, Any]]:
    """A JSON patch (RFC 6902) removing the action annotation only if it still reads
    ``action`` (pure); ``/`` in the annotation key is escaped as ``~1``."""
    path = "/metadata/annotations/" + ACTION_ANNOTATION.replace("~", "~0").replace("/", "~1")
    return [{"op": "test", "path": path, "value": action}, {"op": "remove", "path": path}]


class KubeRolloutStore:
    """ModelRollouts in the Kubernetes API."""

    def __init__(self, api_client: ApiClient) -> None:
        from kubernetes.client import CustomObjectsApi

        self._api = CustomObjectsApi(api_client)

    def fetch(self, ref: RolloutRef) -> Mapping[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            obj = self._api.get_namespaced_custom_object(
                GROUP, VERSION, ref.namespace, PLURAL, ref.name
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        if not isinstance(obj, Mapping):
            raise TypeError(f"unexpected answer for {ref.key}: {type(obj).__name__}")
        return dict(obj)

    def patch_status(self, ref: RolloutRef, patch: Mapping[str, Any]) -> None:
        self._api.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            ref.namespace,
            PLURAL,
            ref.name,
            {"status": dict(patch)},
            _content_type=MERGE_PATCH,
        )

    def set_canary(self, ref: RolloutRef, bento_tag: str) -> None:
        """Make a retrained version the canary: merge-patch ``spec.target.canary``."""
        self._api.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            ref.namespace,
            PLURAL,
            ref.name,
            {"spec": {"target": {"canary": {"bentoTag": bento_tag}}}},
            _content_type=MERGE_PATCH,
        )

    def clear_action(self, ref: RolloutRef, action: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self._api.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                ref.namespace,
                PLURAL,
                ref.name,
                action_removal_patch(action),
                _content_type=JSON_PATCH,
            )
        except ApiException as error:
            # 422: the annotation changed since we read it (a newer action waits for the
            # next tick); 404: the rollout is gone. Neither loses anything.
            if error.status not in (404, 409, 422):
                raise
            _log.info(
                "action annotation changed meanwhile; left in place",
                extra={"rollout": ref.key, "status": error.status},
            )


def instance_name() -> str:
    """Who reports the Events: the pod name in a cluster, else the host name."""
    return os.environ.get("POD_NAME") or socket.gethostname()


def cluster_reconciler(
    *,
    api_client: ApiClient | None = None,
    metrics: OperatorMetrics | None = None,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> Reconciler:
    """A reconciler wired to the Kubernetes API (in-cluster credentials or kubeconfig)."""
    from kubernetes.client import CoreV1Api

    client = api_client or load_api_client(kubeconfig=kubeconfig, context=context)
    traffic = {"gatewayapi": {"api_client": client}, "router": {"api_client": client}}
    providers = ProviderCache(traffic_settings=traffic)
    metrics = metrics or OperatorMetrics()
    events = KubeEventRecorder(CoreV1Api(client), instance=instance_name())
    notifier = RolloutNotifier(
        registry=metrics.registry,
        secrets=KubeSecrets(client),
        defaults=NamespaceDefaults(KubeDefaults(client)),
        events=events,
    )
    reconciler = Reconciler(
        store=KubeRolloutStore(client),
        events=events,
        providers=providers,
        metrics=metrics,
        replicas=TrustedReplicas(RouterPolicy.from_env(local=False), kube_endpoints(client)),
        notifier=notifier,
        workloads=WorkloadApplier.named("kubernetes", api_client=client),
    )
    reconciler.retrainer.launcher_settings["kubernetes"] = {"api_client": client}
    return reconciler
