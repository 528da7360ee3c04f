"""When to start a retraining Job: triggers, cooldown, one Job per rollout, dedupe (pure).

The operator keeps a ``RetrainState`` in the rollout's status and calls ``decide`` once per
analysis with what it measured. A Job is started only when a trigger fires, no Job of the
rollout is running, and the cooldown since the last start has passed. The dedupe key names
the rollout, the champion and the trigger kind, and is the Job's name suffix: a second
start with the same key (two operator replicas, a retried reconcile) finds the Job exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, replace

from monitoring.providers.jobs.spec import RetrainSpec


@dataclass(frozen=True)
class RetrainState:
    """What the operator remembers between analyses (kept in the CR status)."""

    last_started_at: float | None = None
    running_key: str | None = None
    drift_intervals_above: int = 0


@dataclass(frozen=True)
class Decision:
    """``start``: launch a Job with ``key`` now; ``reason`` says why or why not."""

    start: bool
    reason: str
    key: str | None
    state: RetrainState


def dedupe_key(rollout: str, champion: str, trigger: str) -> str:
    """A short DNS-label-safe key for one (rollout, champion, trigger kind)."""
    digest = hashlib.sha256(f"{rollout}\x00{champion}\x00{trigger}".encode()).hexdigest()
    return digest[:10]


def decide(
    spec: RetrainSpec,
    state: RetrainState,
    *,
    rollout: str,
    champion: str,
    drift_share: float | None,
    failed_checks: Collection[str],
    now: float,
) -> Decision:
    """The next move. ``drift_share`` ``None`` is no data: it neither counts nor resets."""
    above = state.drift_intervals_above
    if spec.drift is not None and drift_share is not None:
        above = above + 1 if drift_share > spec.drift.above else 0
    state = replace(state, drift_intervals_above=above)
    trigger = _fired(spec, state, failed_checks, now)
    if trigger is None:
        return Decision(False, "no trigger fired", None, state)
    if state.running_key is not None:
        return Decision(False, f"{trigger}: a Job is already running", None, state)
    since = None if state.last_started_at is None else now - state.last_started_at
    if since is not None and since < spec.cooldown_seconds:
        wait = spec.cooldown_seconds - since
        return Decision(False, f"{trigger}: in cooldown for {wait:.0f} s more", None, state)
    key = dedupe_key(rollout, champion, trigger.split(":")[0])
    started = replace(state, last_started_at=now, running_key=key, drift_intervals_above=0)
    return Decision(True, trigger, key, started)


def finished(state: RetrainState) -> RetrainState:
    """The state once the running Job ended (succeeded or failed): none running."""
    return replace(state, running_key=None)


def _fired(
    spec: RetrainSpec, state: RetrainState, failed_checks: Collection[str], now: float
) -> str | None:
    if spec.drift is not None and state.drift_intervals_above >= spec.drift.intervals:
        return f"drift:share above {spec.drift.above} for {state.drift_intervals_above} intervals"
    failing = sorted(set(spec.failed_checks) & set(failed_checks))
    if failing:
        return f"checks:{','.join(failing)} failing"
    if spec.schedule_seconds is not None and (
        state.last_started_at is None or now - state.last_started_at >= spec.schedule_seconds
    ):
        return f"schedule:every {spec.schedule_seconds:.0f} s"
    return None
