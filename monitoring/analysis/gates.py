"""When ``spec.workload``'s Deployments hold the rollout back (pure predicates).

Shared by the schedule (no analysis while a Deployment is awaited), the traffic (no traffic
to a canary that is not ready) and the workload step (``monitoring.analysis.workload``).
"""

from __future__ import annotations

from monitoring.api.spec import RolloutSpec
from monitoring.api.status import Phase, RolloutStatus


def waiting_for_canary(*, spec: RolloutSpec, status: RolloutStatus) -> bool:
    """A candidate is in the rollout but its canary Deployment was not seen ready yet:
    it gets no traffic and no analysis runs. (A status without ``workload``, written before
    the rollout had ``spec.workload``, keeps its step: the canary is only scaled.)"""
    return (
        spec.workload is not None
        and status.phase in (Phase.PROGRESSING, Phase.PAUSED)
        and status.workload is not None
        and not status.workload.canary_ready
    )


def promoting_workload(*, spec: RolloutSpec, status: RolloutStatus) -> bool:
    """A promotion that completes when the stable Deployment runs the candidate's image."""
    return spec.workload is not None and status.phase is Phase.PROMOTING


def workload_pending(*, spec: RolloutSpec, status: RolloutStatus) -> bool:
    """The next step depends on a Deployment, so the operator should look every pass."""
    return waiting_for_canary(spec=spec, status=status) or promoting_workload(
        spec=spec, status=status
    )
