"""The retraining loop's next move for one rollout (pure): start a Job, read its end, or wait.

``status.retrain`` (camelCase, in the ModelRollout status) is the loop's only memory:

```yaml
retrain:
  runningKey: 3f2a9c01de        # the Job running now (dedupe key), absent when none
  runningTrigger: "drift:share above 0.3 for 2 intervals"
  lastStartedAt: 2026-01-01T12:00:00Z
  lastCheckedAt: 2026-01-01T12:01:00Z   # the triggers are evaluated once per interval
  driftIntervalsAbove: 1
  driftCountedFor: churn:v3     # the champion those intervals measured (another one: reset)
  lastDriftShare: 0.45
  lastOutcome: registered       # registered | refused | failed
  lastReason: "challenger roc_auc 0.91 beats champion 0.84 by 0.07 >= margin 0.01"
  waitReason: "drift:share above 0.3 for 2 intervals: in cooldown for 3510 s more"
  lastResult: {...}             # canaria retrain's JSON result (trimmed)
  history: [{time, step, message}, ...]   # the last HISTORY_LIMIT steps
```

``plan`` takes that mapping, the measurements of this pass and, while a Job runs, what its
launcher says, and returns a ``Plan``: the Job to launch (if any), the version to make the
canary (if the Job registered one), the Events to post and the next ``status.retrain``.
The decision to start is ``monitoring.providers.jobs.policy.decide`` (triggers, cooldown,
one Job per rollout, dedupe key).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from monitoring.api.spec.retrain import RetrainSpec
from monitoring.api.status import format_time, parse_time
from monitoring.providers.interfaces import JobStatus
from monitoring.providers.jobs.policy import RetrainState, decide

HISTORY_LIMIT = 20
RESULT_KEYS = ("status", "reason", "metric", "margin", "champion", "champion_metrics",
               "challenger_metrics", "new_tag", "trigger", "data")  # fmt: skip
"""What of ``canaria retrain``'s result the status keeps (it is small; the rest stays in
the Job's log)."""


class Step(StrEnum):
    """A step of the loop, as ``status.retrain.history[].step`` and the Event reason."""

    STARTED = "RetrainStarted"
    SKIPPED = "RetrainSkipped"  # a trigger fired but a Job runs or the cooldown holds
    REGISTERED = "RetrainRegistered"  # a better version: it becomes the canary
    REFUSED = "RetrainRefused"  # the challenger did not beat the champion: nothing changes
    FAILED = "RetrainFailed"  # the Job crashed or was lost: nothing changes


@dataclass(frozen=True)
class Launch:
    key: str
    trigger: str
    champion: str


@dataclass(frozen=True)
class Plan:
    """``launch``: start this Job; ``canary``: set this bento tag as the rollout's canary;
    ``events``: (step, message) to post; ``status``: the next ``status.retrain`` (``None``:
    unchanged, nothing to write)."""

    launch: Launch | None = None
    canary: str | None = None
    events: tuple[tuple[Step, str], ...] = ()
    status: dict[str, Any] | None = None


@dataclass(frozen=True)
class Inputs:
    """What this pass measured: ``drift_share`` (``None``: no data, or not measured now),
    ``failed_checks`` (names failing in an analysis this pass), ``job`` (the running
    Job's report; ``None`` when none runs or it was not asked)."""

    drift_share: float | None = None
    failed_checks: Collection[str] = field(default_factory=tuple)
    job: JobStatus | None = None


def due(spec: RetrainSpec, retrain: Mapping[str, Any], *, interval: float, now: datetime) -> bool:
    """Whether the triggers are evaluated this pass: once per analysis ``interval``
    seconds, and never while a Job runs (its end is read instead)."""
    if retrain.get("runningKey"):
        return False
    checked = retrain.get("lastCheckedAt")
    return checked is None or (now - parse_time(checked)).total_seconds() >= interval * 0.9


