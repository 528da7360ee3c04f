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
from dataclasses import replace
from datetime import datetime

from monitoring.analysis.actions import action_refusal, apply_action
from monitoring.analysis.fast_abort import BreakerTrip, abort_for_trip
from monitoring.analysis.moves import (
    Decision,
    canary_name,
    complete,
    move,
    next_step,
    pause,
    promote,
    resume,
    roll_back,
    stable_name,
    step_text,
    wait,
)
from monitoring.analysis.schedule import (
    analysis_due,
    awaiting_stable,
    interval_of,
    interval_text,
    next_on_grid,
    seconds_until_due,
)
from monitoring.analysis.verdicts import Measurement, evaluate_analysis
from monitoring.analysis.workload import finish, start, workload_step
from monitoring.api.spec import Action, RolloutSpec, StrategyType
from monitoring.api.status import (
    AnalysisRecord,
    DecisionKind,
    PauseReason,
    Phase,
    RolloutStatus,
    Verdict,
    WorkloadStatus,
)
from monitoring.api.workload import WorkloadObservation


def decide(
    *,
    spec: RolloutSpec,
    status: RolloutStatus,
    measurements: Mapping[str, Measurement],
    now: datetime,
    action: Action | None = None,
    trip: BreakerTrip | None = None,
    workload: WorkloadObservation | None = None,
) -> Decision:
    """Decide the rollout's next move (pure).

    ``measurements``: per check name, the canary's (and stable's) value, or ``None``
    where the provider had no data; a check missing from the mapping has no data. Only
    read when an analysis runs: fetch them when ``analysis_due`` is true, else pass
    ``{}``. ``action``: a manual request (annotation / kubectl plugin), honoured by this
    call. ``now``: a timezone-aware UTC datetime.

    In order: a canary in the spec that differs from ``status.canary_model`` restarts
    the analysis from step 0 (``restart_for_new_canary``; a pending action is then
    dropped); ``trip``, an open router breaker (fast abort), rolls a canary that has
    traffic back at once (``fast_abort.abort_for_trip``; a pending action is dropped, so
    a tripped canary is never promoted); an action is applied; ``spec.paused`` pauses or
    resumes; a Progressing rollout whose analysis is due is analysed: pass -> ``ADVANCE``
    to the next step, or after the last step ``PROMOTE`` (``PAUSE`` at the manual gate);
    fail -> ``HOLD``, or ``ROLLBACK`` (phase Failed, weight 0) once failed >
    failureLimit; no data ->
    ``HOLD``, counted as failed once inconclusive (in a row) > inconclusiveLimit. A
    Promoting rollout ``COMPLETE``s one interval later: the canary becomes
    ``stable_model``, weight 0, phase Succeeded; through a provider that cannot make the
    canary the stable itself (``gatewayapi``), not before ``spec.target.stable`` names the
    candidate (``awaiting_stable``). Anything else is a ``WAIT``. Which action applies in
    which phase, and how: ``monitoring.analysis.actions``; a refused one is a ``WAIT``
    whose message says why (``promote ignored: phase Succeeded: ...``).

    With ``spec.workload``, ``workload`` (the two Deployments as read this pass) gates the
    rollout (``monitoring.analysis.workload``): no traffic before the canary Deployment is
    ready, and a promotion completes when the stable Deployment runs the candidate's image;
    ``Decision.workload`` says what the Deployments must look like.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    decision = _decide(
        spec=spec,
        status=status,
        measurements=measurements,
        now=now,
        action=action,
        trip=trip,
        observed=workload,
    )
    return finish(spec=spec, before=status, decision=decision, observed=workload, now=now)


def _decide(
    *,
    spec: RolloutSpec,
    status: RolloutStatus,
    measurements: Mapping[str, Measurement],
    now: datetime,
    action: Action | None,
    trip: BreakerTrip | None,
    observed: WorkloadObservation | None,
) -> Decision:
    if status.stable_model is None or status.canary_model != spec.target.canary:
        return restart_for_new_canary(spec=spec, status=status, now=now)
    aborted = abort_for_trip(spec=spec, status=status, trip=trip, now=now)
    if aborted is not None:
        return aborted
    gated = workload_step(spec=spec, status=status, observed=observed, now=now, action=action)
    if gated is not None:
        return gated
    if action is not None:
        return _act(spec=spec, status=status, action=action, now=now)
    if spec.paused and status.phase is Phase.PROGRESSING:
        return pause(spec, status, PauseReason.SPEC, now, "paused: spec.paused is true")
    if not spec.paused and status.phase is Phase.PAUSED and status.pause_reason is PauseReason.SPEC:
        return resume(spec, status, now, "resumed: spec.paused is false")
    if status.phase is Phase.PROGRESSING and analysis_due(spec=spec, status=status, now=now):
        return _analyse(spec=spec, status=status, measurements=measurements, now=now)
    if status.phase is Phase.PROMOTING and analysis_due(spec=spec, status=status, now=now):
        return complete(spec, status, now)
    return wait(spec, status, _waiting_message(spec, status, now))


def _act(*, spec: RolloutSpec, status: RolloutStatus, action: Action, now: datetime) -> Decision:
    refusal = action_refusal(spec=spec, status=status, action=action)
    if refusal is not None:
        return wait(spec, status, f"{action.value} ignored: {refusal}")
    if action is Action.RETRY:
        return restart_for_new_canary(spec=spec, status=status, now=now, retry=True)
    return apply_action(spec=spec, status=status, action=action, now=now)


def restart_for_new_canary(
    *, spec: RolloutSpec, status: RolloutStatus, now: datetime, retry: bool = False
) -> Decision:
    """Start the analysis of ``spec.target.canary`` from step 0 (pure).

    Used by ``decide`` when the spec's canary differs from ``status.canary_model`` (also
    on the first call, with an empty status, which records ``spec.target.stable`` as the
    stable model). Counters and the last analysis are cleared; the history is kept.
    ``START``: phase Progressing at the first weight (canary) or 0 with mirroring
    (blueGreen) or match rules (abTesting), first analysis one interval later.
    ``IDLE`` when the canary is the stable model: nothing to roll out, weight 0.
    ``retry``: the same, for a ``retry`` action on an aborted, failed or rolled-back canary.
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
        workload=WorkloadStatus() if spec.workload is not None else None,
    )
    if canary == stable:
        message = f"nothing to roll out: canary {canary.describe()} is the stable model"
        return move(
            spec,
            reset,
            kind=DecisionKind.IDLE,
            now=now,
            message=message,
            phase=Phase.IDLE,
            canary_weight=0,
            next_analysis_time=None,
        )
    if spec.workload is not None:
        kind = "retry of" if retry else "new"
        headline = f"{kind} canary {canary.describe()} (stable {stable.describe()})"
        return start(spec, spec.workload, reset, now, headline)
    weight = spec.analysis.steps[0] if spec.strategy.type is StrategyType.CANARY else 0
    message = (
        f"{'retry of' if retry else 'new'} canary {canary.describe()} "
        f"(stable {stable.describe()}): "
        f"{step_text(spec, 0, weight)}, first analysis in {interval_text(spec)}"
    )
    return move(
        spec,
        reset,
        kind=DecisionKind.START,
        now=now,
        message=message,
        phase=Phase.PROGRESSING,
        canary_weight=weight,
        next_analysis_time=now + interval_of(spec),
    )


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
        status, last_analysis=record, next_analysis_time=next_on_grid(spec, status, now)
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
            f"rolled back to {stable_name(status)}"
        )
        return roll_back(spec, after, now, message, phase=Phase.FAILED, record=record)
    if record.verdict is Verdict.FAIL or failed > status.failed_checks:
        reason += f"; failed ({failed}) <= failureLimit ({limit})"
    message = f"{reason}; holding at {step_text(spec, status.current_step, status.canary_weight)}"
    return move(spec, after, kind=DecisionKind.HOLD, now=now, message=message, record=record)


