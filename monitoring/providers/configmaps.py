"""Read one named ConfigMap in a namespace through the Kubernetes API (read-only).

The operator reads a namespace's notification defaults (``canaria-notifications``) this
way; its ClusterRole grants ``get`` on ConfigMaps of that one name and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitoring.providers.kubeclient import KubeApiError, LazyApiClient, call

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

NOT_FOUND = 404
FORBIDDEN = 403


class KubeConfigMaps:
    """``read(namespace, name)``: the ConfigMap's ``data`` (key -> text), ``None`` when it
    does not exist. ``KubeApiError`` otherwise; a 403 says which grant is missing."""

    def __init__(self, api_client: ApiClient | None = None, *, grant: str = "") -> None:
        self._client = LazyApiClient(api_client)
        self._grant = grant

    def read(self, namespace: str, name: str) -> dict[str, str] | None:
        from kubernetes.client import CoreV1Api

        action = f"reading ConfigMap {namespace}/{name}"
        try:
            found = call(
                action,
                lambda: CoreV1Api(self._client()).read_namespaced_config_map(name, namespace),
            )
        except KubeApiError as error:
            if error.status == NOT_FOUND:
                return None
            if error.status == FORBIDDEN and self._grant:
                raise KubeApiError(
                    f"{error}; grant the operator {self._grant}", FORBIDDEN
                ) from error
            raise
        return {str(key): str(value) for key, value in (found.data or {}).items()}
