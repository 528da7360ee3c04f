"""The Kubernetes API client the traffic routers share: given, in-cluster, or kubeconfig."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from monitoring.providers.base import TrafficRouterError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

MERGE_PATCH = "application/merge-patch+json"
"""Patches are RFC 7386 merge patches: lists (HTTPRoute rules) are replaced whole, which is
what we want, and the same content type works for custom and built-in objects."""
CONFLICT = 409
CONFLICT_RETRIES = 3
"""A patch carries the resourceVersion it was built from; on 409 it is rebuilt from a fresh
read this many times at most."""

ResultT = TypeVar("ResultT")


class KubeApiError(TrafficRouterError):
    """The API server refused a request (``status`` is its HTTP status, 0 if unreachable)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


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


def call(action: str, request: Callable[[], ResultT]) -> ResultT:
    """Run one API request; failures become a ``KubeApiError`` saying what failed."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        return request()
    except ApiException as error:
        message = error.reason or ""
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(error.body or "{}").get("message") or message
        status = int(error.status or 0)
        raise KubeApiError(f"{action} failed: {status} {message}".rstrip(), status) from error
    except urllib3.exceptions.HTTPError as error:
        raise KubeApiError(f"{action} failed: API server unreachable ({error!r})", 0) from error
