"""The workload side of a rollout as plain data (pure): what the two Deployments look like
(``DeploymentState``, ``WorkloadObservation``: the operator reads them, the engine judges
them), what they must look like (``DesiredWorkload``: the engine decides, the operator
applies), and what the status remembers between passes (``WorkloadStatus``, defined with
the rest of the status in ``monitoring.api.status``).

Only used when the rollout has ``spec.workload`` (``monitoring.api.spec.workload``).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.api.status import WorkloadStatus

__all__ = ["DeploymentState", "DesiredWorkload", "WorkloadObservation", "WorkloadStatus"]


@dataclass(frozen=True)
class DeploymentState:
    """One Deployment as read from the API server: ``replicas`` is ``spec.replicas``
    (desired), the counts are ``status``'s, ``image`` is the model container's image in
    ``spec.template`` (``None`` when the container is missing)."""

    name: str
    image: str | None
    replicas: int
    generation: int = 0
    observed_generation: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    total_replicas: int = 0

    def rolled_out(self, replicas: int | None = None) -> bool:
        """``kubectl rollout status`` done: the controller saw the latest spec, every pod
        runs it and is ready and available, no old pod is left; with ``replicas`` also
        scaled to exactly that."""
        if replicas is not None and self.replicas != replicas:
            return False
        want = self.replicas
        return (
            self.observed_generation >= self.generation
            and self.updated_replicas >= want
            and self.ready_replicas >= want
            and self.available_replicas >= want
            and self.total_replicas <= self.updated_replicas
        )

    def progress(self) -> str:
        """``1/3 updated, 0/3 ready, 0/3 available`` for messages."""
        want = self.replicas
        return (
            f"{self.updated_replicas}/{want} updated, {self.ready_replicas}/{want} ready, "
            f"{self.available_replicas}/{want} available"
        )


@dataclass(frozen=True)
class WorkloadObservation:
    """The stable and the canary Deployment, as read in this pass."""

    stable: DeploymentState
    canary: DeploymentState


@dataclass(frozen=True)
class DesiredWorkload:
    """What the Deployments must look like for a status (pure output of the engine).

    ``canary_replicas``: the canary Deployment's ``spec.replicas``. ``stable_image``: the
    image of the stable's model container, ``None`` to leave it as it is.
    """

    canary_replicas: int
    stable_image: str | None = None