def _passed(
    spec: RolloutSpec, status: RolloutStatus, record: AnalysisRecord, now: datetime
) -> Decision:
    total = spec.total_steps
    if status.current_step + 1 < total:
        step, weight = next_step(spec, status)
        message = f"{record.message}; advancing to {step_text(spec, step, weight)}"
        return move(
            spec,
            status,
            kind=DecisionKind.ADVANCE,
            now=now,
            message=message,
            current_step=step,
            canary_weight=weight,
            record=record,
        )
    done = replace(status, current_step=total)
    if spec.analysis.manual_gate:
        message = (
            f"{record.message} at step {total}/{total}; waiting for a promote action (manualGate)"
        )
        decision = pause(spec, done, PauseReason.MANUAL_GATE, now, message)
        return replace(decision, analysis=record)
    message = f"{record.message} at step {total}/{total}; promoting {canary_name(status)}"
    decision = promote(spec, done, now, message, next_time=status.next_analysis_time)
    return replace(decision, analysis=record)


def _waiting_message(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> str:
    phase = status.phase
    if phase is Phase.PAUSED:
        if status.pause_reason is PauseReason.MANUAL_GATE:
            return "paused at the manual gate: waiting for a promote action"
        if status.pause_reason is PauseReason.SPEC:
            return "paused: spec.paused is true"
        return "paused by a pause action: waiting for a resume action"
    if awaiting_stable(spec=spec, status=status):
        canary = canary_name(status)
        return (
            f"promoting: all traffic on {canary} until the stable serves it "
            f"(spec.target.stable: {spec.target.stable.describe()}, waiting for {canary})"
        )
    left = seconds_until_due(spec=spec, status=status, now=now)
    if left is not None:
        return f"{phase.value}: next step in {left:.1f}s"
    if phase is Phase.SUCCEEDED:
        return f"succeeded: {stable_name(status)} is the stable model"
    if phase is Phase.IDLE:
        return f"idle: nothing to roll out ({stable_name(status)} is stable)"
    return f"{phase.value}: stable {stable_name(status)}; set a new spec.target.canary to retry"
