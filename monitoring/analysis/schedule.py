"""When the engine acts: the analysis grid, and whether a step is due (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from monitoring.analysis.gates import promoting_workload, waiting_for_canary
from monitoring.api.spec import RolloutSpec
from monitoring.api.status import Phase, RolloutStatus

ANALYSIS_SLACK = 0.1
"""Fraction of the interval a call may come early (or late) and keep the analysis grid."""


def analysis_due(*, spec: RolloutSpec, status: RolloutStatus, now: datetime) -> bool:
    """Whether ``decide`` would run a timed step now (an analysis, or finishing a
    promotion), so the caller knows to fetch measurements first (pure)."""
    if status.phase not in (Phase.PROGRESSING, Phase.PROMOTING):
        return False
    if awaiting_stable(spec=spec, status=status) or waiting_for_canary(spec=spec, status=status):
        return False
    if status.phase is Phase.PROGRESSING and spec.paused:
        return False
    if status.canary_model != spec.target.canary:
        return False
    if status.next_analysis_time is None:
        return True
    slack = interval_of(spec) * ANALYSIS_SLACK
    return now >= status.next_analysis_time - slack


def first_window(*, spec: RolloutSpec, status: RolloutStatus, now: datetime) -> RolloutStatus:
    """``status`` with its next analysis no sooner than one interval after ``now`` (pure).

    For an operator that has just started sampling a Progressing rollout (a restart with
    a provider that keeps its own samples, primed at ``now``): an analysis before then
    would have no window to measure and be inconclusive by construction, not because of
    the canary. Any other status is returned unchanged; a later scheduled analysis stays.
    """
    if status.phase is not Phase.PROGRESSING:
        return status
    earliest = now + interval_of(spec)
    if status.next_analysis_time is not None and status.next_analysis_time >= earliest:
        return status
    return replace(status, next_analysis_time=earliest)


def seconds_until_due(*, spec: RolloutSpec, status: RolloutStatus, now: datetime) -> float | None:
    """Seconds until the next timed step (0 when due), ``None`` when none is scheduled."""
    if status.phase not in (Phase.PROGRESSING, Phase.PROMOTING):
        return None
    if awaiting_stable(spec=spec, status=status) or waiting_for_canary(spec=spec, status=status):
        return None
    if analysis_due(spec=spec, status=status, now=now) or status.next_analysis_time is None:
        return 0.0
    return (status.next_analysis_time - now).total_seconds()


def awaiting_stable(*, spec: RolloutSpec, status: RolloutStatus) -> bool:
    """Whether a promotion waits for the stable workload to serve the candidate (pure):
    with a traffic provider that cannot make the canary the stable by itself (an
    HTTPRoute), until ``spec.target.stable`` names it. Meanwhile all traffic stays on
    the candidate, so the old model never gets it back. With ``spec.workload`` the operator
    updates the stable Deployment itself, and the promotion waits for that instead."""
    if spec.workload is not None:
        return promoting_workload(spec=spec, status=status)
    return (
        status.phase is Phase.PROMOTING
        and not spec.traffic_provider.name.promotes_stable
        and spec.target.stable != status.canary_model
    )


def next_on_grid(spec: RolloutSpec, status: RolloutStatus, now: datetime) -> datetime:
    """One interval after the step that was due, so timer jitter does not drift the
    schedule; one interval after ``now`` when the call came much later than due."""
    interval = interval_of(spec)
    scheduled = status.next_analysis_time
    if scheduled is not None and now - scheduled <= interval * ANALYSIS_SLACK:
        return scheduled + interval
    return now + interval


def interval_of(spec: RolloutSpec) -> timedelta:
    """The analysis interval as a ``timedelta``."""
    return timedelta(seconds=spec.analysis.interval_seconds)


def interval_text(spec: RolloutSpec) -> str:
    """``30s``: the interval for messages."""
    return f"{spec.analysis.interval_seconds:g}s"
