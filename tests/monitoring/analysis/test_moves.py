"""The moves one by one (``monitoring.analysis.moves``), the condition update
(``transitions.set_condition``) and the fast-abort rollback: every status field each move
clears or keeps, the time it records, and the names it prints (expected values by hand)."""

from __future__ import annotations

from datetime import timedelta

from monitoring.analysis import BreakerTrip
from monitoring.analysis.fast_abort import abort_for_trip
from monitoring.analysis.moves import (
    canary_name,
    complete,
    promote,
    resume,
    roll_back,
    stable_name,
    step_text,
)
from monitoring.analysis.transitions import set_condition
from monitoring.api.spec import parse_spec
from monitoring.api.status import (
    AnalysisRecord,
    Condition,
    DecisionKind,
    PauseReason,
    Phase,
    RolloutStatus,
    Verdict,
)
from tests.monitoring.analysis.engine_driver import T0, V1, V2, make_spec

NOW = T0 + timedelta(minutes=5)
LATER = T0 + timedelta(minutes=7)
RECORD = AnalysisRecord(time=NOW, verdict=Verdict.FAIL, checks=(), message="latency failed")


def paused(**changes: object) -> RolloutStatus:
    """A canary paused by an action at 20% (step 2), its next analysis pending at LATER."""
    fields: dict[str, object] = {
        "phase": Phase.PAUSED,
        "canary_weight": 20,
        "current_step": 1,
        "stable_model": V1,
        "canary_model": V2,
        "pause_reason": PauseReason.ACTION,
        "next_analysis_time": LATER,
        **changes,
    }
    return RolloutStatus(**fields)  # type: ignore[arg-type]


def test_names_of_missing_models_are_none_in_angle_brackets() -> None:
    assert stable_name(RolloutStatus()) == "<none>"
    assert canary_name(RolloutStatus()) == "<none>"
    assert stable_name(paused()) == "churn:v1"
    assert canary_name(paused()) == "churn:v2"


def test_roll_back_clears_the_pause_and_the_next_analysis_and_keeps_the_record() -> None:
    decision = roll_back(
        make_spec(), paused(), NOW, "rolled back", phase=Phase.FAILED, record=RECORD,
        failed_checks=3,
    )  # fmt: skip
    assert decision.kind is DecisionKind.ROLLBACK
    assert decision.analysis is RECORD
    status = decision.status
    assert status.phase is Phase.FAILED
    assert status.canary_weight == 0
    assert status.pause_reason is None
    assert status.next_analysis_time is None
    assert status.failed_checks == 3
    assert status.history[-1].time == NOW


def test_resume_clears_the_pause_and_records_the_time() -> None:
    decision = resume(make_spec(), paused(), NOW, "resumed")
    assert decision.message == "resumed; next analysis in 30s"
    assert decision.status.phase is Phase.PROGRESSING
    assert decision.status.pause_reason is None
    assert decision.status.next_analysis_time == NOW + timedelta(seconds=30)
    assert decision.status.history[-1].time == NOW
    assert {c.last_transition_time for c in decision.status.conditions} == {NOW}


def test_promote_clears_the_pause() -> None:
    status = paused(pause_reason=PauseReason.MANUAL_GATE)
    decision = promote(make_spec(), status, NOW, "manual promote")
    assert decision.status.pause_reason is None
    assert decision.status.canary_weight == 100
    assert decision.status.next_analysis_time == NOW + timedelta(seconds=30)


def test_promote_with_a_workload_names_the_stable_deployment() -> None:
    spec = parse_spec(
        {
            "target": {"stable": {"bentoTag": "churn:v1"}, "canary": {"bentoTag": "churn:v2"}},
            "trafficProvider": {"name": "noop"},
            "workload": {"stable": "churn-stable", "canary": "churn-canary"},
            "analysis": {
                "interval": "30s",
                "stepWeights": [10, 50],
                "checks": [{"name": "ok", "builtin": "requestSuccessRate", "min": 0.9}],
            },
        }
    )
    decision = promote(spec, paused(), NOW, "manual promote")
    assert decision.message == (
        "manual promote: all traffic to the candidate while the stable is updated "
        "(complete once Deployment churn-stable runs it)"
    )


def test_complete_clears_the_next_analysis() -> None:
    status = paused(phase=Phase.PROMOTING, canary_weight=100, pause_reason=None)
    decision = complete(make_spec(), status, NOW)
    assert decision.message == "promoted: churn:v2 is the stable model"
    assert decision.status.stable_model == V2
    assert decision.status.next_analysis_time is None


def test_ab_testing_step_text_counts_analyses_from_one() -> None:
    strategy = {
        "type": "abTesting",
        "match": [{"type": "header", "name": "x-cohort", "value": "b"}],
    }
    spec = make_spec(strategy=strategy, iterations=3)
    assert step_text(spec, 0, 0) == "matching requests only, analysis 1/3"
    assert step_text(spec, 2, 0) == "matching requests only, analysis 3/3"


def test_set_condition_replaces_only_the_condition_of_its_type() -> None:
    ready = Condition("Ready", "True", "Up", "serving", T0)
    progressing = Condition("Progressing", "True", "Progressing", "step 1", T0)
    updated = set_condition(
        (ready, progressing),
        type="Progressing",
        status="False",
        reason="Failed",
        message="rolled back",
        now=NOW,
    )
    assert updated == (ready, Condition("Progressing", "False", "Failed", "rolled back", NOW))


def test_fast_abort_records_the_time_of_the_rollback() -> None:
    trip = BreakerTrip(replica="r1", tripped_at="2025-01-01T00:04:59Z", reason="5 failures")
    status = paused(phase=Phase.PROGRESSING, pause_reason=None)
    decision = abort_for_trip(spec=make_spec(), status=status, trip=trip, now=NOW)
    assert decision is not None
    assert decision.status.phase is Phase.FAILED
    assert decision.status.history[-1].time == NOW
    assert {c.last_transition_time for c in decision.status.conditions} == {NOW}
