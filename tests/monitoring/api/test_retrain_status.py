"""``status.retrain`` read through ``RetrainStatus``: the fields the loop writes, a value it
never writes refused by name, and never written back by ``RolloutStatus.to_dict``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.api.retrain_status import RetrainOutcome, RetrainStatus
from monitoring.api.status import RolloutStatus
from monitoring.plugin.render import retrain_lines

WRITTEN = {
    "runningKey": "3f2a9c01de",
    "runningTrigger": "drift:share above 0.3 for 2 intervals",
    "lastStartedAt": "2026-01-01T12:00:00Z",
    "driftIntervalsAbove": 2,
    "lastDriftShare": 0.45,
    "lastOutcome": "refused",
    "lastReason": "challenger roc_auc 0.80 does not beat champion 0.84 by 0.01",
    "waitReason": "in cooldown for 3510 s more",
    "lastResult": {"new_tag": None, "trigger": "drift"},
    "history": [
        {"time": "2026-01-01T12:00:00Z", "step": "RetrainStarted", "message": "Job 3f2a"},
        {"time": "2026-01-01T12:05:00Z", "step": "RetrainRefused", "message": "not better"},
    ],
}


def test_every_written_field_is_read() -> None:
    retrain = RolloutStatus.from_dict({"phase": "Idle", "retrain": WRITTEN}).retrain
    assert retrain is not None
    assert retrain.running and retrain.running_key == "3f2a9c01de"
    assert retrain.running_trigger == "drift:share above 0.3 for 2 intervals"
    assert retrain.last_started_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert (retrain.drift_intervals_above, retrain.last_drift_share) == (2, 0.45)
    assert retrain.last_outcome is RetrainOutcome.REFUSED
    assert retrain.wait_reason == "in cooldown for 3510 s more"
    assert retrain.last_result == {"new_tag": None, "trigger": "drift"}
    assert [(h.step, h.message) for h in retrain.history] == [
        ("RetrainStarted", "Job 3f2a"),
        ("RetrainRefused", "not better"),
    ]
    assert not retrain.ended_without_version  # a Job runs again


@pytest.mark.parametrize(
    ("outcome", "ended"), [("refused", True), ("failed", True), ("registered", False)]
)
def test_ended_without_version_only_after_a_refused_or_failed_job(
    outcome: str, ended: bool
) -> None:
    retrain = RetrainStatus.from_dict({"lastOutcome": outcome})
    assert retrain is not None and retrain.ended_without_version is ended


def test_nothing_written_is_none_and_an_unknown_outcome_is_named() -> None:
    assert RetrainStatus.from_dict(None) is None
    assert RolloutStatus.from_dict({"phase": "Idle"}).retrain is None
    with pytest.raises(ValueError, match=r"retrain.lastOutcome='won': not one of registered"):
        RetrainStatus.from_dict({"lastOutcome": "won"})


def test_to_dict_never_writes_the_loops_part_back() -> None:
    status = RolloutStatus.from_dict({"phase": "Idle", "retrain": WRITTEN})
    assert "retrain" not in status.to_dict()


def test_the_plugin_shows_the_loop_from_the_typed_view() -> None:
    lines = retrain_lines(RetrainStatus.from_dict(WRITTEN))
    assert lines[1] == "Retraining:     Job 3f2a9c01de running"
    assert lines[2].startswith("Last outcome:   refused: challenger roc_auc 0.80")
    assert lines[3] == "Waiting:        in cooldown for 3510 s more"
    assert "2026-01-01T12:05:00Z" in lines[4] and "RetrainRefused" in lines[4]
    assert retrain_lines(None) == []
