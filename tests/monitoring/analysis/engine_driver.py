"""A fake operator loop for engine tests: builds specs and calls ``decide`` on a fake clock."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from monitoring.analysis import Decision, Measurement, decide
from monitoring.api.spec import Action, ModelRef, RolloutSpec, parse_spec
from monitoring.api.status import RolloutStatus

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
