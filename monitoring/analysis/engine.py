"""The rollout decision engine: spec, status, measurements in; verdict and next status out.

Pure: no clocks, no I/O, no client libraries. The operator (kopf timer, or local mode)
calls ``decide`` once per tick with what it fetched and applies the ``Decision``:
``routes`` to the traffic router, ``status.to_dict()`` to the CR's status, ``kind`` and
``message`` as a Kubernetes Event. Everything the engine remembers is in the status, so
a restarted operator calls ``desired_routes`` to re-apply traffic and continues with no
step lost or repeated.

Timing: analyses are due on a grid ``interval`` apart, kept in
``status.next_analysis_time``; a call before it is a ``WAIT`` that changes nothing. A call
up to ``ANALYSIS_SLACK`` × interval early or late keeps the grid; a later one (the operator
was down) restarts it from that call, so missed analyses are not run in a burst. A bad
canary is rolled back by the (failureLimit + 1)-th failed analysis: at most
interval × (failureLimit + 1) after the first bad sample, provided the caller ticks on a
fixed grid of ``interval`` (a "sharp" timer) or at least every ANALYSIS_SLACK × interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitoring.analysis.transitions import transition
from monitoring.analysis.verdicts import Measurement, evaluate_analysis
from monitoring.providers.base import Routes
from monitoring.spec import Action, ModelRef, RolloutSpec, StrategyType
from monitoring.status import (
    AnalysisRecord,
    DecisionKind,
    PauseReason,
    Phase,
    RolloutStatus,
    Verdict,
)

ANALYSIS_SLACK = 0.1
"""Fraction of the interval a call may come early and still run the due analysis."""


@dataclass(frozen=True)
class Decision:
    """What the engine decided and the state to write back.

    ``kind``: the decision (also the Event reason). ``status``: the next status; for
    ``WAIT`` it is the input status unchanged (no patch needed). ``routes``: the traffic
    the router should have now (always set; re-applying it is harmless). ``message``:
    human text with the named limits (``latency-p99 1.84 s > max 0.50 s; failed (3) >
    failureLimit (2)``). ``analysis``: the analysis this call ran, if it ran one.
    """

    kind: DecisionKind
    status: RolloutStatus
    routes: Routes
    message: str
    analysis: AnalysisRecord | None = None

    @property
    def changed(self) -> bool:
        """Whether the status changed (everything but ``WAIT``)."""
        return self.kind is not DecisionKind.WAIT


def decide(
    *,
    spec: RolloutSpec,
    status: RolloutStatus,
    measurements: Mapping[str, Measurement],
    now: datetime,
    action: Action | None = None,
) -> Decision:
    """Decide the rollout's next move (pure).

    ``measurements``: per check name, the canary's (and stable's) value, or ``None``
    where the provider had no data; a check missing from the mapping has no data. Only
    read when an analysis runs: fetch them when ``analysis_due`` is true, else pass
    ``{}``. ``action``: a manual request (annotation / kubectl plugin), honoured by this
    call. ``now``: a timezone-aware UTC datetime.

    In order: a canary in the spec that differs from ``status.canary_model`` restarts
    the analysis from step 0 (``restart_for_new_canary``; a pending action is then
    dropped); an action is applied; ``spec.paused`` pauses or resumes; a Progressing
    rollout whose analysis is due is analysed: pass -> ``ADVANCE`` to the next step, or
    after the last step ``PROMOTE`` (``PAUSE`` at the manual gate); fail -> ``HOLD``,
    or ``ROLLBACK`` (phase Failed, weight 0) once failed > failureLimit; no data ->
    ``HOLD``, counted as failed once inconclusive (in a row) > inconclusiveLimit. A
    Promoting rollout ``COMPLETE``s one interval later: the canary becomes
    ``stable_model``, weight 0, phase Succeeded. Anything else is a ``WAIT``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if status.stable_model is None or status.canary_model != spec.target.canary:
        return restart_for_new_canary(spec=spec, status=status, now=now)
    if action is not None:
        return _apply_action(spec=spec, status=status, action=action, now=now)
    if spec.paused and status.phase is Phase.PROGRESSING:
        return _pause(spec, status, PauseReason.SPEC, now, "paused: spec.paused is true")
    if not spec.paused and status.phase is Phase.PAUSED and status.pause_reason is PauseReason.SPEC:
        return _resume(spec, status, now, "resumed: spec.paused is false")
    if status.phase is Phase.PROGRESSING and analysis_due(spec=spec, status=status, now=now):
        return _analyse(spec=spec, status=status, measurements=measurements, now=now)
    if status.phase is Phase.PROMOTING and analysis_due(spec=spec, status=status, now=now):
        return _complete(spec, status, now)
    return _wait(spec, status, _waiting_message(spec, status, now))


