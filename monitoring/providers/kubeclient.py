"""The Kubernetes API client the traffic routers and the Job launcher share: given,
in-cluster, or kubeconfig."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from monitoring.providers.interfaces import TrafficRouterError

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
ApiT = TypeVar("ApiT")


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


class LazyApiClient:
    """The ``ApiClient`` given, or one loaded on first use (``load_api_client``), so a
    router that never talks to Kubernetes never looks for credentials."""

    def __init__(
        self,
        api_client: ApiClient | None = None,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
    ) -> None:
        self._api_client = api_client
        self._kubeconfig = kubeconfig
        self._context = context

    def __call__(self) -> ApiClient:
        if self._api_client is None:
            self._api_client = load_api_client(kubeconfig=self._kubeconfig, context=self._context)
        return self._api_client


class LazyApi(Generic[ApiT]):
    """One typed ``kubernetes.client`` API (``api_name``: ``"AppsV1Api"``,
    ``"CustomObjectsApi"``, ...) over a ``LazyApiClient``, built on first call, so that
    neither the client library's API classes nor credentials are touched before it is used.
    ``client``: the underlying ``LazyApiClient`` (for ``sanitize_for_serialization``)."""

    def __init__(
        self,
        api_name: str,
        api_client: ApiClient | None = None,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
    ) -> None:
        self.client = LazyApiClient(api_client, kubeconfig=kubeconfig, context=context)
        self._api_name = api_name
        self._api: ApiT | None = None

    def __call__(self) -> ApiT:
        if self._api is None:
            from kubernetes import client

            self._api = cast(ApiT, getattr(client, self._api_name)(self.client()))
        return self._api


def retry_on_conflict(patch_once: Callable[[], object]) -> None:
    """Run ``patch_once`` (read the object, build a patch carrying the resourceVersion read,
    send it) again while the API server answers 409, ``CONFLICT_RETRIES`` times at most."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            patch_once()
            return
        except KubeApiError as error:
            if error.status != CONFLICT or attempt == CONFLICT_RETRIES - 1:
                raise


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
