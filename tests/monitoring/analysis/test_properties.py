"""Properties of the engine over random rollouts: weights in range, rollback to 0, no
promotion past a failing check, bounded history, and resume with no lost or repeated step."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.analysis import Decision, Measurement, decide, desired_routes
from monitoring.api.spec import Action, RolloutSpec, StrategyType, parse_spec
from monitoring.api.status import HISTORY_LIMIT, DecisionKind, Phase, RolloutStatus, Verdict
from tests.hypothesis_budget import examples

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CHECKS = [
    {"name": "latency", "builtin": "latencyP99", "max": 0.5},
    {"name": "success", "builtin": "requestSuccessRate", "min": 0.99},
]
OUTCOMES: Mapping[str, Mapping[str, Measurement]] = {
    "good": {"latency": Measurement(0.1), "success": Measurement(1.0)},
    "bad": {"latency": Measurement(2.0), "success": Measurement(1.0)},
    "mixed": {"latency": Measurement(0.1), "success": Measurement(None)},
    "none": {},
}
PROPERTY_SETTINGS = settings(
    max_examples=examples(150),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def specs(draw: st.DrawFn) -> RolloutSpec:
    strategy = draw(st.sampled_from(["canary", "blueGreen", "abTesting"]))
    analysis: dict[str, Any] = {
        "interval": draw(st.sampled_from(["1s", "30s", "1m"])),
        "failureLimit": draw(st.integers(0, 3)),
        "inconclusiveLimit": draw(st.integers(0, 3)),
        "manualGate": draw(st.booleans()),
        "iterations": draw(st.integers(1, 4)),
        "checks": CHECKS,
    }
    if strategy == "canary":
        max_weight = draw(st.integers(1, 100))
        if draw(st.booleans()):
            analysis["stepWeight"] = draw(st.integers(1, max_weight))
        else:
            weights = draw(st.sets(st.integers(1, max_weight), min_size=1, max_size=5))
            analysis["stepWeights"] = sorted(weights)
        analysis["maxWeight"] = max_weight
    raw: dict[str, Any] = {
        "target": {"stable": {"bentoTag": "m:v1"}, "canary": {"bentoTag": "m:v2"}},
        "trafficProvider": {"name": "noop"},
        "strategy": {"type": strategy},
        "analysis": analysis,
    }
    if strategy == "abTesting":
        raw["strategy"]["match"] = [{"type": "header", "name": "x-ab", "value": "b"}]
    return parse_spec(raw)


@dataclass(frozen=True)
class Event:
    """One operator tick: how long since the last, what the metrics said, any action."""

    after_intervals: float
    outcome: str
    action: Action | None
    new_canary: bool


events = st.builds(
    Event,
    after_intervals=st.sampled_from([0.0, 0.3, 0.95, 1.0, 1.0, 1.0, 2.5]),
    outcome=st.sampled_from(list(OUTCOMES)),
    action=st.one_of(st.none(), st.none(), st.none(), st.none(), st.sampled_from(Action)),
    new_canary=st.integers(0, 9).map(lambda n: n == 0),
)


def spec_with_canary(spec: RolloutSpec, tag: str) -> RolloutSpec:
    raw_canary = type(spec.target.canary)(bento_tag=tag)
    target = type(spec.target)(stable=spec.target.stable, canary=raw_canary)
    return type(spec)(
        target=target,
        traffic_provider=spec.traffic_provider,
        analysis=spec.analysis,
        strategy=spec.strategy,
        metrics_provider=spec.metrics_provider,
        paused=spec.paused,
    )


def run(
    spec: RolloutSpec,
    timeline: list[Event],
    status: RolloutStatus | None = None,
    start: datetime = T0,
) -> list[tuple[RolloutSpec, RolloutStatus, Decision, Event]]:
    """Play ``timeline``; returns (spec, status before, decision, event) per call."""
    status = status or RolloutStatus()
    now = start
    version = 2
    played = []
    for event in timeline:
        now += timedelta(seconds=event.after_intervals * spec.analysis.interval_seconds)
        if event.new_canary:
            version += 1
            spec = spec_with_canary(spec, f"m:v{version}")
        decision = decide(
            spec=spec,
            status=status,
            measurements=OUTCOMES[event.outcome],
            now=now,
            action=event.action,
        )
        played.append((spec, status, decision, event))
        status = decision.status
    return played


@PROPERTY_SETTINGS
@given(spec=specs(), timeline=st.lists(events, max_size=40))
def test_weights_stay_in_range_and_follow_the_phase(
    spec: RolloutSpec, timeline: list[Event]
) -> None:
    for current_spec, _, decision, _ in run(spec, timeline):
        status = decision.status
        weight = status.canary_weight
        assert 0 <= weight <= 100
        assert decision.routes == desired_routes(spec=current_spec, status=status)
        assert decision.routes.canary_weight == weight
        if status.phase in (Phase.PROGRESSING, Phase.PAUSED):
            if current_spec.strategy.type is StrategyType.CANARY:
                assert weight <= current_spec.analysis.max_weight
                assert weight in current_spec.analysis.steps
            else:
                assert weight == 0
        elif status.phase is Phase.PROMOTING:
            assert weight == 100
        else:
            assert weight == 0
        assert 0 <= status.current_step <= current_spec.total_steps


@PROPERTY_SETTINGS
@given(spec=specs(), timeline=st.lists(events, max_size=40))
def test_rollback_sets_the_weight_to_zero(spec: RolloutSpec, timeline: list[Event]) -> None:
    for _, _, decision, _ in run(spec, timeline):
        if decision.kind is DecisionKind.ROLLBACK:
            assert decision.routes.canary_weight == 0
            assert not decision.routes.mirror and not decision.routes.match
            assert decision.status.phase in (Phase.FAILED, Phase.ROLLED_BACK)


MANUAL_PROMOTES = (Action.PROMOTE, Action.PROMOTE_FULL)


@PROPERTY_SETTINGS
@given(spec=specs(), timeline=st.lists(events, max_size=40))
def test_a_failing_or_unmeasured_check_never_promotes(
    spec: RolloutSpec, timeline: list[Event]
) -> None:
    for _, before, decision, event in run(spec, timeline):
        if decision.kind is DecisionKind.PROMOTE and event.action not in MANUAL_PROMOTES:
            assert decision.analysis is not None
            assert decision.analysis.verdict is Verdict.PASS
            assert event.outcome == "good"
        if decision.kind is DecisionKind.COMPLETE:
            assert before.phase is Phase.PROMOTING
        if decision.analysis is not None and decision.analysis.verdict is not Verdict.PASS:
            assert decision.kind in (DecisionKind.HOLD, DecisionKind.ROLLBACK)
            assert decision.status.current_step == before.current_step


@PROPERTY_SETTINGS
@given(spec=specs(), timeline=st.lists(events, max_size=60))
def test_history_is_bounded_and_waits_change_nothing(
    spec: RolloutSpec, timeline: list[Event]
) -> None:
    for _, before, decision, _ in run(spec, timeline):
        assert len(decision.status.history) <= HISTORY_LIMIT
        if decision.kind is DecisionKind.WAIT:
            assert decision.status is before
        else:
            assert decision.status.history[-1].decision is decision.kind
            assert decision.status.history[-1].message == decision.message


@PROPERTY_SETTINGS
@given(spec=specs(), timeline=st.lists(events, max_size=40))
def test_failed_checks_never_decrease_for_one_candidate(
    spec: RolloutSpec, timeline: list[Event]
) -> None:
    for _, before, decision, _ in run(spec, timeline):
        if decision.kind not in (DecisionKind.START, DecisionKind.IDLE):
            assert decision.status.failed_checks >= before.failed_checks


def stored(status: RolloutStatus) -> RolloutStatus:
    """What a restarted operator reads back: the status as the API server returns it."""
    return RolloutStatus.from_dict(json.loads(json.dumps(status.to_dict())))


@PROPERTY_SETTINGS
@given(
    spec=specs(),
    before=st.lists(events, max_size=25),
    after=st.lists(events, min_size=1, max_size=25),
)
def test_a_resumed_operator_continues_exactly_where_it_stopped(
    spec: RolloutSpec, before: list[Event], after: list[Event]
) -> None:
    """Stop after ``before``, read the status back, go on: the same decisions follow."""
    played = run(spec, before)
    status = played[-1][2].status if played else RolloutStatus()
    last_spec = played[-1][0] if played else spec
    stopped = T0 + timedelta(
        seconds=sum(e.after_intervals for e in before) * spec.analysis.interval_seconds
    )
    uninterrupted = run(last_spec, after, status, start=stopped)
    resumed = run(last_spec, after, stored(status), start=stopped)
    assert [(d.kind, d.message, d.routes) for _, _, d, _ in resumed] == [
        (d.kind, d.message, d.routes) for _, _, d, _ in uninterrupted
    ]
    assert resumed[-1][2].status.to_dict() == uninterrupted[-1][2].status.to_dict()


@PROPERTY_SETTINGS
@given(spec=specs(), timeline=st.lists(events, min_size=1, max_size=30))
def test_a_repeated_call_never_repeats_a_step(spec: RolloutSpec, timeline: list[Event]) -> None:
    """A restarted operator calls again at once (same time, same metrics): no second step,
    and the routes it re-applies are those of the stored status."""
    for current_spec, _, decision, event in run(spec, timeline):
        status = stored(decision.status)
        again = decide(
            spec=current_spec,
            status=status,
            measurements=OUTCOMES[event.outcome],
            now=decision.status.history[-1].time if decision.status.history else T0,
        )
        assert again.kind is DecisionKind.WAIT
        assert again.routes == decision.routes
        assert again.status.current_step == decision.status.current_step


@PROPERTY_SETTINGS
@given(
    spec=specs(),
    good_ticks=st.integers(0, 3),
    offset=st.floats(0.0, 0.999),
    jitter=st.one_of(st.just([0.0] * 8), st.lists(st.floats(-0.09, 0.09), min_size=8, max_size=8)),
)
def test_a_bad_canary_is_rolled_back_within_interval_times_failure_limit_plus_one(
    spec: RolloutSpec, good_ticks: int, offset: float, jitter: list[float]
) -> None:
    """Ticks on a grid of ``interval`` (or off it by up to ±9 %); the canary goes bad
    ``offset`` intervals after a tick. Every tick analyses (jitter skips none), and the
    rollback comes within interval × (failureLimit + 1) of the first bad sample, plus
    the last tick's lateness."""
    interval = spec.analysis.interval_seconds
    limit = spec.analysis.failure_limit
    timeline = [Event(0.0, "good", None, False)] + [Event(1.0, "good", None, False)] * good_ticks
    played = run(spec, timeline)
    if played[-1][2].status.phase is not Phase.PROGRESSING:
        return  # promoted or gated before going bad
    status = played[-1][2].status
    tick = T0 + timedelta(seconds=good_ticks * interval)
    first_bad = tick + timedelta(seconds=offset * interval)
    for n in range(1, limit + 2):
        now = tick + timedelta(seconds=(n + jitter[n]) * interval)
        decision = decide(spec=spec, status=status, measurements=OUTCOMES["bad"], now=now)
        status = decision.status
        assert decision.kind in (DecisionKind.HOLD, DecisionKind.ROLLBACK)
    assert decision.kind is DecisionKind.ROLLBACK
    lateness = max(jitter[limit + 1], 0.0) * interval
    microsecond_rounding = 1e-5
    bound = interval * (limit + 1) + lateness + microsecond_rounding
    assert (now - first_bad).total_seconds() <= bound