def restart_for_new_canary(*, spec: RolloutSpec, status: RolloutStatus, now: datetime) -> Decision:
    """Start the analysis of ``spec.target.canary`` from step 0 (pure).

    Used by ``decide`` when the spec's canary differs from ``status.canary_model`` (also
    on the first call, with an empty status, which records ``spec.target.stable`` as the
    stable model). Counters and the last analysis are cleared; the history is kept.
    ``START``: phase Progressing at the first weight (canary) or 0 with mirroring
    (blueGreen) or match rules (abTesting), first analysis one interval later.
    ``IDLE`` when the canary is the stable model: nothing to roll out, weight 0.
    """
    stable = status.stable_model or spec.target.stable
    canary = spec.target.canary
    reset = replace(
        status,
        stable_model=stable,
        canary_model=canary,
        current_step=0,
        failed_checks=0,
        inconclusive_count=0,
        pause_reason=None,
        last_analysis=None,
    )
    if canary == stable:
        message = f"nothing to roll out: canary {canary.describe()} is the stable model"
        return _finish(
            spec,
            transition(
                reset,
                kind=DecisionKind.IDLE,
                now=now,
                message=message,
                phase=Phase.IDLE,
                canary_weight=0,
                next_analysis_time=None,
            ),
        )
    weight = spec.analysis.steps[0] if spec.strategy.type is StrategyType.CANARY else 0
    message = (
        f"new canary {canary.describe()} (stable {stable.describe()}): "
        f"{_step_text(spec, 0, weight)}, first analysis in {_seconds(spec)}"
    )
    return _finish(
        spec,
        transition(
            reset,
            kind=DecisionKind.START,
            now=now,
            message=message,
            phase=Phase.PROGRESSING,
            canary_weight=weight,
            next_analysis_time=now + _interval(spec),
        ),
    )


def desired_routes(*, spec: RolloutSpec, status: RolloutStatus) -> Routes:
    """The traffic the router should have for this status (pure).

    A restarted operator applies this before anything else, so traffic matches the
    status without repeating a step. The canary gets ``status.canary_weight``; while a
    blueGreen candidate is analysed it gets mirrored traffic, an abTesting one the
    requests matching ``spec.strategy.match``; during promotion it gets everything.
    """
    if status.phase in (Phase.PROGRESSING, Phase.PAUSED):
        if spec.strategy.type is StrategyType.BLUE_GREEN:
            return Routes(canary_weight=status.canary_weight, mirror=True)
        if spec.strategy.type is StrategyType.AB_TESTING:
            match = {rule.route_key: rule.value for rule in spec.strategy.match}
            return Routes(canary_weight=status.canary_weight, match=match)
    return Routes(canary_weight=status.canary_weight)


def stable_target(status: RolloutStatus) -> ModelRef | None:
    """The model the stable variant should serve now (pure): during ``Promoting`` the
    candidate (the operator updates the stable workload to it), else ``stable_model``."""
    if status.phase is Phase.PROMOTING:
        return status.canary_model
    return status.stable_model


def analysis_due(*, spec: RolloutSpec, status: RolloutStatus, now: datetime) -> bool:
    """Whether ``decide`` would run a timed step now (an analysis, or finishing a
    promotion), so the caller knows to fetch measurements first (pure)."""
    if status.phase not in (Phase.PROGRESSING, Phase.PROMOTING):
        return False
    if status.phase is Phase.PROGRESSING and spec.paused:
        return False
    if status.canary_model != spec.target.canary:
        return False
    if status.next_analysis_time is None:
        return True
    slack = _interval(spec) * ANALYSIS_SLACK
    return now >= status.next_analysis_time - slack


def seconds_until_due(*, spec: RolloutSpec, status: RolloutStatus, now: datetime) -> float | None:
    """Seconds until the next timed step (0 when due), ``None`` when none is scheduled."""
    if status.phase not in (Phase.PROGRESSING, Phase.PROMOTING):
        return None
    if analysis_due(spec=spec, status=status, now=now) or status.next_analysis_time is None:
        return 0.0
    return (status.next_analysis_time - now).total_seconds()


