"""``spec.workload``: the Deployments the operator moves, parsed from the CR's dict (pure).

Like Flagger's ``targetRef``: with it, the operator owns exactly two fields of two
Deployments in the rollout's namespace, and Helm (charts/canaria) owns everything else:

* the canary Deployment's ``spec.replicas``: ``canary_replicas`` while a rollout runs
  (scaled up, then waited for, before the first traffic step), 0 otherwise;
* the stable Deployment's model image (``spec.template.spec.containers[container].image``):
  on promotion, set to the canary container's image, then waited for, before traffic
  returns to the stable Service.

Either wait is bounded by ``readiness_timeout_seconds``; past it the rollout fails and rolls
back. Without ``spec.workload`` the operator moves traffic only, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitoring.api.spec.fields import (
    REQUIRED,
    field_value,
    int_in_range,
    parse_duration,
    sub_object,
)
from monitoring.api.spec.model import SpecError

DEFAULT_CONTAINER = "model"
DEFAULT_CANARY_REPLICAS = 1
DEFAULT_READINESS_TIMEOUT = "10m"
MIN_READINESS_TIMEOUT_SECONDS = 10.0
MAX_READINESS_TIMEOUT_SECONDS = 2 * 3600.0
MAX_CANARY_REPLICAS = 100
# DNS-1123 subdomain (a Deployment name) and label (a container name), as in the CRD.
DEPLOYMENT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
CONTAINER_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_PATH = "spec.workload"


@dataclass(frozen=True)
class WorkloadSpec:
    """The operator-owned Deployments of one rollout (names in the rollout's namespace)."""

    stable: str
    canary: str
    container: str = DEFAULT_CONTAINER
    canary_replicas: int = DEFAULT_CANARY_REPLICAS
    readiness_timeout_seconds: float = 600.0


def _name(data: Mapping[str, Any], key: str, pattern: str, limit: int) -> str:
    value = field_value(data, key, _PATH, str, default=REQUIRED)
    if len(value) > limit or not re.match(pattern, value):
        raise SpecError(
            f"{_PATH}.{key}",
            f"must be a Kubernetes name (lower-case letters, digits, '-'; at most {limit}), "
            f"got {value!r}",
        )
    return value


def parse_workload(spec: Mapping[str, Any]) -> WorkloadSpec | None:
    """``spec["workload"]`` typed; ``None`` when absent. ``SpecError`` names the bad field
    (``spec.workload.canaryReplicas: must be between 1 and 100, got 0``)."""
    data = sub_object(spec, "workload", "spec")
    if not data:
        return None
    stable = _name(data, "stable", DEPLOYMENT_NAME_PATTERN, 253)
    canary = _name(data, "canary", DEPLOYMENT_NAME_PATTERN, 253)
    if stable == canary:
        raise SpecError(f"{_PATH}.canary", f"must differ from stable ({stable!r})")
    container = (
        _name(data, "container", CONTAINER_NAME_PATTERN, 63)
        if data.get("container") is not None
        else DEFAULT_CONTAINER
    )
    text = field_value(data, "readinessTimeout", _PATH, str, default=DEFAULT_READINESS_TIMEOUT)
    timeout = parse_duration(text, path=f"{_PATH}.readinessTimeout")
    if not MIN_READINESS_TIMEOUT_SECONDS <= timeout <= MAX_READINESS_TIMEOUT_SECONDS:
        raise SpecError(f"{_PATH}.readinessTimeout", f"must be between 10s and 2h, got {text!r}")
    return WorkloadSpec(
        stable=stable,
        canary=canary,
        container=container,
        canary_replicas=int_in_range(
            data, "canaryReplicas", _PATH, 1, MAX_CANARY_REPLICAS, DEFAULT_CANARY_REPLICAS
        ),
        readiness_timeout_seconds=timeout,
    )
