"""The ``retrain`` section and when a retraining Job starts: triggers, cooldown, dedupe."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.providers.jobs.policy import RetrainState, decide, finished
from monitoring.providers.jobs.spec import RetrainSpecError, parse_retrain

SPEC = parse_retrain(
    {
        "launcher": "local",
        "triggers": {"driftShare": {"above": 0.3, "intervals": 2}, "failedChecks": ["auc"]},
        "cooldownSeconds": 600,
    }
)


def _decide(state: RetrainState, *, share: float | None, now: float, failed: tuple = ()) -> Any:
    return decide(
        SPEC, state, rollout="churn", champion="churn-classifier:v1",
        drift_share=share, failed_checks=failed, now=now,
    )  # fmt: skip


def test_drift_must_hold_for_n_intervals_and_no_data_neither_counts_nor_resets() -> None:
    first = _decide(RetrainState(), share=0.5, now=0)
    assert not first.start and first.state.drift_intervals_above == 1
    gap = _decide(first.state, share=None, now=10)
    assert gap.state.drift_intervals_above == 1
    second = _decide(gap.state, share=0.5, now=20)
    assert second.start and second.key and second.reason.startswith("drift:")


def test_two_triggers_inside_the_cooldown_start_one_job() -> None:
    started = _decide(RetrainState(), share=None, now=0, failed=("auc",))
    assert started.start
    again = _decide(started.state, share=None, now=5, failed=("auc",))
    assert not again.start and "already running" in again.reason
    done = finished(again.state)
    cooling = _decide(done, share=None, now=300, failed=("auc",))
    assert not cooling.start and "cooldown" in cooling.reason
    later = _decide(done, share=None, now=700, failed=("auc",))
    assert later.start and later.key == started.key  # same rollout, champion, trigger kind


def test_a_schedule_fires_when_due() -> None:
    spec = parse_retrain({"launcher": "local", "triggers": {"scheduleSeconds": 3600}})
    kwargs: dict[str, Any] = {"rollout": "r", "champion": "c", "drift_share": None,
                              "failed_checks": ()}  # fmt: skip
    assert decide(spec, RetrainState(), now=0, **kwargs).start
    assert not decide(spec, RetrainState(last_started_at=0), now=100, **kwargs).start


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"triggers": {}}, "at least one of"),
        ({"launcher": "ssh", "triggers": {"scheduleSeconds": 60}}, "retrain.launcher"),
        ({"triggers": {"driftShare": {"intervals": 2}}}, "driftShare.above is required"),
        ({"triggers": {"scheduleSeconds": 60}}, "retrain.job.image is required"),
        ({"launcher": "local", "triggers": {"scheduleSeconds": 60}, "cooldown": 1}, "unknown"),
        ({"launcher": "local", "triggers": {"failedChecks": "auc"}}, "failedChecks"),
    ],
)
def test_bad_sections_are_refused_naming_the_field(data: dict[str, Any], named: str) -> None:
    with pytest.raises(RetrainSpecError, match=named):
        parse_retrain(data)
