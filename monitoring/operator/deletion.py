"""The deletion policy: a deleted rollout sends its traffic back to the stable, then the
operator lets go (Flagger's ``revertOnDeletion``, on by default here).

In a cluster kopf's finalizer (``canaria.dev/operator``) holds the object until the
``on.delete`` handler has run; in local mode a rollout file that disappears is a deletion
(a file that does not parse is not: its last good version is kept). Either way the last
status the operator saw decides: a candidate with traffic (``Progressing``, ``Paused``,
``Promoting``) is sent back to 0 % on every router replica, mirror and match rules off;
a finished rollout (``Succeeded``, ``Failed``, ``RolledBack``, ``Idle``) already sends
everything to the stable and is left as it is. With ``spec.workload`` the operator-owned
canary Deployment is then scaled to 0, as Flagger scales its canary to zero on deletion
(it serves no traffic any more; one already gone is fine). An Event (``TrafficReverted``,
or a Warning when the router or the Deployment cannot be reached) says what was done; then
the rollout is forgotten. ``revertOnDeletion: false`` leaves traffic and Deployments alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canaria.contracts.routes import Routes
from monitoring.api.spec import SpecError, parse_spec
from monitoring.api.status import Phase, RolloutStatus

STABLE_ONLY = Routes(canary_weight=0)


@dataclass(frozen=True)
class DeletionPlan:
    """What to do for a deleted rollout: ``revert`` its traffic to the stable, scale
    ``canary_deployment`` (spec.workload's canary; ``None``: none) to 0, and say
    ``message`` in the Event."""

    revert: bool
    canary_deployment: str | None
    message: str


def deletion_plan(obj: Mapping[str, Any]) -> DeletionPlan:
    """The plan for a deleted rollout's last copy (pure)."""
    try:
        spec = parse_spec(obj.get("spec") or {})
        status = RolloutStatus.from_dict(obj.get("status"))
    except (SpecError, ValueError, KeyError, TypeError) as error:
        why = f"deleted; its spec or status cannot be read ({error}), traffic left as is"
        return DeletionPlan(False, None, why)
    stable = status.stable_model.describe() if status.stable_model else "the stable model"
    if not spec.revert_on_deletion:
        why = "deleted; revertOnDeletion is false, so traffic is left as it is"
        return DeletionPlan(False, None, why)
    canary = spec.workload.canary if spec.workload else None
    scaled = f"; canary Deployment {canary} scaled to 0" if canary else ""
    if not status.phase.active and status.canary_weight == 0:
        why = f"deleted in phase {status.phase.value}; all traffic already on {stable}"
        return DeletionPlan(False, canary, why + scaled)
    if status.phase is Phase.PROMOTING:
        return DeletionPlan(
            True, canary, f"deleted while promoting; all traffic back to {stable}{scaled}"
        )
    why = f"deleted in phase {status.phase.value}; all traffic back to {stable}"
    return DeletionPlan(True, canary, why + scaled)
