"""The no-op workload provider: no cluster (local mode, dry runs). It remembers what it
was told and reports every Deployment as rolled out at once."""

from __future__ import annotations

import threading

from monitoring.api.workload import DeploymentState
from monitoring.providers.registry import workload_providers


@workload_providers.register("local")
@workload_providers.register("noop")
class NoopWorkloads:
    """A Deployment never told anything has 0 replicas and no image."""

    def __init__(self) -> None:
        self._replicas: dict[tuple[str, str], int] = {}
        self._images: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def read(self, namespace: str, name: str, container: str) -> DeploymentState:
        with self._lock:
            replicas = self._replicas.get((namespace, name), 0)
            image = self._images.get((namespace, name, container))
        return DeploymentState(
            name=name,
            image=image,
            replicas=replicas,
            updated_replicas=replicas,
            ready_replicas=replicas,
            available_replicas=replicas,
            total_replicas=replicas,
        )

    def scale(self, namespace: str, name: str, replicas: int) -> None:
        with self._lock:
            self._replicas[(namespace, name)] = replicas

    def set_image(self, namespace: str, name: str, container: str, image: str) -> None:
        with self._lock:
            self._images[(namespace, name, container)] = image
