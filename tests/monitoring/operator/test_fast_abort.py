"""The operator's fast-abort pass in-process: which replica's open breaker is evidence,
when breakers are read at all, and a replica that lost the spec's breaker gets it back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canaria.contracts.routes import Routes
from monitoring.api.spec import parse_spec
from monitoring.api.status import Phase, RolloutStatus
from monitoring.operator.fast_abort import breaker_settings, read_trip
from monitoring.providers.interfaces import RouteTarget, TrafficRouterError
from tests.k8s.test_crd import example

WANTED = {"failures": 3, "window_requests": 10, "window_seconds": 10.0}
OPEN = {"open": True, "tripped_at": "2025-01-01T00:00:05Z", "reason": "3 failures", **WANTED}


class Breakers:
    """A router with a breaker per replica (by admin URL); ``"down"``: unreachable; ``None``:
    no live state to read (a ConfigMap)."""

    def __init__(self, states: dict[str, Mapping[str, Any] | str | None]) -> None:
        self.states = states
        self.set: list[tuple[str, Routes, Any]] = []

    def get_routes(self, target: RouteTarget) -> Routes:
        return Routes(canary_weight=25)

    def set_routes(self, target: RouteTarget, routes: Routes) -> None:
        self.set.append((target.settings["adminUrl"], routes, target.settings.get("breaker")))

    def breaker_state(self, target: RouteTarget) -> Mapping[str, Any] | None:
        state = self.states[target.settings["adminUrl"]]
        if isinstance(state, str):
            raise TrafficRouterError("unreachable")
        return state


def spec_with_fast_abort() -> Any:
    raw = example()["spec"]
    raw["analysis"]["fastAbort"] = {"failures": 3, "windowRequests": 10}
    return parse_spec(raw)


def targets(spec: Any, *urls: str) -> list[RouteTarget]:
    settings = {**breaker_settings(spec)}
    return [RouteTarget("ml", "churn", {**settings, "adminUrl": url}) for url in urls]


def test_the_first_open_breaker_is_the_evidence_and_an_unreachable_one_is_skipped() -> None:
    spec = spec_with_fast_abort()
    router = Breakers({"http://a": "down", "http://b": {"open": False, **WANTED}, "http://c": OPEN})
    trip = read_trip(
        router,
        lambda: targets(spec, "http://a", "http://b", "http://c"),
        spec=spec,
        status=RolloutStatus(phase=Phase.PROGRESSING),
        routes=Routes(canary_weight=25),
    )
    assert trip is not None
    assert (trip.replica, trip.tripped_at, trip.reason) == (
        "http://c",
        OPEN["tripped_at"],
        "3 failures",
    )
    assert router.set == []  # every readable replica had the spec's settings


def test_a_replica_that_lost_the_breaker_gets_it_back_with_the_status_routes() -> None:
    spec = spec_with_fast_abort()
    router = Breakers({"http://a": {"open": False, "failures": 5}})  # the file's breaker
    trip = read_trip(
        router,
        lambda: targets(spec, "http://a"),
        spec=spec,
        status=RolloutStatus(phase=Phase.PROGRESSING),
        routes=Routes(canary_weight=25),
    )
    assert trip is None
    assert router.set == [("http://a", Routes(canary_weight=25), WANTED)]


def test_a_router_without_a_readable_state_is_left_alone() -> None:
    spec = spec_with_fast_abort()
    router = Breakers({"http://a": None, "http://b": {}})  # a ConfigMap; a router without one
    trip = read_trip(
        router,
        lambda: targets(spec, "http://a", "http://b"),
        spec=spec,
        status=RolloutStatus(phase=Phase.PAUSED),
        routes=Routes(canary_weight=10),
    )
    assert trip is None
    assert router.set == [("http://b", Routes(canary_weight=10), WANTED)]


def test_breakers_are_not_read_without_a_live_canary() -> None:
    spec = spec_with_fast_abort()
    router = Breakers({"http://a": OPEN})
    resolved: list[Phase] = []

    def resolve() -> list[RouteTarget]:
        resolved.append(Phase.IDLE)
        return targets(spec, "http://a")

    for phase in (Phase.IDLE, Phase.FAILED, Phase.SUCCEEDED, Phase.ROLLED_BACK):
        status = RolloutStatus(phase=phase)
        assert read_trip(router, resolve, spec=spec, status=status, routes=Routes(0)) is None
    assert resolved == []


def test_only_router_rollouts_with_fast_abort_carry_a_breaker() -> None:
    assert breaker_settings(spec_with_fast_abort()) == {"breaker": WANTED}
    assert breaker_settings(parse_spec(example()["spec"])) == {}