def _analyse(
    *,
    spec: RolloutSpec,
    status: RolloutStatus,
    measurements: Mapping[str, Measurement],
    now: datetime,
) -> Decision:
    analysis = spec.analysis
    record = evaluate_analysis(analysis.checks, measurements, now=now)
    after = replace(
        status, last_analysis=record, next_analysis_time=_next_on_grid(spec, status, now)
    )
    if record.verdict is Verdict.PASS:
        return _passed(spec, replace(after, inconclusive_count=0), record, now)
    failed = status.failed_checks
    inconclusive = 0
    reason = record.message
    if record.verdict is Verdict.FAIL:
        failed += 1
    else:
        inconclusive = status.inconclusive_count + 1
        limit = analysis.inconclusive_limit
        if inconclusive > limit:
            failed += 1
            reason += f"; inconclusive ({inconclusive}) > inconclusiveLimit ({limit})"
        else:
            reason += f"; inconclusive ({inconclusive}) <= inconclusiveLimit ({limit})"
    after = replace(after, failed_checks=failed, inconclusive_count=inconclusive)
    limit = analysis.failure_limit
    if failed > limit:
        message = (
            f"{reason}; failed ({failed}) > failureLimit ({limit}); "
            f"rolled back to {_stable(status)}"
        )
        return _finish(
            spec,
            transition(
                after,
                kind=DecisionKind.ROLLBACK,
                now=now,
                message=message,
                phase=Phase.FAILED,
                canary_weight=0,
                pause_reason=None,
                next_analysis_time=None,
            ),
            record,
        )
    if record.verdict is Verdict.FAIL or failed > status.failed_checks:
        reason += f"; failed ({failed}) <= failureLimit ({limit})"
    message = f"{reason}; holding at {_step_text(spec, status.current_step, status.canary_weight)}"
    return _finish(
        spec, transition(after, kind=DecisionKind.HOLD, now=now, message=message), record
    )


def _passed(
    spec: RolloutSpec, status: RolloutStatus, record: AnalysisRecord, now: datetime
) -> Decision:
    step = status.current_step + 1
    total = spec.total_steps
    if step < total:
        weight = status.canary_weight
        if spec.strategy.type is StrategyType.CANARY:
            weight = spec.analysis.steps[step]
        message = f"{record.message}; advancing to {_step_text(spec, step, weight)}"
        return _finish(
            spec,
            transition(
                status,
                kind=DecisionKind.ADVANCE,
                now=now,
                message=message,
                current_step=step,
                canary_weight=weight,
            ),
            record,
        )
    done = replace(status, current_step=total)
    if spec.analysis.manual_gate:
        message = (
            f"{record.message} at step {total}/{total}; waiting for a promote action (manualGate)"
        )
        decision = _pause(spec, done, PauseReason.MANUAL_GATE, now, message)
        return replace(decision, analysis=record)
    message = f"{record.message} at step {total}/{total}; promoting {_canary(status)}"
    decision = _promote(spec, done, now, message, next_time=status.next_analysis_time)
    return replace(decision, analysis=record)


def _apply_action(
    *, spec: RolloutSpec, status: RolloutStatus, action: Action, now: datetime
) -> Decision:
    phase = status.phase
    if action is Action.ROLLBACK:
        if not phase.active:
            return _wait(spec, status, f"rollback ignored: phase {phase.value} has no candidate")
        message = f"manual rollback: traffic back to {_stable(status)}"
        return _finish(
            spec,
            transition(
                status,
                kind=DecisionKind.ROLLBACK,
                now=now,
                message=message,
                phase=Phase.ROLLED_BACK,
                canary_weight=0,
                pause_reason=None,
                next_analysis_time=None,
            ),
        )
    if action is Action.PROMOTE:
        if phase not in (Phase.PROGRESSING, Phase.PAUSED):
            return _wait(spec, status, f"promote ignored: phase {phase.value}")
        return _promote(spec, status, now, f"manual promote of {_canary(status)}")
    if action is Action.PAUSE:
        if phase is not Phase.PROGRESSING:
            return _wait(spec, status, f"pause ignored: phase {phase.value}")
        return _pause(spec, status, PauseReason.ACTION, now, "paused by a pause action")
    if phase is not Phase.PAUSED:
        return _wait(spec, status, f"resume ignored: phase {phase.value} is not paused")
    if spec.paused:
        return _wait(spec, status, "resume ignored: spec.paused is true; set it to false")
    if status.pause_reason is PauseReason.MANUAL_GATE:
        return _wait(spec, status, "resume ignored: at the manual gate; promote or roll back")
    return _resume(spec, status, now, "resumed by a resume action")


