"""``read_status``: a client's one way to read a ModelRollout status (monitoring/api/observe.py)."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.observe import StatusError, read_status, status_of
from monitoring.api.status import DecisionKind, Phase, RolloutStatus

DECISION = {"time": "2025-01-01T12:00:00Z", "decision": "start", "phase": "Progressing"}


def test_no_status_yet_is_none_and_a_partial_one_reads_with_defaults() -> None:
    assert read_status(None) is None and read_status({}) is None
    assert status_of({"metadata": {"name": "a"}}) is None
    partial = read_status({"workload": {"canaryReady": True}})
    assert partial is not None and partial.phase is Phase.IDLE and partial.canary_weight == 0
    assert partial.workload is not None and partial.workload.canary_ready


def test_an_operator_status_reads_back_whole() -> None:
    status = read_status({"phase": "Progressing", "canaryWeight": 10, "history": [DECISION]})
    assert status == RolloutStatus.from_dict(status.to_dict() if status else {})
    assert status is not None and status.history[0].decision is DecisionKind.START


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ({"phase": "Verifying"}, "status.phase='Verifying': not one of Idle, Progressing,"),
        ({"history": [DECISION, {"decision": "advance"}]}, "status.history[1]: missing 'time'"),
        ({"history": [{**DECISION, "phase": "Nope"}]}, "status.history[0].phase='Nope'"),
        ({"canaryWeight": "ten"}, "status.canaryWeight='ten': invalid literal"),
        (
            {"lastAnalysis": {"time": "2025-01-01T12:00:00Z", "verdict": "meh"}},
            "status.lastAnalysis.verdict='meh': not one of pass, fail, inconclusive",
        ),
        ({"nextAnalysisTime": "soon"}, "status.nextAnalysisTime='soon': Invalid isoformat"),
        ("Progressing", "status: expected an object, got str"),
    ],
)
def test_a_malformed_status_names_the_field(status: Any, message: str) -> None:
    with pytest.raises(StatusError) as caught:
        read_status(status)
    assert str(caught.value).startswith(message), caught.value
