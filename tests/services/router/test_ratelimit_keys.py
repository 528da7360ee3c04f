"""The rate limiter's keys and its memory bound (pure parts, hand-reasoned values)."""

from __future__ import annotations

from typing import Any

from services.router.config import RateLimitSettings
from services.router.ratelimit import RateLimiter, forwarded_client


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock | None = None, **fields: Any) -> RateLimiter:
    settings = RateLimitSettings(**{"requests_per_second": 1.0, "burst": 1, **fields})
    return RateLimiter(settings, clock=clock or Clock())


def test_the_forwarded_client_is_counted_from_the_right() -> None:
    header = "6.6.6.6, 10.0.0.1 , 10.0.0.2"
    assert forwarded_client(header, 1) == "10.0.0.2"
    assert forwarded_client(header, 2) == "10.0.0.1"
    assert forwarded_client(header, 3) == "6.6.6.6"
    assert forwarded_client(header, 4) == "6.6.6.6"  # fewer hops: the leftmost
    assert forwarded_client(" , ,", 1) is None
    assert forwarded_client("", 1) is None


def test_keys_by_client_address_header_and_forwarded_for() -> None:
    by_address = limiter()
    assert by_address.key({"x-api-key": "k1"}, "1.2.3.4") == "a:1.2.3.4"
    by_header = limiter(key="header:X-Api-Key")
    assert by_header.key({"x-api-key": "k1"}, "1.2.3.4") == "h:k1"
    assert by_header.key({"x-api-key": ""}, "1.2.3.4") == "a:1.2.3.4"
    assert by_header.key({}, "1.2.3.4") == "a:1.2.3.4"
    forwarded = limiter(key="forwarded_for", trusted_proxies=2)
    headers = {"x-forwarded-for": "6.6.6.6, 9.9.9.9, 10.0.0.2"}
    assert forwarded.key(headers, "10.0.0.3") == "a:9.9.9.9"
    assert forwarded.key({}, "10.0.0.3") == "a:10.0.0.3"


def test_a_full_table_forgets_refilled_buckets_first() -> None:
    clock = Clock()
    rate_limiter = limiter(clock, max_clients=2)
    assert rate_limiter.retry_after("a") is None
    clock.now += 0.5
    assert rate_limiter.retry_after("b") is None
    clock.now += 0.5  # "a" refilled (1 token at 1/s after 1 s), "b" has not
    assert rate_limiter.retry_after("c") is None  # the table was full: "a" is forgotten
    assert rate_limiter.retry_after("b") == 1  # "b" remembered: still empty, 0.5 s to go
    assert rate_limiter.retry_after("a") is None  # a fresh bucket


def test_with_nothing_refilled_the_oldest_tenth_is_forgotten() -> None:
    clock = Clock()
    rate_limiter = limiter(clock, max_clients=20)
    for index in range(20):
        assert rate_limiter.retry_after(f"k{index}") is None
    assert rate_limiter.retry_after("new") is None  # drops k0 and k1 (20 // 10)
    assert rate_limiter.retry_after("k2") == 1  # still limited: remembered
    assert rate_limiter.retry_after("k1") is None  # forgotten: a full bucket again
    assert rate_limiter.retry_after("k0") is None  # forgotten too


def test_a_small_full_table_forgets_one_bucket() -> None:
    clock = Clock()
    rate_limiter = limiter(clock, max_clients=5)
    for index in range(5):
        assert rate_limiter.retry_after(f"k{index}") is None
    assert rate_limiter.retry_after("new") is None  # 5 // 10 = 0: still one, k0
    assert rate_limiter.retry_after("k1") == 1  # remembered


def test_a_bucket_is_idle_exactly_when_it_has_refilled() -> None:
    # burst 1 at 2/s: full again 1 / 2 = 0.5 s after its last use (not 1 * 2 = 2 s).
    clock = Clock()
    rate_limiter = limiter(clock, requests_per_second=2.0, burst=1, max_clients=2)
    assert rate_limiter.retry_after("b") is None  # b first in the table, at 100.0
    clock.now = 100.125
    assert rate_limiter.retry_after("a") is None  # a at 100.125
    clock.now = 100.25
    assert rate_limiter.retry_after("b") == 1  # b used again (refused) at 100.25
    clock.now = 100.625  # a refilled exactly now (0.5 s); b only 0.375 s ago
    assert rate_limiter.retry_after("c") is None  # a full table: the idle a goes, not b
    assert set(rate_limiter._buckets) == {"b", "c"}
