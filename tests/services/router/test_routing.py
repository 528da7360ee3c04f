"""Choosing the variant (pure): override, match rules, sticky and random weighted split."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canaria.contracts.metrics import Variant
from services.router.config import RouterConfig, parse_config
from services.router.routing import (
    RoutingError,
    choose_variant,
    matches,
    parse_cookies,
    sticky_bucket,
)


def make_config(**fields: Any) -> RouterConfig:
    upstreams = {"stable": {"url": "http://s"}, "canary": {"url": "http://c"}}
    return parse_config({"upstreams": upstreams, "override_header": "x-canaria-variant", **fields})


def test_the_override_header_wins_over_weight_and_rules() -> None:
    config = make_config(canary_weight=100, match={"header:x-ab": "b"})
    headers = {"x-canaria-variant": "Stable", "x-ab": "b"}
    assert choose_variant(config=config, headers=headers, draw=lambda: 0.0) is Variant.STABLE
    with pytest.raises(RoutingError, match="x-canaria-variant"):
        choose_variant(config=config, headers={"x-canaria-variant": "shadow"}, draw=random.random)


def test_overriding_to_a_missing_canary_is_an_error() -> None:
    raw = {"upstreams": {"stable": {"url": "http://s"}}, "override_header": "x-canaria-variant"}
    config = parse_config(raw)
    with pytest.raises(RoutingError, match="no canary"):
        choose_variant(config=config, headers={"x-canaria-variant": "canary"}, draw=random.random)


def test_match_rules_all_have_to_hold() -> None:
    rules = {"header:x-ab": "b", "cookie:beta": "yes"}
    assert matches(rules, {"x-ab": "b"}, {"beta": "yes"})
    assert not matches(rules, {"x-ab": "b"}, {})
    assert not matches({}, {"x-ab": "b"}, {})
    config = make_config(match=rules)
    headers = {"x-ab": "b", "cookie": "other=1; beta=yes"}
    assert choose_variant(config=config, headers=headers, draw=lambda: 0.99) is Variant.CANARY
    assert choose_variant(config=config, headers={"x-ab": "b"}, draw=lambda: 0.0) is Variant.STABLE


def test_cookies_are_parsed_leniently() -> None:
    assert parse_cookies('a=1; b="two"; junk; =x; c=') == {"a": "1", "b": "two", "c": ""}


def test_the_random_split_compares_the_draw_with_the_weight() -> None:
    config = make_config(canary_weight=30)
    assert choose_variant(config=config, headers={}, draw=lambda: 0.29) is Variant.CANARY
    assert choose_variant(config=config, headers={}, draw=lambda: 0.30) is Variant.STABLE


def test_sticky_buckets_are_pinned_and_the_weight_is_an_exclusive_bound() -> None:
    # blake2b-64 of the key, mod 10 000, in hundredths: values pinned by hand, so that a
    # change of hash, digest size or modulus (which would move every user) fails here.
    assert sticky_bucket("cookie-user") == 47.35
    assert sticky_bucket("user-1") == 37.68
    assert sticky_bucket("user-2") == 78.64
    for weight, variant in ((47, Variant.STABLE), (48, Variant.CANARY)):
        config = make_config(canary_weight=weight, sticky={"cookie": "session"})
        headers = {"cookie": "session=cookie-user"}  # bucket 47.35
        assert choose_variant(config=config, headers=headers, draw=lambda: 0.0) is variant


def test_sticky_cookie_keys_the_split() -> None:
    config = make_config(canary_weight=50, sticky={"cookie": "session"})
    user = "cookie-user"
    expected = Variant.CANARY  # bucket 47.35 < 50 (pinned above)
    for draw in (0.0, 0.5, 0.99):
        headers = {"cookie": f"session={user}"}
        assert choose_variant(config=config, headers=headers, draw=lambda d=draw: d) is expected


@given(key=st.text(min_size=1), low=st.integers(0, 100), high=st.integers(0, 100))
def test_a_canary_user_stays_on_the_canary_when_the_weight_grows(
    key: str, low: int, high: int
) -> None:
    low, high = min(low, high), max(low, high)
    headers = {"x-user-id": key}
    draw = random.random
    before = choose_variant(
        config=make_config(canary_weight=low, sticky={"header": "X-User-Id"}),
        headers=headers,
        draw=draw,
    )
    after = choose_variant(
        config=make_config(canary_weight=high, sticky={"header": "x-user-id"}),
        headers=headers,
        draw=draw,
    )
    assert before is Variant.STABLE or after is Variant.CANARY
    assert 0 <= sticky_bucket(key) < 100


def test_a_cookie_value_keeps_its_equals_signs_and_only_quotes_are_stripped() -> None:
    # Base64 values end in "=": the name ends at the first "=", the value keeps the rest.
    assert parse_cookies("session=YWJj==; theme=\"Xmas\"; n= 'x' ") == {
        "session": "YWJj==",
        "theme": "Xmas",
        "n": "'x'",
    }


def test_a_rule_for_an_empty_value_matches_a_missing_header_or_cookie() -> None:
    # A header or cookie that is not there reads as "" (not as any other text).
    assert matches({"header:x-ab": ""}, {}, {})
    assert matches({"cookie:beta": ""}, {}, {})
    assert not matches({"header:x-ab": "b"}, {}, {})
    assert not matches({"cookie:beta": "yes"}, {"beta": "yes"}, {})  # a header is no cookie
    assert not matches({"header:beta": "yes"}, {}, {"beta": "yes"})  # nor the reverse
