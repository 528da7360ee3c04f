"""The router's data path: compressed answers compared, ``Connection``-named headers
dropped both ways, the access log and the upstream-failure log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from canaria.contracts import metrics as catalog
from canaria.testing.wait import wait_until

from .conftest import CLIENTS, Router

pytestmark = pytest.mark.slow

PREDICT = {"features": {"tenure": 3, "plan": "basic"}}
COMPARISONS = catalog.SHADOW_COMPARISONS_TOTAL
FAILURES = catalog.SHADOW_FAILURES_TOTAL


@pytest.fixture(scope="module", params=CLIENTS)
def routers(
    request: pytest.FixtureRequest,
    upstreams: dict[str, str],
    start_routers: Callable[..., dict[str, Router]],
) -> dict[str, Router]:
    """The routers, once with each upstream client (every test here runs with both)."""
    shadowed = {
        "upstreams": {
            "stable": {"url": upstreams["stable"]},
            "shadow": {"url": upstreams["stable"]},
        },
        "shadow": {"sample_rate": 1.0},
        "access_log": {"sample_rate": 1.0},
        "never_log": ["email"],
    }
    return start_routers(
        {
            "shadowed": shadowed,
            "down": {
                "upstreams": {"stable": {"url": upstreams["dead"]}},
                "access_log": {"sample_rate": 0.0},
            },
        },
        client=request.param,
    )


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as session:
        yield session


def log_records(router: Router, message: str) -> list[dict[str, Any]]:
    lines = [line for line in router.log().splitlines() if line.startswith("{")]
    return [record for line in lines if (record := json.loads(line))["msg"] == message]


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_answers_that_agree_are_compared(
    client: httpx.Client, routers: dict[str, Router], coding: str
) -> None:
    router = routers["shadowed"]
    agree = router.metric(COMPARISONS, outcome="agree")
    invalid = router.metric(FAILURES, reason="invalid")
    headers = {"accept-encoding": coding, "x-test-compress": coding}
    for _ in range(5):
        response = client.post(f"{router.url}/predict", json=PREDICT, headers=headers)
        assert response.headers["content-encoding"] == coding  # the client got it compressed
        assert response.json()["predicted_class"] == "yes"
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(COMPARISONS, outcome="agree") - agree == 5,
        poll=0.1,
    )
    assert router.declared(FAILURES, reason="invalid") == invalid  # no change (may not exist)


def test_a_copied_request_only_accepts_codings_the_router_can_decode(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["shadowed"]
    offered = {"accept-encoding": "br, gzip;q=0.5, zstd, *"}
    echoed = client.post(f"{router.url}/echo", json=PREDICT, headers=offered).json()
    assert echoed["headers"]["accept-encoding"] == "gzip;q=0.5"


def test_an_answer_in_an_undecodable_coding_is_counted_as_such(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    # A server that ignores Accept-Encoding and answers br anyway.
    router = routers["shadowed"]
    before = router.metric(FAILURES, reason="encoding")
    headers = {"accept-encoding": "br", "x-test-compress": "br!"}
    client.post(f"{router.url}/predict", json=PREDICT, headers=headers)
    wait_until(
        "the expected counters and log lines",
        lambda: router.metric(FAILURES, reason="encoding") - before == 1,
        poll=0.1,
    )


def test_headers_named_by_connection_are_dropped_both_ways(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["shadowed"]
    headers = {"connection": "keep-alive, X-Hop-Secret", "x-hop-secret": "v", "x-kept": "k"}
    response = client.post(f"{router.url}/echo", json=PREDICT, headers=headers)
    echoed = response.json()["headers"]
    assert "x-hop-secret" not in echoed
    assert echoed["x-kept"] == "k"
    # The upstream named x-hop-answer in its Connection header: not relayed.
    assert "x-hop-answer" not in response.headers


def test_requests_are_logged_as_json_without_personal_data(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["shadowed"]
    client.post(
        f"{router.url}/predict/alice@example.com?email=bob@example.com",
        json=PREDICT,
        headers={"x-request-id": "access-1"},
    )
    wait_until(
        "the expected counters and log lines",
        lambda: any(r["request_id"] == "access-1" for r in log_records(router, "request")),
        poll=0.1,
    )
    record = next(r for r in log_records(router, "request") if r["request_id"] == "access-1")
    assert record["variant"] == "stable" and record["status"] == 200
    assert record["method"] == "POST" and record["duration_ms"] > 0
    assert "alice@example.com" not in router.log() and "bob@example.com" not in router.log()
    assert "\x1b[" not in router.log()  # uvicorn's color_message never reaches the JSON


def test_each_upstream_failure_is_logged_with_variant_and_reason(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["down"]
    for index in range(3):
        headers = {"x-request-id": f"down-{index}"}
        assert client.get(f"{router.url}/predict", headers=headers).status_code == 503
    wait_until(
        "the expected counters and log lines",
        lambda: len(log_records(router, "upstream failed")) == 3,
        poll=0.1,
    )
    failures = log_records(router, "upstream failed")
    assert {r["request_id"] for r in failures} == {"down-0", "down-1", "down-2"}
    assert {(r["variant"], r["reason"]) for r in failures} == {("stable", "connect")}
    # Errors are access-logged even at sample_rate 0 (always_log_errors).
    assert len([r for r in log_records(router, "request") if r["status"] is None]) == 3
