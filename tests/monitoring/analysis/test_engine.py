"""The analysis engine, decision by decision, with the exact messages it writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from canaria.contracts.routes import Routes
from monitoring.analysis import (
    Measurement,
    analysis_due,
    decide,
    desired_routes,
    seconds_until_due,
)
from monitoring.api.spec import (
    Action,
    ModelRef,
    RolloutSpec,
    TrafficProviderName,
    TrafficProviderSpec,
)
from monitoring.api.status import (
    HISTORY_LIMIT,
    DecisionKind,
    Phase,
    RolloutStatus,
    Verdict,
)
from tests.monitoring.analysis.engine_driver import (
    BAD,
    GOOD,
    NONE,
    T0,
    V1,
    V2,
    Driver,
    make_spec,
    with_canary,
)


def test_first_call_starts_the_canary_at_the_first_step() -> None:
    decision = Driver(make_spec()).call()
    assert decision.kind is DecisionKind.START
    assert decision.message == (
        "new canary churn:v2 (stable churn:v1): 10% (step 1/5), first analysis in 30s"
    )
    status = decision.status
    assert (status.phase, status.canary_weight, status.current_step) == (Phase.PROGRESSING, 10, 0)
    assert (status.stable_model, status.canary_model) == (V1, V2)
    assert status.next_analysis_time == T0 + timedelta(seconds=30)
    assert decision.routes == Routes(canary_weight=10)
    assert [h.decision for h in status.history] == [DecisionKind.START]


def test_a_canary_equal_to_the_stable_is_idle() -> None:
    decision = Driver(with_canary(make_spec(), V1)).call()
    assert decision.kind is DecisionKind.IDLE
    assert decision.status.phase is Phase.IDLE
    assert decision.routes == Routes(canary_weight=0)
    assert decision.message == "nothing to roll out: canary churn:v1 is the stable model"
    assert Driver(with_canary(make_spec(), V1), decision.status).call().kind is DecisionKind.WAIT


@pytest.mark.parametrize(
    ("after", "kind"),
    [
        (0, DecisionKind.WAIT),
        (15, DecisionKind.WAIT),
        (26.9, DecisionKind.WAIT),
        (27, DecisionKind.ADVANCE),
        (30, DecisionKind.ADVANCE),
        (300, DecisionKind.ADVANCE),
    ],
)
def test_analysis_runs_once_the_interval_has_passed(after: float, kind: DecisionKind) -> None:
    driver = Driver(make_spec()).started()
    before = driver.status
    due = analysis_due(spec=driver.spec, status=before, now=T0 + timedelta(seconds=after))
    decision = driver.call(GOOD, after=after)
    assert decision.kind is kind
    assert due is (kind is DecisionKind.ADVANCE)
    if kind is DecisionKind.WAIT:
        assert decision.status is before
        assert not decision.changed
        assert decision.routes == Routes(canary_weight=10)
        assert decision.message.startswith("Progressing: next step in ")


def test_seconds_until_due() -> None:
    driver = Driver(make_spec()).started()
    assert seconds_until_due(spec=driver.spec, status=driver.status, now=T0) == 30
    later = T0 + timedelta(seconds=28)
    assert seconds_until_due(spec=driver.spec, status=driver.status, now=later) == 0
    assert seconds_until_due(spec=driver.spec, status=RolloutStatus(), now=T0) is None


def test_passing_analyses_advance_step_by_step_then_promote_and_complete() -> None:
    driver = Driver(make_spec()).started()
    weights = []
    for _ in range(4):
        decision = driver.tick(GOOD)
        assert decision.kind is DecisionKind.ADVANCE
        weights.append(decision.routes.canary_weight)
    assert weights == [20, 30, 40, 50]
    assert decision.message == "all 1 checks passed; advancing to 50% (step 5/5)"
    assert decision.analysis is not None and decision.analysis.verdict is Verdict.PASS

    decision = driver.tick(GOOD)
    assert decision.kind is DecisionKind.PROMOTE
    assert decision.message == (
        "all 1 checks passed at step 5/5; promoting churn:v2: "
        "all traffic to the candidate while the stable is updated"
    )
    assert decision.status.phase is Phase.PROMOTING
    assert decision.routes == Routes(canary_weight=100)
    assert decision.status.canary_model == V2  # the stable workload is updated to it
    assert driver.call(BAD, after=10).kind is DecisionKind.WAIT  # the stable is being updated

    decision = driver.call(BAD, after=20)
    assert decision.kind is DecisionKind.COMPLETE
    assert decision.message == "promoted: churn:v2 is the stable model"
    status = decision.status
    assert (status.phase, status.canary_weight, status.stable_model) == (Phase.SUCCEEDED, 0, V2)
    assert decision.routes == Routes(canary_weight=0)
    conditions = {c.type: c.status for c in status.conditions}
    assert conditions == {"Progressing": "False", "Promoted": "True"}

    decision = driver.tick(BAD)
    assert decision.kind is DecisionKind.WAIT
    assert decision.message == "succeeded: churn:v2 is the stable model"


def gateway_spec(*, stable: ModelRef = V1) -> RolloutSpec:
    spec = make_spec(stepWeight=50)
    traffic = TrafficProviderSpec(
        name=TrafficProviderName.GATEWAY_API, settings={"httpRoute": {"name": "churn"}}
    )
    return replace(spec, traffic_provider=traffic, target=replace(spec.target, stable=stable))


def test_an_httproute_promotion_keeps_the_traffic_until_the_stable_serves_the_candidate() -> None:
    driver = Driver(gateway_spec()).started()
    decision = driver.tick(GOOD)
    assert decision.kind is DecisionKind.PROMOTE
    assert decision.message.endswith(
        "while the stable is updated (complete once spec.target.stable is churn:v2)"
    )
    # The stable Service still serves v1: everything stays on the candidate, not due.
    for after in (30, 3600):
        decision = driver.call(GOOD, after=after)
        assert decision.kind is DecisionKind.WAIT
        assert decision.routes == Routes(canary_weight=100)
        assert decision.message == (
            "promoting: all traffic on churn:v2 until the stable serves it "
            "(spec.target.stable: churn:v1, waiting for churn:v2)"
        )
        assert not analysis_due(spec=driver.spec, status=driver.status, now=driver.now)
        assert seconds_until_due(spec=driver.spec, status=driver.status, now=driver.now) is None

    driver.spec = gateway_spec(stable=V2)  # the stable workload now serves the candidate
    decision = driver.call(GOOD)
    assert decision.kind is DecisionKind.COMPLETE
    assert (decision.status.phase, decision.status.stable_model) == (Phase.SUCCEEDED, V2)
    assert decision.routes == Routes(canary_weight=0)


def test_a_failing_check_holds_then_rolls_back_past_the_failure_limit() -> None:
    driver = Driver(make_spec(failureLimit=2)).started()
    first = driver.tick(BAD)
    assert first.kind is DecisionKind.HOLD
    assert first.message == (
        "latency 1.84 s > max 0.50 s; failed (1) <= failureLimit (2); holding at 10% (step 1/5)"
    )
    assert first.routes == Routes(canary_weight=10)
    assert first.status.failed_checks == 1
    assert driver.tick(BAD).kind is DecisionKind.HOLD
    last = driver.tick(BAD)
    assert last.kind is DecisionKind.ROLLBACK
    assert last.message == (
        "latency 1.84 s > max 0.50 s; failed (3) > failureLimit (2); rolled back to churn:v1"
    )
    status = last.status
    assert (status.phase, status.canary_weight, status.stable_model) == (Phase.FAILED, 0, V1)
    assert last.routes == Routes(canary_weight=0)
    assert {c.type: c.status for c in status.conditions}["Promoted"] == "False"
    assert driver.tick(GOOD).kind is DecisionKind.WAIT


def test_failures_accumulate_across_passing_analyses() -> None:
    driver = Driver(make_spec(failureLimit=1)).started()
    assert driver.tick(BAD).kind is DecisionKind.HOLD
    assert driver.tick(GOOD).kind is DecisionKind.ADVANCE
    assert driver.status.failed_checks == 1
    assert driver.tick(BAD).kind is DecisionKind.ROLLBACK


def test_failure_limit_zero_rolls_back_at_the_first_failure() -> None:
    driver = Driver(make_spec(failureLimit=0)).started()
    assert driver.tick(BAD).kind is DecisionKind.ROLLBACK


def test_no_data_is_inconclusive_and_counts_as_failed_beyond_the_limit() -> None:
    driver = Driver(make_spec(inconclusiveLimit=1, failureLimit=1)).started()
    first = driver.tick(NONE)
    assert first.kind is DecisionKind.HOLD
    assert first.message == (
        "latency: no data (canary); inconclusive (1) <= inconclusiveLimit (1); "
        "holding at 10% (step 1/5)"
    )
    assert (first.status.inconclusive_count, first.status.failed_checks) == (1, 0)
    second = driver.tick({"latency": Measurement(canary=None, stable=0.2)})
    assert second.kind is DecisionKind.HOLD
    assert second.message == (
        "latency: no data (canary); inconclusive (2) > inconclusiveLimit (1); "
        "failed (1) <= failureLimit (1); holding at 10% (step 1/5)"
    )
    third = driver.tick({"latency": Measurement(canary=float("nan"))})
    assert third.kind is DecisionKind.ROLLBACK
    assert third.message.endswith("failed (2) > failureLimit (1); rolled back to churn:v1")


def test_a_conclusive_analysis_resets_the_inconclusive_run() -> None:
    driver = Driver(make_spec(inconclusiveLimit=1)).started()
    driver.tick(NONE)
    assert driver.tick(GOOD).status.inconclusive_count == 0
    driver.tick(NONE)
    assert driver.tick(BAD).status.inconclusive_count == 0
    assert driver.status.failed_checks == 1


def test_no_data_never_promotes() -> None:
    driver = Driver(make_spec(inconclusiveLimit=100, failureLimit=100)).started()
    kinds = {driver.tick(NONE).kind for _ in range(50)}
    assert kinds == {DecisionKind.HOLD}
    assert driver.status.current_step == 0


def test_one_failing_check_among_passing_ones_fails_the_analysis() -> None:
    checks = [
        {"name": "latency", "builtin": "latencyP99", "max": 0.5},
        {"name": "success", "builtin": "requestSuccessRate", "min": 0.99},
        {"name": "drift", "builtin": "driftShare", "max": 0.3},
    ]
    driver = Driver(make_spec(checks=checks)).started()
    decision = driver.tick({**GOOD, "success": Measurement(0.9), "drift": Measurement(None)})
    assert decision.kind is DecisionKind.HOLD
    assert decision.message.startswith("success 0.90 < min 0.99; failed (1)")
    assert decision.analysis is not None
    verdicts = [(c.name, c.verdict) for c in decision.analysis.checks]
    assert verdicts == [
        ("latency", Verdict.PASS),
        ("success", Verdict.FAIL),
        ("drift", Verdict.INCONCLUSIVE),
    ]
    assert driver.status.last_analysis == decision.analysis


def test_rollback_comes_within_interval_times_failure_limit_plus_one() -> None:
    spec = make_spec(failureLimit=2)
    interval = spec.analysis.interval_seconds
    for offset in (0.1, 10.0, 29.9):  # where the first bad sample falls between analyses
        driver = Driver(spec).started()
        driver.tick(GOOD)
        first_bad = driver.now + timedelta(seconds=offset)
        while driver.call(BAD, after=interval).kind is not DecisionKind.ROLLBACK:
            assert driver.now - first_bad < timedelta(seconds=interval * 4)
        elapsed = (driver.now - first_bad).total_seconds()
        assert elapsed <= interval * (2 + 1)


def test_a_new_canary_restarts_from_step_zero_and_keeps_the_history() -> None:
    driver = Driver(make_spec(failureLimit=5)).started()
    driver.tick(GOOD)
    driver.tick(BAD)
    assert (driver.status.current_step, driver.status.failed_checks) == (1, 1)
    v3 = ModelRef(bento_tag="churn:v3")
    driver.spec = with_canary(driver.spec, v3)
    assert analysis_due(spec=driver.spec, status=driver.status, now=driver.now) is False
    decision = driver.call(GOOD, after=1, action=Action.PROMOTE)
    assert decision.kind is DecisionKind.START
    status = decision.status
    assert (status.phase, status.canary_weight, status.current_step) == (Phase.PROGRESSING, 10, 0)
    assert (status.failed_checks, status.inconclusive_count, status.last_analysis) == (0, 0, None)
    assert (status.stable_model, status.canary_model) == (V1, v3)
    assert [h.decision for h in status.history] == [
        DecisionKind.START,
        DecisionKind.ADVANCE,
        DecisionKind.HOLD,
        DecisionKind.START,
    ]


def test_a_new_canary_after_a_failure_or_a_promotion_starts_again() -> None:
    driver = Driver(make_spec(failureLimit=0)).started()
    driver.tick(BAD)
    assert driver.status.phase is Phase.FAILED
    driver.spec = with_canary(driver.spec, ModelRef(bento_tag="churn:v3"))
    assert driver.call(after=1).kind is DecisionKind.START

    promoted = RolloutStatus(
        phase=Phase.SUCCEEDED, stable_model=V2, canary_model=V2, canary_weight=0
    )
    driver = Driver(make_spec(), promoted)
    assert driver.call().kind is DecisionKind.WAIT  # spec still names v2: nothing new
    driver.spec = with_canary(driver.spec, ModelRef(bento_tag="churn:v3"))
    decision = driver.call()
    assert decision.kind is DecisionKind.START
    assert decision.message.startswith("new canary churn:v3 (stable churn:v2)")


def test_blue_green_mirrors_then_switches_everything_at_once() -> None:
    driver = Driver(make_spec(strategy={"type": "blueGreen"}, iterations=3))
    start = driver.call()
    assert start.routes == Routes(canary_weight=0, mirror=True)
    assert start.message.endswith("mirrored traffic, analysis 1/3, first analysis in 30s")
    second = driver.tick(GOOD)
    assert (second.kind, second.routes) == (DecisionKind.ADVANCE, Routes(0, mirror=True))
    assert second.message == "all 1 checks passed; advancing to mirrored traffic, analysis 2/3"
    assert driver.tick(GOOD).kind is DecisionKind.ADVANCE
    promote = driver.tick(GOOD)
    assert promote.kind is DecisionKind.PROMOTE
    assert promote.routes == Routes(canary_weight=100)
    assert driver.tick().status.phase is Phase.SUCCEEDED


def test_ab_testing_routes_only_matching_requests() -> None:
    strategy = {
        "type": "abTesting",
        "match": [{"type": "header", "name": "x-cohort", "value": "b"}],
    }
    driver = Driver(make_spec(strategy=strategy, iterations=2))
    assert driver.call().routes == Routes(canary_weight=0, match={"header:x-cohort": "b"})
    assert driver.tick(BAD).routes == Routes(canary_weight=0, match={"header:x-cohort": "b"})
    assert driver.tick(GOOD).kind is DecisionKind.ADVANCE
    assert driver.tick(GOOD).kind is DecisionKind.PROMOTE
    assert driver.status.canary_weight == 100


@pytest.mark.parametrize(
    ("phase", "weight", "routes"),
    [
        (Phase.IDLE, 0, Routes(0)),
        (Phase.PROGRESSING, 30, Routes(30)),
        (Phase.PAUSED, 30, Routes(30)),
        (Phase.PROMOTING, 100, Routes(100)),
        (Phase.SUCCEEDED, 0, Routes(0)),
        (Phase.FAILED, 0, Routes(0)),
        (Phase.ROLLED_BACK, 0, Routes(0)),
    ],
)
def test_desired_routes_follow_the_status(phase: Phase, weight: int, routes: Routes) -> None:
    status = RolloutStatus(phase=phase, canary_weight=weight, stable_model=V1, canary_model=V2)
    assert desired_routes(spec=make_spec(), status=status) == routes


def test_history_keeps_the_last_decisions_only() -> None:
    driver = Driver(make_spec(failureLimit=100, inconclusiveLimit=100)).started()
    for _ in range(HISTORY_LIMIT + 5):
        driver.tick(BAD)
    history = driver.status.history
    assert len(history) == HISTORY_LIMIT
    assert history[-1].message == driver.status.message
    assert history[0].decision is DecisionKind.HOLD


def test_conditions_move_their_transition_time_only_on_change() -> None:
    driver = Driver(make_spec()).started()
    progressing = {c.type: c for c in driver.status.conditions}["Progressing"]
    assert (progressing.status, progressing.last_transition_time) == ("True", T0)
    driver.tick(GOOD)
    again = {c.type: c for c in driver.status.conditions}["Progressing"]
    assert again.last_transition_time == T0
    assert again.message == driver.status.message
    driver.call(action=Action.PAUSE)
    paused = {c.type: c for c in driver.status.conditions}["Progressing"]
    assert (paused.status, paused.reason, paused.last_transition_time) == (
        "False",
        "Paused",
        driver.now,
    )


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match=r"^now must be timezone-aware \(UTC\)$"):
        decide(spec=make_spec(), status=RolloutStatus(), measurements={}, now=datetime(2025, 1, 1))
