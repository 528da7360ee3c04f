"""The deletion policy: a deleted rollout sends its traffic back to the stable, then the
operator lets go (Flagger's ``revertOnDeletion``, on by default here).

In a cluster kopf's finalizer (``canaria.dev/operator``) holds the object until the
``on.delete`` handler has run; in local mode a rollout file that disappears is a deletion
(a file that does not parse is not: its last good version is kept). Either way the last
status the operator saw decides: a candidate with traffic (``Progressing``, ``Paused``,
``Promoting``) is sent back to 0 % on every router replica, mirror and match rules off;
a finished rollout (``Succeeded``, ``Failed``, ``RolledBack``, ``Idle``) already sends
everything to the stable and is left as it is. An Event (``TrafficReverted``, or a Warning
when the router cannot be reached) says what was done; then the rollout is forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canaria.contracts.routes import Routes
from monitoring.api.spec import SpecError, parse_spec
from monitoring.api.status import Phase, RolloutStatus

STABLE_ONLY = Routes(canary_weight=0)


def revert_plan(obj: Mapping[str, Any]) -> tuple[bool, str]:
    """(whether to send the traffic back, why) for a deleted rollout's last copy (pure)."""
    try:
        spec = parse_spec(obj.get("spec") or {})
        status = RolloutStatus.from_dict(obj.get("status"))
    except (SpecError, ValueError, KeyError, TypeError) as error:
        return False, f"deleted; its spec or status cannot be read ({error}), traffic left as is"
    stable = status.stable_model.describe() if status.stable_model else "the stable model"
    if not spec.revert_on_deletion:
        return False, "deleted; revertOnDeletion is false, so traffic is left as it is"
    if not status.phase.active and status.canary_weight == 0:
        return False, f"deleted in phase {status.phase.value}; all traffic already on {stable}"
    if status.phase is Phase.PROMOTING:
        return True, f"deleted while promoting; all traffic back to {stable}"
    return True, f"deleted in phase {status.phase.value}; all traffic back to {stable}"
