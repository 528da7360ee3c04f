"""The router in front of real upstreams: split, stickiness, overrides, limits, errors."""

from __future__ import annotations

import contextlib
import json
import math
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from canaria.contracts import metrics as catalog

from .conftest import CLIENTS, Router, admin_headers

pytestmark = pytest.mark.slow  # starts real processes or trains a model

PREDICT = {"features": {"tenure": 3, "plan": "basic"}}


def _upstream(url: str, timeout: float = 5.0) -> dict[str, Any]:
    return {"url": url, "timeout_seconds": timeout}


@pytest.fixture(scope="module", params=CLIENTS)
def routers(
    request: pytest.FixtureRequest,
    upstreams: dict[str, str],
    start_routers: Callable[..., dict[str, Router]],
) -> dict[str, Router]:
    """The routers, once with each upstream client (every test here runs with both)."""
    stable = _upstream(upstreams["stable"])
    return start_routers(
        {
            "split": {
                "upstreams": {"stable": stable, "canary": _upstream(upstreams["canary"])},
                "canary_weight": 30,
                "sticky": {"header": "x-user-id"},
                "match": {"header:x-ab": "b"},
                "max_request_bytes": 4096,
                "override_header": "x-canaria-variant",
            },
            "limited": {
                "upstreams": {"stable": stable},
                "rate_limit": {"requests_per_second": 0.2, "burst": 3, "key": "header:x-api-key"},
            },
            "canary_down": {
                "upstreams": {"stable": stable, "canary": _upstream(upstreams["dead"])},
                "canary_weight": 100,
                "override_header": "x-canaria-variant",
            },
            "canary_hangs_up": {
                "upstreams": {"stable": stable, "canary": _upstream(upstreams["hangup"])},
                "canary_weight": 100,
            },
            "canary_slow": {
                "upstreams": {"stable": stable, "canary": _upstream(upstreams["slow"], 0.5)},
                "canary_weight": 100,
            },
        },
        client=request.param,
    )


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as session:
        yield session


@contextlib.contextmanager
def canary_weight(client: httpx.Client, router: Router, weight: int) -> Iterator[None]:
    """Set the weight through the admin API for the block, then put the old one back."""
    before = client.get(f"{router.admin_url}/admin/routes", headers=admin_headers()).json()
    response = client.put(
        f"{router.admin_url}/admin/routes", json={"canary_weight": weight}, headers=admin_headers()
    )
    assert response.status_code == 200, response.text
    try:
        yield
    finally:
        client.put(
            f"{router.admin_url}/admin/routes",
            json={"canary_weight": before["canary_weight"]},
            headers=admin_headers(),
        )


