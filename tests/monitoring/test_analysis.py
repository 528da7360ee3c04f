"""The analysis engine, decision by decision, with the exact messages it writes."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitoring.analysis import (
    Decision,
    Measurement,
    analysis_due,
    decide,
    desired_routes,
    evaluate_analysis,
    evaluate_check,
    format_value,
    seconds_until_due,
    stable_target,
)
from monitoring.checks import BuiltinCheck, Unit
from monitoring.providers.base import Routes
from monitoring.spec import Action, Check, Comparison, ModelRef, RolloutSpec, parse_spec
from monitoring.status import (
    HISTORY_LIMIT,
    DecisionKind,
    PauseReason,
    Phase,
    RolloutStatus,
    Verdict,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
V1 = ModelRef(bento_tag="churn:v1")
V2 = ModelRef(bento_tag="churn:v2")
GOOD = {"latency": Measurement(canary=0.2)}
BAD = {"latency": Measurement(canary=1.84)}
NONE: Mapping[str, Measurement] = {}


def make_spec(**analysis: Any) -> RolloutSpec:
    """A churn rollout: 30s interval, 10% steps up to 50%, one latency check (max 0.5 s)."""
    raw: dict[str, Any] = {
        "target": {"stable": {"bentoTag": "churn:v1"}, "canary": {"bentoTag": "churn:v2"}},
        "trafficProvider": {"name": "noop"},
        "analysis": {
            "interval": "30s",
            "stepWeight": 10,
            "maxWeight": 50,
            "checks": [{"name": "latency", "builtin": "latencyP99", "max": 0.5}],
        },
    }
    strategy = analysis.pop("strategy", None)
    if strategy is not None:
        raw["strategy"] = strategy
        if strategy["type"] != "canary":
            del raw["analysis"]["stepWeight"]
    raw["analysis"].update(analysis)
    paused = raw["analysis"].pop("paused", None)
    if paused is not None:
        raw["paused"] = paused
    return parse_spec(raw)


def with_canary(spec: RolloutSpec, canary: ModelRef) -> RolloutSpec:
    spec = copy.deepcopy(spec)
    object.__setattr__(spec.target, "canary", canary)
    return spec


class Driver:
    """Calls ``decide`` like the operator does, moving a fake clock forward."""

    def __init__(self, spec: RolloutSpec, status: RolloutStatus | None = None) -> None:
        self.spec = spec
        self.status = status or RolloutStatus()
        self.now = T0

    def call(
        self,
        measurements: Mapping[str, Measurement] = NONE,
        *,
        after: float = 0.0,
        action: Action | None = None,
    ) -> Decision:
        self.now += timedelta(seconds=after)
        decision = decide(
            spec=self.spec,
            status=self.status,
            measurements=measurements,
            now=self.now,
            action=action,
        )
        self.status = decision.status
        return decision

    def tick(
        self, measurements: Mapping[str, Measurement] = NONE, action: Action | None = None
    ) -> Decision:
        return self.call(measurements, after=self.spec.analysis.interval_seconds, action=action)

    def started(self) -> Driver:
        self.call()
        return self


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
    assert stable_target(decision.status) == V2
    assert driver.call(BAD, after=10).kind is DecisionKind.WAIT  # the stable is being updated

    decision = driver.call(BAD, after=20)
    assert decision.kind is DecisionKind.COMPLETE
    assert decision.message == "promoted: churn:v2 is the stable model"
    status = decision.status
    assert (status.phase, status.canary_weight, status.stable_model) == (Phase.SUCCEEDED, 0, V2)
    assert stable_target(status) == V2
    assert decision.routes == Routes(canary_weight=0)
    conditions = {c.type: c.status for c in status.conditions}
    assert conditions == {"Progressing": "False", "Promoted": "True"}

    decision = driver.tick(BAD)
    assert decision.kind is DecisionKind.WAIT
    assert decision.message == "succeeded: churn:v2 is the stable model"


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


def test_manual_gate_pauses_after_the_last_step_until_promoted() -> None:
    driver = Driver(make_spec(stepWeight=25, maxWeight=50, manualGate=True)).started()
    assert driver.tick(GOOD).kind is DecisionKind.ADVANCE
    gate = driver.tick(GOOD)
    assert gate.kind is DecisionKind.PAUSE
    assert gate.message == (
        "all 1 checks passed at step 2/2; waiting for a promote action (manualGate)"
    )
    status = gate.status
    assert (status.phase, status.pause_reason, status.canary_weight) == (
        Phase.PAUSED,
        PauseReason.MANUAL_GATE,
        50,
    )
    assert gate.routes == Routes(canary_weight=50)
    waiting = driver.tick(BAD)
    assert waiting.kind is DecisionKind.WAIT
    assert waiting.message == "paused at the manual gate: waiting for a promote action"
    resumed = driver.call(action=Action.RESUME)
    assert resumed.kind is DecisionKind.WAIT
    assert resumed.message == "resume ignored: at the manual gate; promote or roll back"
    promoted = driver.call(action=Action.PROMOTE)
    assert promoted.kind is DecisionKind.PROMOTE
    assert promoted.message.startswith("manual promote of churn:v2")
    assert promoted.routes == Routes(canary_weight=100)


@pytest.mark.parametrize(
    ("phase", "action", "kind", "next_phase", "message"),
    [
        (
            Phase.PROGRESSING,
            Action.ROLLBACK,
            DecisionKind.ROLLBACK,
            Phase.ROLLED_BACK,
            "manual rollback: traffic back to churn:v1",
        ),
        (
            Phase.PAUSED,
            Action.ROLLBACK,
            DecisionKind.ROLLBACK,
            Phase.ROLLED_BACK,
            "manual rollback: traffic back to churn:v1",
        ),
        (
            Phase.PROMOTING,
            Action.ROLLBACK,
            DecisionKind.ROLLBACK,
            Phase.ROLLED_BACK,
            "manual rollback: traffic back to churn:v1",
        ),
        (
            Phase.SUCCEEDED,
            Action.ROLLBACK,
            DecisionKind.WAIT,
            Phase.SUCCEEDED,
            "rollback ignored: phase Succeeded has no candidate",
        ),
        (
            Phase.FAILED,
            Action.PROMOTE,
            DecisionKind.WAIT,
            Phase.FAILED,
            "promote ignored: phase Failed",
        ),
        (
            Phase.PROMOTING,
            Action.PROMOTE,
            DecisionKind.WAIT,
            Phase.PROMOTING,
            "promote ignored: phase Promoting",
        ),
        (
            Phase.PROGRESSING,
            Action.PAUSE,
            DecisionKind.PAUSE,
            Phase.PAUSED,
            "paused by a pause action",
        ),
        (
            Phase.PAUSED,
            Action.PAUSE,
            DecisionKind.WAIT,
            Phase.PAUSED,
            "pause ignored: phase Paused",
        ),
        (
            Phase.PAUSED,
            Action.RESUME,
            DecisionKind.RESUME,
            Phase.PROGRESSING,
            "resumed by a resume action; next analysis in 30s",
        ),
        (
            Phase.PROGRESSING,
            Action.RESUME,
            DecisionKind.WAIT,
            Phase.PROGRESSING,
            "resume ignored: phase Progressing is not paused",
        ),
    ],
)
def test_manual_actions(
    phase: Phase, action: Action, kind: DecisionKind, next_phase: Phase, message: str
) -> None:
    driver = Driver(make_spec()).started()
    driver.tick(GOOD)
    reason = PauseReason.ACTION if phase is Phase.PAUSED else None
    driver.status = RolloutStatus(
        **{**driver.status.__dict__, "phase": phase, "pause_reason": reason}
    )
    decision = driver.call(action=action, after=1)
    assert decision.kind is kind
    assert decision.status.phase is next_phase
    assert decision.message == message
    if kind is DecisionKind.ROLLBACK:
        assert decision.routes == Routes(canary_weight=0)
        assert decision.status.stable_model == V1
        assert stable_target(decision.status) == V1


def test_a_paused_rollout_is_not_analysed_and_resumes_a_full_interval_later() -> None:
    driver = Driver(make_spec()).started()
    assert driver.call(action=Action.PAUSE, after=5).kind is DecisionKind.PAUSE
    assert driver.tick(BAD).kind is DecisionKind.WAIT
    assert driver.tick(BAD).routes == Routes(canary_weight=10)
    resumed = driver.call(action=Action.RESUME, after=1)
    assert resumed.status.next_analysis_time == driver.now + timedelta(seconds=30)
    assert driver.call(GOOD, after=20).kind is DecisionKind.WAIT
    assert driver.call(GOOD, after=10).kind is DecisionKind.ADVANCE


def test_spec_paused_pauses_and_unpausing_resumes() -> None:
    spec = make_spec()
    driver = Driver(spec).started()
    driver.spec = make_spec(paused=True)
    paused = driver.call(after=1)
    assert paused.kind is DecisionKind.PAUSE
    assert paused.message == "paused: spec.paused is true"
    assert paused.status.pause_reason is PauseReason.SPEC
    assert not analysis_due(
        spec=driver.spec, status=paused.status, now=driver.now + timedelta(hours=1)
    )
    assert driver.tick(BAD).kind is DecisionKind.WAIT
    ignored = driver.call(action=Action.RESUME)
    assert ignored.message == "resume ignored: spec.paused is true; set it to false"
    driver.spec = spec
    resumed = driver.call(after=1)
    assert resumed.kind is DecisionKind.RESUME
    assert resumed.status.phase is Phase.PROGRESSING


def test_a_pause_action_outlives_spec_unpausing() -> None:
    driver = Driver(make_spec()).started()
    driver.call(action=Action.PAUSE)
    assert driver.tick().kind is DecisionKind.WAIT
    assert driver.status.phase is Phase.PAUSED


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
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(spec=make_spec(), status=RolloutStatus(), measurements={}, now=datetime(2025, 1, 1))


def latency(**fields: Any) -> Check:
    return Check(name="latency-p99", builtin=BuiltinCheck.LATENCY_P99, **fields)


@pytest.mark.parametrize(
    ("check", "measurement", "verdict", "message"),
    [
        (latency(max=0.5), Measurement(1.84), Verdict.FAIL, "latency-p99 1.84 s > max 0.50 s"),
        (latency(max=0.5), Measurement(0.5), Verdict.PASS, "latency-p99 0.50 s <= max 0.50 s"),
        (
            latency(min=0.01, max=0.5),
            Measurement(0.001),
            Verdict.FAIL,
            "latency-p99 0.001 s < min 0.01 s",
        ),
        (
            latency(min=0.01, max=0.5),
            Measurement(0.2),
            Verdict.PASS,
            "latency-p99 0.20 s >= min 0.01 s and <= max 0.50 s",
        ),
        (
            latency(max=0.5),
            Measurement(None, 0.2),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (canary)",
        ),
        (
            latency(max=0.5),
            Measurement(float("nan")),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (canary)",
        ),
        (
            latency(max=0.5),
            Measurement(float("inf")),
            Verdict.FAIL,
            "latency-p99 inf s > max 0.50 s",
        ),
        (
            latency(max=1.2, comparison=Comparison.RELATIVE),
            Measurement(0.6, 0.4),
            Verdict.FAIL,
            "latency-p99 0.60 s = 1.50× stable 0.40 s > max 1.20×",
        ),
        (
            latency(max=1.2, comparison=Comparison.RELATIVE),
            Measurement(0.44, 0.4),
            Verdict.PASS,
            "latency-p99 0.44 s = 1.10× stable 0.40 s <= max 1.20×",
        ),
        (
            latency(max=1.2, comparison=Comparison.RELATIVE),
            Measurement(0.44),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (stable)",
        ),
        (
            latency(max=1.2, comparison=Comparison.RELATIVE),
            Measurement(None, None),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (canary, stable)",
        ),
        (
            latency(max=1.2, comparison=Comparison.RELATIVE),
            Measurement(0.0, 0.0),
            Verdict.PASS,
            "latency-p99 0.00 s = 1.00× stable 0.00 s <= max 1.20×",
        ),
        (
            latency(max=1.2, comparison=Comparison.RELATIVE),
            Measurement(0.1, 0.0),
            Verdict.FAIL,
            "latency-p99 0.10 s = inf× stable 0.00 s > max 1.20×",
        ),
        (
            Check(name="success", builtin=BuiltinCheck.REQUEST_SUCCESS_RATE, min=0.99),
            Measurement(0.9912),
            Verdict.PASS,
            "success 0.9912 >= min 0.99",
        ),
        (
            Check(name="tps", builtin=BuiltinCheck.LLM_TOKENS_PER_SECOND, min=10),
            Measurement(250.0),
            Verdict.PASS,
            "tps 250 tokens/s >= min 10.00 tokens/s",
        ),
        (
            Check(name="errors", query="sum(x)", max=3),
            Measurement(7.0),
            Verdict.FAIL,
            "errors 7.00 > max 3.00",
        ),
    ],
)
def test_evaluate_check(
    check: Check, measurement: Measurement, verdict: Verdict, message: str
) -> None:
    result = evaluate_check(check, measurement)
    assert (result.verdict, result.message) == (verdict, message)
    assert (result.min, result.max, result.comparison) == (check.min, check.max, check.comparison)


def test_evaluate_check_keeps_the_evidence() -> None:
    result = evaluate_check(latency(max=1.2, comparison=Comparison.RELATIVE), Measurement(0.6, 0.4))
    assert (result.value, result.stable_value, result.unit) == (0.6, 0.4, "s")
    assert result.compared == pytest.approx(1.5)


def test_an_unmeasured_check_is_inconclusive() -> None:
    record = evaluate_analysis([latency(max=0.5)], {}, now=T0)
    assert (record.verdict, record.message, record.time) == (
        Verdict.INCONCLUSIVE,
        "latency-p99: no data (canary)",
        T0,
    )


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.84, Unit.SECONDS, "1.84 s"),
        (0.5, Unit.SECONDS, "0.50 s"),
        (0.9912, Unit.RATIO, "0.9912"),
        (1.8432, Unit.SECONDS, "1.843 s"),
        (250.0, Unit.TOKENS_PER_SECOND, "250 tokens/s"),
        (250.25, Unit.NONE, "250.2"),
        (0.000123, Unit.SECONDS, "0.000123 s"),
    ],
)
def test_format_value(value: float, unit: Unit, text: str) -> None:
    assert format_value(value, unit) == text
