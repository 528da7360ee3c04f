"""The retraining loop's decisions (pure): triggers, cooldown, one Job, the Job's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitoring.api.spec.retrain import parse_retrain
from monitoring.api.status import format_time
from monitoring.operator.retrain_plan import Inputs, Step, plan
from monitoring.providers.interfaces import JobStatus

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SPEC = parse_retrain(
    {
        "launcher": "local",
        "triggers": {"driftShare": {"above": 0.3, "intervals": 2}, "failedChecks": ["accuracy"]},
        "cooldownSeconds": 600,
    }
)


def run(retrain: dict[str, Any], inputs: Inputs, *, at: float = 0.0, champion: str | None = "m:v1"):
    return plan(
        SPEC, retrain, inputs, rollout="ml/churn", champion=champion, interval=30.0,
        now=T0 + timedelta(seconds=at),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("shares", "starts"),
    [
        ([0.5, 0.5], True),  # above for 2 intervals
        ([0.5, 0.1], False),  # reset by a low interval
        ([0.5, None, 0.5], True),  # no data neither counts nor resets
        ([0.3, 0.3], False),  # at the threshold is not above
        ([None, None, None], False),
    ],
)
def test_drift_share_above_the_threshold_for_n_intervals_starts_one_job(
    shares: list[float | None], starts: bool
) -> None:
    retrain: dict[str, Any] = {}
    launches = []
    for index, share in enumerate(shares):
        step = run(retrain, Inputs(drift_share=share), at=30.0 * index)
        retrain = step.status if step.status is not None else retrain
        if step.launch is not None:
            launches.append(step.launch)
    assert len(launches) == (1 if starts else 0)
    if starts:
        assert retrain["runningKey"] == launches[0].key
        assert retrain["history"][-1]["step"] == Step.STARTED.value
        assert launches[0].champion == "m:v1" and launches[0].trigger.startswith("drift:")


def test_a_failing_check_starts_a_job_and_an_unlisted_one_does_not() -> None:
    assert run({}, Inputs(failed_checks=("latency-p99",))).launch is None
    step = run({}, Inputs(failed_checks=("accuracy",)))
    assert step.launch is not None and step.launch.trigger == "checks:accuracy failing"
    assert step.events[0][0] is Step.STARTED


def test_triggers_are_evaluated_once_per_interval() -> None:
    first = run({}, Inputs(drift_share=0.9))
    assert first.status is not None and first.status["driftIntervalsAbove"] == 1
    assert run(first.status, Inputs(drift_share=0.9), at=10.0) == type(first)()  # not due


def test_two_triggers_inside_the_cooldown_start_one_job() -> None:
    started = run({}, Inputs(failed_checks=("accuracy",)))
    assert started.launch is not None and started.status is not None
    refused = {k: v for k, v in started.status.items() if k not in ("runningKey",)}
    refused |= {"lastOutcome": "refused"}
    again = run(refused, Inputs(failed_checks=("accuracy",)), at=60.0)
    assert again.launch is None
    assert again.events[0][0] is Step.SKIPPED and "cooldown" in again.events[0][1]
    assert again.status is not None
    quiet = run(again.status, Inputs(failed_checks=("accuracy",)), at=90.0)
    assert quiet.launch is None and quiet.events == ()  # said once, not every pass
    later = run(quiet.status or again.status, Inputs(failed_checks=("accuracy",)), at=700.0)
    assert later.launch is not None


def running() -> dict[str, Any]:
    return {"runningKey": "k1", "runningTrigger": "drift", "lastStartedAt": format_time(T0)}


def test_a_running_job_is_polled_not_restarted() -> None:
    assert (
        run(running(), Inputs(job=JobStatus("running", None, ""), drift_share=0.9)).launch is None
    )
    assert run(running(), Inputs()).status is None


def test_a_registered_version_becomes_the_canary() -> None:
    result = {"status": "registered", "new_tag": "m:v2", "reason": "0.9 beats 0.8", "x": 1}
    step = run(running(), Inputs(job=JobStatus("succeeded", result, "")), at=40.0)
    assert step.canary == "m:v2"
    assert step.status is not None and "runningKey" not in step.status
    assert step.status["lastOutcome"] == "registered"
    assert step.status["lastResult"] == {"status": "registered", "new_tag": "m:v2",
                                         "reason": "0.9 beats 0.8"}  # fmt: skip
    assert step.events[0][0] is Step.REGISTERED


@pytest.mark.parametrize(
    ("job", "outcome", "step"),
    [
        (JobStatus("succeeded", {"status": "refused", "reason": "worse"}, ""), "refused",
         Step.REFUSED),
        (JobStatus("failed", {"status": "failed", "reason": "boom"}, "boom"), "failed",
         Step.FAILED),
        (JobStatus("failed", None, "exited 1, no result"), "failed", Step.FAILED),
        (JobStatus("unknown", None, "no local Job with key k1"), "failed", Step.FAILED),
        (JobStatus("succeeded", {"status": "registered"}, ""), "failed", Step.FAILED),
    ],
)  # fmt: skip
def test_a_job_that_does_not_register_leaves_serving_untouched(
    job: JobStatus, outcome: str, step: Step
) -> None:
    done = run(running(), Inputs(job=job))
    assert done.canary is None and done.launch is None
    assert done.status is not None and done.status["lastOutcome"] == outcome
    assert "runningKey" not in done.status
    assert done.events[0][0] is step and "k1" in done.events[0][1]


def test_no_champion_tag_is_said_not_launched() -> None:
    step = run({}, Inputs(failed_checks=("accuracy",)), champion=None)
    assert step.launch is None and step.status is not None
    assert "no champion" in step.status["waitReason"]


def test_drift_counted_for_another_champion_never_starts_a_job() -> None:
    # Two intervals above while v1 served (the canary of a retrained v2 ran meanwhile)...
    first = run({}, Inputs(drift_share=0.9))
    assert first.status is not None and first.status["driftCountedFor"] == "m:v1"
    # ...then v2 is promoted: its first window above the threshold is interval 1, not 2.
    after = run(first.status, Inputs(drift_share=0.9), at=30.0, champion="m:v2")
    assert after.launch is None and after.status is not None
    assert (after.status["driftIntervalsAbove"], after.status["driftCountedFor"]) == (1, "m:v2")
    # A "no data" window right after the promotion neither counts nor carries v1's count.
    quiet = run(
        {**first.status, "driftIntervalsAbove": 5}, Inputs(drift_share=None), at=30.0,
        champion="m:v2",
    )  # fmt: skip
    assert quiet.launch is None and quiet.status is not None
    assert quiet.status["driftIntervalsAbove"] == 0
    again = run(after.status, Inputs(drift_share=0.9), at=60.0, champion="m:v2")
    assert again.launch is not None and again.launch.champion == "m:v2"  # its own 2 intervals
