"""Fast abort in the engine: a tripped router breaker is evidence that rolls a canary with
traffic back at once, quoting the trip, and a tripped canary is never promoted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest

from canaria.contracts.routes import Routes
from monitoring.analysis import BreakerTrip, Measurement, decide
from monitoring.api.spec import Action
from monitoring.api.status import DecisionKind, Phase
from tests.monitoring.analysis.engine_driver import BAD, GOOD, NONE, Driver, make_spec

TRIP = BreakerTrip(
    replica="http://127.0.0.1:8080",
    tripped_at="2025-01-01T00:00:05Z",
    reason="5 failures in the last 5 requests within 10s",
)


def at_phase(phase: str) -> Driver:
    """A rollout (two steps, manual gate for ``gate``) driven to ``phase``."""
    driver = Driver(make_spec(stepWeight=25, maxWeight=50, manualGate=phase == "gate"))
    driver.call()
    if phase == "progressing":
        return driver
    if phase == "paused":
        driver.call(action=Action.PAUSE)
    elif phase in ("gate", "promoting"):
        driver.tick(GOOD)
        driver.tick(GOOD)
    elif phase == "failed":
        driver.tick(BAD)
        driver.tick(BAD)
        driver.tick(BAD)
    elif phase == "succeeded":
        for _ in range(3):
            driver.tick(GOOD)
    return driver


@pytest.mark.parametrize(
    ("phase", "before", "measurements", "action", "after", "kind"),
    [
        # A live canary: rolled back whatever else the call says.
        ("progressing", Phase.PROGRESSING, NONE, None, Phase.FAILED, DecisionKind.ROLLBACK),
        ("progressing", Phase.PROGRESSING, GOOD, None, Phase.FAILED, DecisionKind.ROLLBACK),
        ("paused", Phase.PAUSED, NONE, None, Phase.FAILED, DecisionKind.ROLLBACK),
        ("gate", Phase.PAUSED, NONE, Action.PROMOTE, Phase.FAILED, DecisionKind.ROLLBACK),
        ("promoting", Phase.PROMOTING, GOOD, None, Phase.FAILED, DecisionKind.ROLLBACK),
        (
            "progressing",
            Phase.PROGRESSING,
            GOOD,
            Action.PROMOTE,
            Phase.FAILED,
            DecisionKind.ROLLBACK,
        ),
        # No canary with traffic: nothing to abort.
        ("failed", Phase.FAILED, NONE, None, Phase.FAILED, DecisionKind.WAIT),
        ("succeeded", Phase.SUCCEEDED, NONE, None, Phase.SUCCEEDED, DecisionKind.WAIT),
    ],
)
def test_a_trip_rolls_a_live_canary_back_at_once(
    phase: str,
    before: Phase,
    measurements: Mapping[str, Measurement],
    action: Action | None,
    after: Phase,
    kind: DecisionKind,
) -> None:
    driver = at_phase(phase)
    assert driver.status.phase is before
    now = driver.now + timedelta(seconds=driver.spec.analysis.interval_seconds)
    decision = decide(
        spec=driver.spec,
        status=driver.status,
        measurements=measurements,
        now=now,
        action=action,
        trip=TRIP,
    )
    assert (decision.kind, decision.status.phase) == (kind, after)
    if kind is DecisionKind.ROLLBACK:
        assert decision.routes == Routes(canary_weight=0)
        assert decision.message == (
            "fast abort: router breaker open on http://127.0.0.1:8080 since "
            "2025-01-01T00:00:05Z (5 failures in the last 5 requests within 10s); "
            "rolled back to churn:v1"
        )
        assert decision.status.history[-1].decision is DecisionKind.ROLLBACK


def test_a_trip_between_analyses_does_not_wait_for_the_next_one() -> None:
    driver = at_phase("progressing")
    early = driver.now + timedelta(seconds=1)  # the analysis is 29 s away
    decision = decide(spec=driver.spec, status=driver.status, measurements={}, now=early, trip=TRIP)
    assert decision.kind is DecisionKind.ROLLBACK


def test_without_a_trip_the_same_calls_promote() -> None:
    """The control rows: the gate's promote action and the last passing step promote."""
    gate = at_phase("gate")
    promoted = gate.call(action=Action.PROMOTE, after=1)
    assert promoted.kind is DecisionKind.PROMOTE
    driver = at_phase("progressing")
    driver.tick(GOOD)
    assert driver.tick(GOOD).kind is DecisionKind.PROMOTE
