"""The router's exposed surface: admin on its own listener, audit lines, throttled failed
authentication, the override header opt-in, the rate-limit key and dot segments."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from canaria.contracts import metrics as catalog
from services.router.config import ConfigError, RateLimitSettings, parse_config
from services.router.exchange import has_dot_segments
from services.router.ratelimit import RateLimiter, forwarded_client

from .conftest import Router, admin_headers
from .test_traffic import raw_exchange

PREDICT = {"features": {"tenure": 3}}
OVERRIDE_SECRET = "override-test-secret"


@pytest.fixture(scope="module")
def routers(
    upstreams: dict[str, str], start_routers: Callable[..., dict[str, Router]]
) -> dict[str, Router]:
    both = {"stable": {"url": upstreams["stable"]}, "canary": {"url": upstreams["canary"]}}
    return start_routers(
        {
            "separate": {
                "upstreams": both,
                "admin": {"max_auth_failures_per_minute": 3},
            },
            "public_admin": {"upstreams": both, "admin": {"listen": "public"}},
            "secret_override": {
                "upstreams": both,
                "override_header": "x-canaria-variant",
                "override_secret_env": "CANARIA_ROUTER_ADMIN_TOKEN",  # set by the fixture
            },
        }
    )


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as session:
        yield session


def json_lines(router: Router, message: str) -> list[dict[str, Any]]:
    lines = [line for line in router.log().splitlines() if line.startswith("{")]
    return [record for line in lines if (record := json.loads(line))["msg"] == message]


@pytest.mark.slow
def test_the_admin_api_is_only_on_its_own_listener(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["separate"]
    public = client.get(f"{router.url}/admin/routes", headers=admin_headers())
    assert public.status_code == 404 and "admin listener" in public.json()["error"]
    assert client.get(f"{router.admin_url}/admin/routes", headers=admin_headers()).is_success
    # The admin listener proxies nothing; both serve the router's own endpoints.
    assert client.post(f"{router.admin_url}/predict", json=PREDICT).status_code == 404
    for url in (router.url, router.admin_url):
        assert client.get(f"{url}/metrics").is_success
    # Kept for callers that need it: admin.listen public.
    same_port = routers["public_admin"]
    assert same_port.admin_url == same_port.url
    assert client.get(f"{same_port.url}/admin/routes", headers=admin_headers()).is_success


@pytest.mark.slow
def test_each_admin_change_is_audited(client: httpx.Client, routers: dict[str, Router]) -> None:
    router = routers["separate"]
    url = f"{router.admin_url}/admin/routes"
    assert client.put(url, json={"canary_weight": 7}, headers=admin_headers()).is_success
    (audit,) = [
        line for line in json_lines(router, "admin change") if line["after"]["canary_weight"] == 7
    ]
    assert audit["caller"] == "127.0.0.1" and audit["endpoint"] == "PUT /admin/routes"
    assert audit["before"]["canary_weight"] == 0 and audit["status"] == 200
    client.put(url, json={"canary_weight": 0}, headers=admin_headers())


@pytest.mark.slow
def test_failed_authentication_is_logged_counted_and_throttled(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["separate"]
    url = f"{router.admin_url}/admin/routes"
    guess = "guessed-token-3141"
    statuses = [client.get(url, headers=admin_headers(guess)).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    # Past the limit even the right token waits out the minute.
    throttled = client.get(url, headers=admin_headers())
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert router.series(catalog.ROUTER_ADMIN_AUTH_FAILURES_TOTAL) == 4
    failures = json_lines(router, "admin authentication failed")
    assert len(failures) == 3 and failures[0]["caller"] == "127.0.0.1"
    assert guess not in router.log()


@pytest.mark.slow
def test_the_override_header_is_off_by_default(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    router = routers["separate"]  # canary_weight 0, no override_header
    for value in ("canary", "blue"):
        answer = client.post(
            f"{router.url}/predict", json=PREDICT, headers={"x-canaria-variant": value}
        )
        assert answer.status_code == 200 and answer.json()["served_by"] == "stable"


@pytest.mark.slow
def test_an_override_needs_the_configured_secret(
    client: httpx.Client, routers: dict[str, Router]
) -> None:
    from .conftest import ADMIN_TOKEN

    url = f"{routers['secret_override'].url}/predict"
    forced = {"x-canaria-variant": "canary"}
    for secret in (None, "wrong", ADMIN_TOKEN[:-1]):
        headers = forced if secret is None else {**forced, "x-canaria-override-secret": secret}
        assert client.post(url, json=PREDICT, headers=headers).json()["served_by"] == "stable"
    headers = {**forced, "x-canaria-override-secret": ADMIN_TOKEN}
    assert client.post(url, json=PREDICT, headers=headers).json()["served_by"] == "canary"
    echoed = client.post(url.replace("/predict", "/echo"), json=PREDICT, headers=headers).json()
    assert "x-canaria-override-secret" not in echoed["headers"]  # never forwarded


@pytest.mark.slow
@pytest.mark.parametrize(
    "target", [b"/a/../admin/routes", b"/./predict", b"/a/%2e%2e/predict", b"/predict/.."]
)
def test_dot_segments_are_refused(routers: dict[str, Router], target: bytes) -> None:
    request = b"GET " + target + b" HTTP/1.1\r\nhost: r\r\nconnection: close\r\n\r\n"
    answer = raw_exchange(routers["separate"].url, request)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"dot segments" in answer


@pytest.mark.parametrize(
    ("path", "refused"),
    [("/a/../b", True), ("/./a", True), ("/a/..", True), ("/a/.b/c", False), ("/a..b", False),
     ("/v1/completions", False), ("/a\\..\\b", True)],
)  # fmt: skip
def test_dot_segment_detection(path: str, refused: bool) -> None:
    assert has_dot_segments(path) is refused


@pytest.mark.parametrize(
    ("header", "proxies", "client"),
    [
        ("203.0.113.7", 1, "203.0.113.7"),
        ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),  # a spoofed prefix changes nothing
        ("6.6.6.6, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),  # two trusted proxies
        ("203.0.113.7", 3, "203.0.113.7"),  # fewer hops than proxies: the leftmost
        ("", 1, None),
    ],
)
def test_the_client_is_the_hop_the_trusted_proxy_added(
    header: str, proxies: int, client: str | None
) -> None:
    assert forwarded_client(header, proxies) == client


def test_a_spoofed_forwarded_for_prefix_shares_the_clients_bucket() -> None:
    limiter = RateLimiter(
        RateLimitSettings(requests_per_second=1, burst=1, key="forwarded_for", trusted_proxies=1)
    )
    keys = {
        limiter.key({"x-forwarded-for": f"10.9.9.{n}, 203.0.113.7"}, "10.0.0.1") for n in range(5)
    }
    assert keys == {"a:203.0.113.7"}
    assert limiter.key({}, "10.0.0.1") == "a:10.0.0.1"  # no header: the TCP peer


def test_keying_on_the_raw_forwarded_for_header_is_refused() -> None:
    raw = {
        "upstreams": {"stable": {"url": "http://s"}},
        "rate_limit": {"requests_per_second": 1, "burst": 1, "key": "header:X-Forwarded-For"},
    }
    with pytest.raises(ConfigError, match=r"rate_limit\.key: .*use 'forwarded_for'"):
        parse_config(raw)