def _pause(
    spec: RolloutSpec, status: RolloutStatus, reason: PauseReason, now: datetime, message: str
) -> Decision:
    return _finish(
        spec,
        transition(
            status,
            kind=DecisionKind.PAUSE,
            now=now,
            message=message,
            phase=Phase.PAUSED,
            pause_reason=reason,
        ),
    )


def _resume(spec: RolloutSpec, status: RolloutStatus, now: datetime, message: str) -> Decision:
    # The next analysis waits a full interval so it sees traffic from after the pause.
    return _finish(
        spec,
        transition(
            status,
            kind=DecisionKind.RESUME,
            now=now,
            message=f"{message}; next analysis in {_seconds(spec)}",
            phase=Phase.PROGRESSING,
            pause_reason=None,
            next_analysis_time=now + _interval(spec),
        ),
    )


def _promote(
    spec: RolloutSpec,
    status: RolloutStatus,
    now: datetime,
    message: str,
    *,
    next_time: datetime | None = None,
) -> Decision:
    return _finish(
        spec,
        transition(
            status,
            kind=DecisionKind.PROMOTE,
            now=now,
            message=f"{message}: all traffic to the candidate while the stable is updated",
            phase=Phase.PROMOTING,
            canary_weight=100,
            pause_reason=None,
            next_analysis_time=next_time or now + _interval(spec),
        ),
    )


def _complete(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> Decision:
    message = f"promoted: {_canary(status)} is the stable model"
    return _finish(
        spec,
        transition(
            status,
            kind=DecisionKind.COMPLETE,
            now=now,
            message=message,
            phase=Phase.SUCCEEDED,
            stable_model=status.canary_model,
            canary_weight=0,
            next_analysis_time=None,
        ),
    )


def _wait(spec: RolloutSpec, status: RolloutStatus, message: str) -> Decision:
    return Decision(
        kind=DecisionKind.WAIT,
        status=status,
        routes=desired_routes(spec=spec, status=status),
        message=message,
    )


def _finish(
    spec: RolloutSpec, status: RolloutStatus, record: AnalysisRecord | None = None
) -> Decision:
    kind = status.history[-1].decision
    return Decision(
        kind=kind,
        status=status,
        routes=desired_routes(spec=spec, status=status),
        message=status.message,
        analysis=record,
    )


def _waiting_message(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> str:
    phase = status.phase
    if phase is Phase.PAUSED:
        if status.pause_reason is PauseReason.MANUAL_GATE:
            return "paused at the manual gate: waiting for a promote action"
        if status.pause_reason is PauseReason.SPEC:
            return "paused: spec.paused is true"
        return "paused by a pause action: waiting for a resume action"
    left = seconds_until_due(spec=spec, status=status, now=now)
    if left is not None:
        return f"{phase.value}: next step in {left:.3g}s"
    if phase is Phase.SUCCEEDED:
        return f"succeeded: {_stable(status)} is the stable model"
    if phase is Phase.IDLE:
        return f"idle: nothing to roll out ({_stable(status)} is stable)"
    return f"{phase.value}: stable {_stable(status)}; set a new spec.target.canary to retry"


def _step_text(spec: RolloutSpec, step: int, weight: int) -> str:
    total = spec.total_steps
    if spec.strategy.type is StrategyType.BLUE_GREEN:
        return f"mirrored traffic, analysis {step + 1}/{total}"
    if spec.strategy.type is StrategyType.AB_TESTING:
        return f"matching requests only, analysis {step + 1}/{total}"
    return f"{weight}% (step {min(step + 1, total)}/{total})"


def _next_on_grid(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> datetime:
    """One interval after the step that was due, so timer jitter does not drift the
    schedule; one interval after ``now`` when the call came much later than due."""
    interval = _interval(spec)
    scheduled = status.next_analysis_time
    if scheduled is not None and now - scheduled <= interval * ANALYSIS_SLACK:
        return scheduled + interval
    return now + interval


def _interval(spec: RolloutSpec) -> timedelta:
    return timedelta(seconds=spec.analysis.interval_seconds)


def _seconds(spec: RolloutSpec) -> str:
    return f"{spec.analysis.interval_seconds:g}s"


def _stable(status: RolloutStatus) -> str:
    return status.stable_model.describe() if status.stable_model else "<none>"


def _canary(status: RolloutStatus) -> str:
    return status.canary_model.describe() if status.canary_model else "<none>"
