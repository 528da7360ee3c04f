"""Deployment patch bodies and readings (pure: plain dicts in, plain dicts out).

The operator owns two fields (charts/canaria/README.md "Who owns what"), so it sends two
kinds of strategic merge patches (``application/strategic-merge-patch+json``), each
touching only its field:

* ``scale_patch(3)`` -> ``{"spec": {"replicas": 3}}``;
* ``image_patch("model", "r/m:2")`` ->
  ``{"spec": {"template": {"spec": {"containers": [{"name": "model", "image": "r/m:2"}]}}}}``:
  containers merge by ``name``, so the other containers (the shadow sidecar) and every
  other field of the model container stay as Helm rendered them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.api.workload import DeploymentState

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def scale_patch(replicas: int) -> dict[str, Any]:
    """The body that sets ``spec.replicas`` (pure). ``ValueError`` when negative."""
    if replicas < 0:
        raise ValueError(f"replicas must be >= 0, got {replicas}")
    return {"spec": {"replicas": replicas}}


def image_patch(container: str, image: str) -> dict[str, Any]:
    """The body that sets one container's image in the pod template (pure)."""
    if not container or not image:
        raise ValueError(f"container and image must be set, got {container!r}, {image!r}")
    return {"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}


def container_image(deployment: Mapping[str, Any], container: str) -> str | None:
    """The image of ``container`` in the Deployment's pod template, ``None`` if absent."""
    pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for entry in pod.get("containers") or ():
        if entry.get("name") == container:
            image = entry.get("image")
            return str(image) if image else None
    return None


def read_deployment(deployment: Mapping[str, Any], container: str) -> DeploymentState:
    """A Deployment as the API server returns it (camelCase dict) -> ``DeploymentState``
    (pure). ``spec.replicas`` absent means 1, as Kubernetes defaults it."""
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    replicas = spec.get("replicas")
    return DeploymentState(
        name=str(meta.get("name", "")),
        image=container_image(deployment, container),
        replicas=1 if replicas is None else int(replicas),
        generation=int(meta.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        updated_replicas=int(status.get("updatedReplicas") or 0),
        ready_replicas=int(status.get("readyReplicas") or 0),
        available_replicas=int(status.get("availableReplicas") or 0),
        total_replicas=int(status.get("replicas") or 0),
    )
