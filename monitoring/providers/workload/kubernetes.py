"""Deployments through the API server, with the ``kubernetes`` client (``AppsV1Api``).

Reads with GET, writes with one strategic merge patch per field (``deployments``), so the
operator needs ``get`` and ``patch`` on ``apps/deployments`` and nothing more.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from monitoring.api.workload import DeploymentState
from monitoring.providers.interfaces import WorkloadError, WorkloadMissingError
from monitoring.providers.kubeclient import KubeApiError, LazyApi, call
from monitoring.providers.registry import workload_providers
from monitoring.providers.workload.deployments import (
    STRATEGIC_MERGE_PATCH,
    image_patch,
    read_deployment,
    scale_patch,
)

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, AppsV1Api


@workload_providers.register("kubernetes")
class KubernetesWorkloads:
    """Reads and patches Deployments; API failures become ``WorkloadError``."""

    def __init__(
        self,
        *,
        api_client: ApiClient | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
    ) -> None:
        self._api: LazyApi[AppsV1Api] = LazyApi(
            "AppsV1Api", api_client, kubeconfig=kubeconfig, context=context
        )

    def read(self, namespace: str, name: str, container: str) -> DeploymentState:
        deployment = self._call(
            f"reading Deployment {namespace}/{name}",
            partial(self._api().read_namespaced_deployment, name, namespace),
        )
        data = self._api.client().sanitize_for_serialization(deployment)
        state = read_deployment(data, container)
        if state.image is None:
            raise WorkloadError(f"Deployment {namespace}/{name} has no container {container!r}")
        return state

    def scale(self, namespace: str, name: str, replicas: int) -> None:
        self._patch(namespace, name, scale_patch(replicas), f"scaling to {replicas}")

    def set_image(self, namespace: str, name: str, container: str, image: str) -> None:
        self._patch(namespace, name, image_patch(container, image), f"setting {container} image")

    def _patch(self, namespace: str, name: str, body: dict[str, Any], what: str) -> None:
        self._call(
            f"{what} of Deployment {namespace}/{name}",
            partial(
                self._api().patch_namespaced_deployment,
                name,
                namespace,
                body,
                _content_type=STRATEGIC_MERGE_PATCH,
            ),
        )

    @staticmethod
    def _call(action: str, request: Any) -> Any:
        try:
            return call(action, request)
        except KubeApiError as error:
            if error.status == 404:
                raise WorkloadMissingError(str(error)) from error
            raise WorkloadError(str(error)) from error
