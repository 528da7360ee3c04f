"""Fast abort: the canary's breaker trips on its failures and sends its share to the stable."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from canaria.contracts import metrics as catalog
from canaria.contracts.metrics import Variant
from canaria.testing.wait import wait_until
from services.router.breaker import Breaker, is_failure
from services.router.config import BreakerSettings, ConfigError, parse_config
from services.router.routing import choose_variant

from .conftest import Router, admin_headers

PREDICT = {"features": {"tenure": 3}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(
    failures: int = 3, window_requests: int = 10, window_seconds: float = 5.0
) -> tuple[Breaker, Clock]:
    clock = Clock()
    settings = BreakerSettings(
        failures=failures, window_requests=window_requests, window_seconds=window_seconds
    )
    return Breaker(settings, clock=clock, wall_clock=lambda: 0.0), clock


def test_it_trips_on_the_nth_failure_within_the_window() -> None:
    tripping, _ = breaker()
    assert [tripping.record(status) for status in (200, 503, None, 200, 502)] == [
        False, False, False, False, True,
    ]  # fmt: skip
    assert tripping.open and tripping.view()["reason"].startswith("3 failures in the last 5")
    assert tripping.record(503) is False  # tripped once


def test_old_failures_fall_out_of_the_request_window() -> None:
    tripping, _ = breaker(failures=3, window_requests=4)
    for status in (500, 500, 200, 200, 200, 500):  # the first two are 5+ requests back
        assert tripping.record(status) is False
    assert not tripping.open


def test_old_failures_fall_out_of_the_time_window() -> None:
    tripping, clock = breaker(failures=3, window_seconds=5.0)
    tripping.record(500)
    tripping.record(500)
    clock.now = 6.0
    assert tripping.record(500) is False
    assert tripping.record(500) is False
    assert tripping.record(500) is True


@pytest.mark.parametrize(
    ("status", "failed"),
    [(None, True), (500, True), (503, True), (499, False), (429, False), (200, False)],
)
def test_what_counts_as_a_failure(status: int | None, failed: bool) -> None:
    assert is_failure(status) is failed


def test_settings_that_can_never_trip_are_refused() -> None:
    raw = {
        "upstreams": {"stable": {"url": "http://s"}},
        "breaker": {"failures": 9, "window_requests": 3},
    }
    with pytest.raises(ConfigError, match="breaker: failures must be at most window_requests"):
        parse_config(raw)


@pytest.fixture(scope="module")
def router(upstreams: dict[str, str], start_routers: Callable[..., dict[str, Router]]) -> Router:
    return start_routers(
        {
            "breaker": {
                "upstreams": {
                    "stable": {"url": upstreams["stable"]},
                    "canary": {"url": upstreams["failing"]},
                },
                "canary_weight": 50,
                "override_header": "x-canaria-variant",
                "breaker": {"failures": 3, "window_requests": 10, "window_seconds": 30},
                "reload_interval_seconds": 0.2,
            }
        }
    )["breaker"]


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as session:
        yield session


def routes(client: httpx.Client, router: Router) -> dict[str, object]:
    answer = client.get(f"{router.admin_url}/admin/routes", headers=admin_headers())
    return dict(answer.json())


@pytest.mark.slow
def test_a_failing_canary_loses_its_share_after_three_errors(
    client: httpx.Client, router: Router
) -> None:
    statuses = [client.post(f"{router.url}/predict", json=PREDICT).status_code for _ in range(60)]
    assert statuses.count(500) == 3  # then the breaker sent everything to the stable
    assert statuses[-30:] == [200] * 30
    state = routes(client, router)
    assert state["canary_weight"] == 50  # the operator's weight is untouched: it decides
    breaker_state = state["breaker"]["canary"]  # type: ignore[index]
    assert breaker_state["open"] is True and "tripped_at" in breaker_state
    assert router.series(catalog.ROUTER_BREAKER_OPEN, variant="canary") == 1
    assert router.series(catalog.ROUTER_BREAKER_TRIPS_TOTAL, variant="canary") == 1
    assert "breaker tripped" in router.log()
    # The override header still reaches the canary (testing a fix before a reset).
    forced = client.post(
        f"{router.url}/predict", json=PREDICT, headers={"x-canaria-variant": "canary"}
    )
    assert forced.status_code == 500
    # A config file change that leaves routes alone keeps it open...
    config = router.config_path.read_text()
    router.config_path.write_text(
        config.replace("reload_interval_seconds: 0.2", "reload_interval_seconds: 0.25")
    )
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(catalog.ROUTER_CONFIG_RELOADS_TOTAL, result="success") == 1,
        poll=0.1,
    )
    assert routes(client, router)["breaker"]["canary"]["open"] is True  # type: ignore[index]
    # ...setting routes (the operator's answer) resets it.
    put = client.put(
        f"{router.admin_url}/admin/routes", json={"canary_weight": 0}, headers=admin_headers()
    )
    assert put.json()["breaker"]["canary"]["open"] is False
    assert router.series(catalog.ROUTER_BREAKER_OPEN, variant="canary") == 0
    assert "breaker reset" in router.log()


def test_an_open_breaker_sends_split_and_matched_requests_to_the_stable() -> None:
    config = parse_config(
        {
            "upstreams": {"stable": {"url": "http://s"}, "canary": {"url": "http://c"}},
            "canary_weight": 100,
            "match": {"header:x-ab": "b"},
            "override_header": "x-canaria-variant",
        }
    )
    for headers in ({}, {"x-ab": "b"}):
        chosen = choose_variant(config=config, headers=headers, draw=lambda: 0.0, canary_open=True)
        assert chosen is Variant.STABLE
    forced = {"x-canaria-variant": "canary"}
    chosen = choose_variant(config=config, headers=forced, draw=lambda: 0.0, canary_open=True)
    assert chosen is Variant.CANARY


@pytest.mark.slow
def test_the_operator_can_set_and_clear_the_breaker_through_the_admin_api(
    client: httpx.Client, router: Router
) -> None:
    url = f"{router.admin_url}/admin/routes"
    limits = {"failures": 2, "window_requests": 5, "window_seconds": 5.0}
    answer = client.put(url, json={"breaker": limits}, headers=admin_headers()).json()
    assert answer["breaker"]["canary"] == {"open": False, **limits}
    refused = client.put(url, json={"breaker": {"failures": 0}}, headers=admin_headers())
    assert refused.status_code == 400 and "breaker.failures" in refused.json()["error"]
    answer = client.put(url, json={"breaker": None}, headers=admin_headers()).json()
    assert answer["breaker"] == {"canary": None}
