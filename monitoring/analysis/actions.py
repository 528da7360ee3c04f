"""Manual actions: which apply in which phase, and the move each one makes (pure).

``action_refusal`` is the one place that says whether an action can apply; the engine
turns a refusal into a ``WAIT`` ("promote ignored: ..."), and the kubectl plugin asks the
same function before it sends anything, so a person learns at once why not.

| action         | applies in                          | move                                    |
|----------------|-------------------------------------|-----------------------------------------|
| `promote`      | Progressing, Paused (not spec)      | next step now; after the last step (or  |
|                |                                     | at the manual gate) the promotion       |
| `promote-full` | Progressing, Paused                 | promotion now (all traffic to canary)   |
| `abort`        | Progressing, Paused, Promoting      | Aborted: weight 0, canary kept          |
| `retry`        | Aborted, Failed, RolledBack         | analysis restarts from step 0           |
| `rollback`     | Progressing, Paused, Promoting,     | RolledBack: weight 0, rollout ends      |
|                | Aborted                             |                                         |
| `pause`        | Progressing                         | Paused (reason action)                  |
| `resume`       | Paused by a pause action            | Progressing, next analysis in interval  |

``retry`` is applied by the engine itself (it restarts like a new canary).
"""

from __future__ import annotations

from datetime import datetime

from monitoring.analysis.moves import (
    Decision,
    canary_name,
    move,
    next_step,
    pause,
    promote,
    resume,
    roll_back,
    stable_name,
    step_text,
)
from monitoring.analysis.schedule import interval_of
from monitoring.api.spec import Action, RolloutSpec
from monitoring.api.status import DecisionKind, PauseReason, Phase, RolloutStatus

RETRYABLE = frozenset({Phase.ABORTED, Phase.FAILED, Phase.ROLLED_BACK})


def _over(status: RolloutStatus) -> str:
    """Why a rollout in a final or idle phase takes no step action (pure)."""
    phase = status.phase
    if phase is Phase.SUCCEEDED:
        return f"phase Succeeded: {stable_name(status)} is already the stable model"
    if phase is Phase.FAILED:
        return "phase Failed: the analysis failed and traffic is on the stable; retry restarts it"
    if phase is Phase.ROLLED_BACK:
        return "phase RolledBack: the rollout was rolled back; retry restarts it"
    if phase is Phase.ABORTED:
        return "phase Aborted: retry restarts the analysis, rollback ends the rollout"
    if phase is Phase.IDLE:
        return "phase Idle: nothing to roll out"
    return f"phase {phase.value}"


def action_refusal(*, spec: RolloutSpec, status: RolloutStatus, action: Action) -> str | None:
    """Why ``action`` cannot apply to a rollout in ``status``, or ``None`` when it can
    (pure). The engine's message for a refused action is ``f"{action} ignored: {reason}"``."""
    phase = status.phase
    if action is Action.RETRY:
        if phase in RETRYABLE:
            return None
        return f"phase {phase.value}: only an aborted, failed or rolled-back canary is retried"
    if action is Action.ROLLBACK:
        if phase.active or phase is Phase.ABORTED:
            return None
        return f"phase {phase.value} has no candidate"
    if action is Action.ABORT:
        return None if phase.active else _over(status)
    if action in (Action.PROMOTE, Action.PROMOTE_FULL):
        if phase is Phase.PROMOTING:
            return "phase Promoting: already promoting"
        if phase not in (Phase.PROGRESSING, Phase.PAUSED):
            return _over(status)
        if action is Action.PROMOTE and status.pause_reason is PauseReason.SPEC:
            return "spec.paused is true; set it to false first (or promote --full)"
        return None
    if action is Action.PAUSE:
        return None if phase is Phase.PROGRESSING else _over(status)
    # resume
    if phase is not Phase.PAUSED:
        return f"phase {phase.value} is not paused"
    if spec.paused:
        return "spec.paused is true; set it to false"
    if status.pause_reason is PauseReason.MANUAL_GATE:
        return "at the manual gate; promote or roll back"
    return None


def apply_action(
    *, spec: RolloutSpec, status: RolloutStatus, action: Action, now: datetime
) -> Decision:
    """The move for an action ``action_refusal`` accepts (pure); not ``retry``, which the
    engine applies by restarting the analysis."""
    if action is Action.ROLLBACK:
        message = f"manual rollback: traffic back to {stable_name(status)}"
        return roll_back(spec, status, now, message, phase=Phase.ROLLED_BACK)
    if action is Action.ABORT:
        return abort(spec, status, now)
    if action is Action.PROMOTE_FULL or (
        action is Action.PROMOTE
        and (
            status.pause_reason is PauseReason.MANUAL_GATE
            or status.current_step + 1 >= spec.total_steps
        )
    ):
        return promote(spec, status, now, f"manual promote of {canary_name(status)}")
    if action is Action.PROMOTE:
        return step_forward(spec, status, now)
    if action is Action.PAUSE:
        return pause(spec, status, PauseReason.ACTION, now, "paused by a pause action")
    if action is Action.RESUME:
        return resume(spec, status, now, "resumed by a resume action")
    raise ValueError(f"{action.value} is applied by the engine, not apply_action")


def step_forward(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> Decision:
    """A manual promote of one step: the next weight now (a paused rollout resumes), the
    next analysis one interval later, counters kept (pure)."""
    step, weight = next_step(spec, status)
    message = f"manual promote: advancing to {step_text(spec, step, weight)}"
    return move(
        spec,
        status,
        kind=DecisionKind.ADVANCE,
        now=now,
        message=message,
        phase=Phase.PROGRESSING,
        pause_reason=None,
        current_step=step,
        canary_weight=weight,
        next_analysis_time=now + interval_of(spec),
    )


def abort(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> Decision:
    """All traffic back to the stable, no more analyses; the canary stays recorded (and
    deployed) for inspection until a retry or a rollback (pure)."""
    message = (
        f"aborted: traffic back to {stable_name(status)}; {canary_name(status)} kept for "
        "inspection (retry restarts its analysis, rollback ends the rollout)"
    )
    return move(
        spec,
        status,
        kind=DecisionKind.ABORT,
        now=now,
        message=message,
        phase=Phase.ABORTED,
        canary_weight=0,
        pause_reason=None,
        next_analysis_time=None,
    )
