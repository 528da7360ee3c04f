"""The Kubernetes API client the traffic routers share: given, in-cluster, or kubeconfig."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from monitoring.providers.base import TrafficRouterError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient
    from kubernetes.client.exceptions import ApiException

MERGE_PATCH = "application/merge-patch+json"
"""Patches are RFC 7386 merge patches: lists (HTTPRoute rules) are replaced whole, which is
what we want, and the same content type works for custom and built-in objects."""


def load_api_client(*, kubeconfig: str | None = None, context: str | None = None) -> ApiClient:
    """In-cluster credentials when running in a pod, else the kubeconfig (``$KUBECONFIG``)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    return client.ApiClient(configuration)


def api_error(action: str, error: ApiException) -> TrafficRouterError:
    """A readable error from the API server's ``Status`` answer."""
    message = error.reason or ""
    with contextlib.suppress(ValueError, AttributeError):
        message = json.loads(error.body or "{}").get("message") or message
    return TrafficRouterError(f"{action} failed: {error.status} {message}".rstrip())