def plan(
    spec: RetrainSpec,
    retrain: Mapping[str, Any],
    inputs: Inputs,
    *,
    rollout: str,
    champion: str | None,
    interval: float,
    now: datetime,
) -> Plan:
    """The loop's next move (pure); see the module docstring."""
    if retrain.get("runningKey"):
        return _poll(retrain, inputs.job, now=now)
    if not due(spec, retrain, interval=interval, now=now):
        return Plan()
    current = {**retrain, "lastCheckedAt": format_time(now)}
    if inputs.drift_share is not None:
        current["lastDriftShare"] = round(inputs.drift_share, 6)
    if champion is None:
        reason = "no champion: the stable model has no bentoTag to retrain from"
        return _note(current, Step.SKIPPED, reason, now=now, event=False)
    state = _state(retrain, champion)
    current["driftCountedFor"] = champion
    decision = decide(
        spec, state, rollout=rollout, champion=champion, drift_share=inputs.drift_share,
        failed_checks=inputs.failed_checks, now=now.timestamp(),
    )  # fmt: skip
    current["driftIntervalsAbove"] = decision.state.drift_intervals_above
    if not decision.start or decision.key is None:
        if decision.reason == "no trigger fired":
            return Plan(status=current)
        # A trigger inside the cooldown or while a Job runs: said once, not every pass.
        news = _gist(str(current.get("waitReason", ""))) != _gist(decision.reason)
        return _note(current, Step.SKIPPED, decision.reason, now=now, event=news)
    current.update(
        runningKey=decision.key, runningTrigger=decision.reason, lastStartedAt=format_time(now)
    )
    current.pop("waitReason", None)
    message = f"retraining Job {decision.key} started from {champion}: {decision.reason}"
    launch = Launch(key=decision.key, trigger=decision.reason, champion=champion)
    noted = _note(current, Step.STARTED, message, now=now)
    return Plan(launch=launch, events=noted.events, status=noted.status)


def _poll(retrain: Mapping[str, Any], job: JobStatus | None, *, now: datetime) -> Plan:
    """A Job runs: wait, or take its end (registered, refused, failed or lost)."""
    if job is None or job.phase == "running":
        return Plan()
    key = str(retrain["runningKey"])
    current = {k: v for k, v in retrain.items() if k not in ("runningKey", "runningTrigger")}
    result = dict(job.result or {})
    if result:
        current["lastResult"] = {k: result[k] for k in RESULT_KEYS if k in result}
    outcome = str(result.get("status", "")) if job.phase == "succeeded" else "failed"
    new_tag = result.get("new_tag")
    if outcome == "registered" and isinstance(new_tag, str) and new_tag:
        message = (
            f"Job {key} registered {new_tag}: {result.get('reason', '')}; it is the canary now"
        )
        current.update(lastOutcome="registered", lastReason=message)
        noted = _note(current, Step.REGISTERED, message, now=now)
        return Plan(canary=new_tag, events=noted.events, status=noted.status)
    if outcome == "refused":
        message = f"Job {key}: no new version, serving unchanged: {result.get('reason', '')}"
        current.update(lastOutcome="refused", lastReason=message)
        return _note(current, Step.REFUSED, message, now=now)
    why = job.reason or str(result.get("reason") or "") or f"ended {job.phase}"
    if job.phase == "succeeded":
        why = f"unexpected result {result.get('status')!r}: {why}"
    message = f"Job {key} failed, serving unchanged: {why}"
    current.update(lastOutcome="failed", lastReason=message)
    return _note(current, Step.FAILED, message, now=now)


def _note(
    current: dict[str, Any], step: Step, message: str, *, now: datetime, event: bool = True
) -> Plan:
    """``current`` with ``message`` as the last reason (``waitReason`` for a trigger that
    could not start a Job: the last Job's reason stays); an event also goes to the history."""
    status = {**current, "waitReason" if step is Step.SKIPPED else "lastReason": message}
    if not event:
        return Plan(status=status)
    entry = {"time": format_time(now), "step": step.value, "message": message}
    status["history"] = [*(current.get("history") or []), entry][-HISTORY_LIMIT:]
    return Plan(events=((step, message),), status=status)


def _gist(reason: str) -> str:
    """A reason without its numbers ("in cooldown for 510 s more" stays the same news)."""
    return re.sub(r"[0-9][0-9.]*", "#", reason)


def _state(retrain: Mapping[str, Any], champion: str) -> RetrainState:
    """The policy's memory. Drift intervals counted while another champion served (before
    a promotion, say) are stale evidence about a model no longer serving: they restart
    from 0, so a Job never starts on them once the cooldown ends."""
    started = retrain.get("lastStartedAt")
    same_champion = retrain.get("driftCountedFor") == champion
    return RetrainState(
        last_started_at=parse_time(started).timestamp() if started else None,
        running_key=retrain.get("runningKey") or None,
        drift_intervals_above=int(retrain.get("driftIntervalsAbove") or 0) if same_champion else 0,
    )