def served_by(
    client: httpx.Client, router: Router, headers: Mapping[str, str] | None = None
) -> str:
    response = client.post(f"{router.url}/predict", json=PREDICT, headers=dict(headers or {}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["x-canaria-variant"] == body["served_by"]
    return str(body["served_by"])


def assert_share(count: int, total: int, weight: int) -> None:
    """Within 4.5 binomial standard deviations: fails by chance about once in 150,000."""
    share = weight / 100
    sigma = math.sqrt(total * share * (1 - share))
    assert abs(count - total * share) <= 4.5 * sigma, (count, total, weight)


def test_split_follows_the_weight(client: httpx.Client, routers: dict[str, Router]) -> None:
    router = routers["split"]
    durations = catalog.ROUTER_REQUEST_DURATION + "_count"
    before = {v: router.metric(durations, variant=v) for v in ("stable", "canary")}
    variants = [served_by(client, router) for _ in range(500)]
    assert_share(variants.count("canary"), len(variants), 30)
    # Every answer is timed under the variant that served it.
    for variant in ("stable", "canary"):
        timed = router.metric(durations, variant=variant) - before[variant]
        assert timed == variants.count(variant), variant


def test_a_weight_change_applies_to_the_next_requests(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["split"]
    with canary_weight(client, router, 80):
        variants = [served_by(client, router) for _ in range(300)]
        assert router.series(catalog.ROUTER_WEIGHT, variant="canary") == 80
        assert router.series(catalog.ROUTER_WEIGHT, variant="stable") == 20
    assert_share(variants.count("canary"), len(variants), 80)
    with canary_weight(client, router, 0):
        assert {served_by(client, router) for _ in range(50)} == {"stable"}


def test_a_user_keeps_the_same_variant(client: httpx.Client, routers: dict[str, Router]) -> None:
    router = routers["split"]
    users = [f"user-{index}" for index in range(60)]
    first: dict[str, str] = {}
    for user in users:
        seen = {served_by(client, router, {"x-user-id": user}) for _ in range(4)}
        assert len(seen) == 1, (user, seen)
        first[user] = seen.pop()
    assert set(first.values()) == {"stable", "canary"}
    # Raising the weight moves more users to the canary and none back to stable.
    with canary_weight(client, router, 60):
        for user, variant in first.items():
            if variant == "canary":
                assert served_by(client, router, {"x-user-id": user}) == "canary"


def test_the_override_header_forces_a_variant(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["split"]
    for forced in ("canary", "stable"):
        seen = {served_by(client, router, {"x-canaria-variant": forced}) for _ in range(30)}
        assert seen == {forced}
    response = client.post(
        f"{router.url}/predict", json=PREDICT, headers={"x-canaria-variant": "blue"}
    )
    assert response.status_code == 400
    assert "x-canaria-variant" in response.json()["error"]


def test_match_rules_send_matching_requests_to_the_canary(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["split"]
    with canary_weight(client, router, 0):
        assert {served_by(client, router, {"x-ab": "b"}) for _ in range(30)} == {"canary"}
        assert {served_by(client, router, {"x-ab": "a"}) for _ in range(30)} == {"stable"}
        assert {served_by(client, router) for _ in range(30)} == {"stable"}


def test_request_id_is_propagated_or_created(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    url = f"{routers['split'].url}/predict"
    given = client.post(url, json=PREDICT, headers={"x-request-id": "req-42"})
    assert given.headers["x-request-id"] == "req-42"
    assert given.json()["request_id"] == "req-42"
    created = client.post(url, json=PREDICT)
    assert len(created.headers["x-request-id"]) == 32
    assert created.json()["request_id"] == created.headers["x-request-id"]


def test_a_body_over_the_size_limit_is_refused(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    response = client.post(f"{routers['split'].url}/predict", content=b"x" * 5000)
    assert response.status_code == 413
    assert "max_request_bytes" in response.json()["error"]


def test_sse_streams_arrive_token_by_token(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["split"]
    arrivals: list[tuple[float, str]] = []
    started = time.monotonic()
    with client.stream(
        "POST",
        f"{router.url}/v1/completions",
        json={"prompt": "Where is the cat?", "stream": True},
        headers={"x-canaria-variant": "stable"},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.monotonic() - started, line[5:].strip()))
    assert arrivals[-1][1] == "[DONE]"
    pieces = [json.loads(data)["choices"][0]["text"] for _, data in arrivals[:-1]]
    assert "".join(pieces) == "The cat sits on the mat."
    # The upstream waits 0.3 s after each of its 6 words: a buffered answer would arrive
    # all at once, after 1.8 s.
    assert arrivals[0][0] < 1.0, arrivals
    assert arrivals[-1][0] - arrivals[0][0] > 1.0, arrivals


def test_the_rate_limit_answers_429_with_retry_after(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["limited"]
    statuses = []
    for _ in range(5):
        response = client.post(f"{router.url}/predict", json=PREDICT, headers={"x-api-key": "a"})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429, 429]
    assert int(response.headers["retry-after"]) >= 1
    assert "rate limit" in response.json()["error"]
    other = client.post(f"{router.url}/predict", json=PREDICT, headers={"x-api-key": "b"})
    assert other.status_code == 200
    assert router.series(catalog.ROUTER_RATE_LIMITED_TOTAL) == 2


def test_a_canary_that_is_down_is_named_and_counted(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["canary_down"]
    for _ in range(3):
        started = time.monotonic()
        response = client.post(f"{router.url}/predict", json=PREDICT)
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        body = response.json()
        assert body["variant"] == "canary"
        assert "canary" in body["error"] and "unreachable" in body["error"]
    errors = catalog.ROUTER_UPSTREAM_ERRORS_TOTAL
    assert router.series(errors, variant="canary", reason="connect") == 3
    requests = catalog.ROUTER_REQUESTS_TOTAL
    assert router.series(requests, variant="canary", status="error") == 3
    assert served_by(client, router, {"x-canaria-variant": "stable"}) == "stable"


def test_a_canary_that_is_too_slow_times_out_with_504(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["canary_slow"]
    started = time.monotonic()
    response = client.post(f"{router.url}/predict", json=PREDICT)
    assert time.monotonic() - started < 1.4  # the upstream would take 1.5 s
    assert response.status_code == 504
    assert response.json()["variant"] == "canary"
    errors = catalog.ROUTER_UPSTREAM_ERRORS_TOTAL
    assert router.series(errors, variant="canary", reason="timeout") == 1


def test_a_canary_that_hangs_up_gets_502_and_nothing_is_sent_twice(
    client: httpx.Client, routers: dict[str, Router], upstreams: dict[str, str]
) -> None:
    router = routers["canary_hangs_up"]
    stats = f"{upstreams['hangup']}/stats"
    before = client.get(stats).json()["requests"]
    for method in ("POST", "GET"):
        response = client.request(method, f"{router.url}/predict", json=PREDICT)
        assert response.status_code == 502
        body = response.json()
        assert body["variant"] == "canary"
        assert "canary" in body["error"] and "closed the connection" in body["error"]
    # One request each: a prediction POST that may have run is never sent again.
    assert client.get(stats).json()["requests"] - before == 2
    errors = catalog.ROUTER_UPSTREAM_ERRORS_TOTAL
    assert router.series(errors, variant="canary", reason="disconnect") == 2


def raw_exchange(url: str, data: bytes) -> bytes:
    """Send ``data`` as it is on a new connection; the bytes that come back until it closes."""
    host, port = url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize(
    ("request_bytes", "status", "says"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400, b"Invalid HTTP request"),
        (b"POST /predict HTTP/1.1\r\ncontent-length: many\r\n\r\n", 400, b"Invalid HTTP"),
        (
            b"GET /predict HTTP/1.1\r\nx-big: " + b"a" * 100_000 + b"\r\n\r\n",
            431,
            b'{"error":"request headers larger than max_header_bytes (65536)"}',
        ),
        (
            b"GET /predict HTTP/1.1\r\n" + b"x-h: v\r\n" * 10_000 + b"\r\n",
            431,
            b"max_header_bytes",
        ),
        # The request line counts too: a 200 KB URL is refused the same way.
        (b"GET /predict?" + b"q" * 200_000 + b" HTTP/1.1\r\n\r\n", 431, b"max_header_bytes"),
        # A WebSocket upgrade is proxied as a plain request (hop-by-hop headers dropped).
        (
            b"GET /predict HTTP/1.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
            200,
            b'"served_by": "stable"',
        ),
    ],
)
def test_malformed_requests_get_a_4xx_never_a_500(
    routers: dict[str, Router], request_bytes: bytes, status: int, says: bytes
) -> None:
    router = routers["split"]
    head = b"host: router\r\nx-canaria-variant: stable\r\nconnection: close\r\n"
    first_line, _, rest = request_bytes.partition(b"\r\n")
    answer = raw_exchange(router.url, first_line + b"\r\n" + head + rest)
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:200]
    assert says in answer
    assert "Traceback" not in router.log() and "Exception in ASGI" not in router.log()
