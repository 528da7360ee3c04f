"""The decisions that move a rollout (pause, resume, promote, complete, roll back) and the
``Decision`` they return (pure); manual actions are in ``actions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canaria.contracts.routes import Routes
from monitoring.analysis.schedule import interval_of, interval_text
from monitoring.analysis.traffic import desired_routes
from monitoring.analysis.transitions import transition
from monitoring.api.spec import RolloutSpec, StrategyType
from monitoring.api.status import (
    AnalysisRecord,
    DecisionKind,
    PauseReason,
    Phase,
    RolloutStatus,
)
from monitoring.api.workload import DesiredWorkload


@dataclass(frozen=True)
class Decision:
    """What the engine decided and the state to write back.

    ``kind``: the decision (also the Event reason). ``status``: the next status; for
    ``WAIT`` it is the input status unchanged (no patch needed). ``routes``: the traffic
    the router should have now (always set; re-applying it is harmless). ``message``:
    human text with the named limits (``latency-p99 1.84 s > max 0.50 s; failed (3) >
    failureLimit (2)``). ``analysis``: the analysis this call ran, if it ran one.
    ``workload``: what ``spec.workload``'s Deployments must look like (``None`` without
    one); the operator compares it with the live Deployments every pass and re-applies.
    """

    kind: DecisionKind
    status: RolloutStatus
    routes: Routes
    message: str
    analysis: AnalysisRecord | None = None
    workload: DesiredWorkload | None = None

    @property
    def changed(self) -> bool:
        """Whether the status changed (everything but ``WAIT``)."""
        return self.kind is not DecisionKind.WAIT


def roll_back(
    spec: RolloutSpec,
    status: RolloutStatus,
    now: datetime,
    message: str,
    *,
    phase: Phase,
    record: AnalysisRecord | None = None,
    **changes: Any,
) -> Decision:
    """All traffic back to the stable model and no more analyses: ``phase`` is Failed
    (the analysis failed) or RolledBack (a person asked); ``changes``: more status fields."""
    return move(
        spec,
        status,
        kind=DecisionKind.ROLLBACK,
        now=now,
        message=message,
        phase=phase,
        canary_weight=0,
        pause_reason=None,
        next_analysis_time=None,
        record=record,
        **changes,
    )


def pause(
    spec: RolloutSpec, status: RolloutStatus, reason: PauseReason, now: datetime, message: str
) -> Decision:
    return move(
        spec,
        status,
        kind=DecisionKind.PAUSE,
        now=now,
        message=message,
        phase=Phase.PAUSED,
        pause_reason=reason,
    )


def resume(spec: RolloutSpec, status: RolloutStatus, now: datetime, message: str) -> Decision:
    # The next analysis waits a full interval so it sees traffic from after the pause.
    return move(
        spec,
        status,
        kind=DecisionKind.RESUME,
        now=now,
        message=f"{message}; next analysis in {interval_text(spec)}",
        phase=Phase.PROGRESSING,
        pause_reason=None,
        next_analysis_time=now + interval_of(spec),
    )


def promote(
    spec: RolloutSpec,
    status: RolloutStatus,
    now: datetime,
    message: str,
    *,
    next_time: datetime | None = None,
) -> Decision:
    message = f"{message}: all traffic to the candidate while the stable is updated"
    if spec.workload is not None:
        message += f" (complete once Deployment {spec.workload.stable} runs it)"
    elif not spec.traffic_provider.name.promotes_stable:
        message += f" (complete once spec.target.stable is {canary_name(status)})"
    return move(
        spec,
        status,
        kind=DecisionKind.PROMOTE,
        now=now,
        message=message,
        phase=Phase.PROMOTING,
        canary_weight=100,
        pause_reason=None,
        next_analysis_time=next_time or now + interval_of(spec),
    )


def complete(
    spec: RolloutSpec, status: RolloutStatus, now: datetime, detail: str = "", **changes: Any
) -> Decision:
    message = f"promoted: {canary_name(status)} is the stable model{detail}"
    return move(
        spec,
        status,
        kind=DecisionKind.COMPLETE,
        now=now,
        message=message,
        phase=Phase.SUCCEEDED,
        stable_model=status.canary_model,
        canary_weight=0,
        next_analysis_time=None,
        **changes,
    )


def wait(spec: RolloutSpec, status: RolloutStatus, message: str) -> Decision:
    return Decision(
        kind=DecisionKind.WAIT,
        status=status,
        routes=desired_routes(spec=spec, status=status),
        message=message,
    )


def move(
    spec: RolloutSpec,
    status: RolloutStatus,
    *,
    kind: DecisionKind,
    now: datetime,
    message: str,
    record: AnalysisRecord | None = None,
    **changes: Any,
) -> Decision:
    """The decision ``kind``: ``status`` with ``changes`` applied and the move recorded
    (``transitions.transition``), the routes that status stands for, and the analysis
    ``record`` it was based on, if any (pure)."""
    moved = transition(status, kind=kind, now=now, message=message, **changes)
    return Decision(
        kind=kind,
        status=moved,
        routes=desired_routes(spec=spec, status=moved),
        message=moved.message,
        analysis=record,
    )


def stable_name(status: RolloutStatus) -> str:
    """The stable model's short name for messages."""
    return status.stable_model.describe() if status.stable_model else "<none>"


def canary_name(status: RolloutStatus) -> str:
    """The candidate's short name for messages."""
    return status.canary_model.describe() if status.canary_model else "<none>"


def step_text(spec: RolloutSpec, step: int, weight: int) -> str:
    """``20% (step 2/3)``, or the analysis count for strategies without weights (pure)."""
    total = spec.total_steps
    if spec.strategy.type is StrategyType.BLUE_GREEN:
        return f"mirrored traffic, analysis {step + 1}/{total}"
    if spec.strategy.type is StrategyType.AB_TESTING:
        return f"matching requests only, analysis {step + 1}/{total}"
    return f"{weight}% (step {min(step + 1, total)}/{total})"


def next_step(spec: RolloutSpec, status: RolloutStatus) -> tuple[int, int]:
    """The step after ``status.current_step`` and its canary weight in percent: the
    step's weight for a canary, the current weight for strategies without weights (pure;
    ``IndexError`` past a canary's last step)."""
    step = status.current_step + 1
    weight = status.canary_weight
    if spec.strategy.type is StrategyType.CANARY:
        weight = spec.analysis.steps[step]
    return step, weight
