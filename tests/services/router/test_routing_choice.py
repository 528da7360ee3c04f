"""``choose_variant`` at its edges (services/router/routing.py), with hand-reasoned values:
weight 1 and a draw of 0, the exclusive bound of the random split, a sticky header, the
override only when allowed, and forcing the stable without a canary upstream."""

from __future__ import annotations

from canaria.contracts.metrics import Variant
from services.router.config import parse_config
from services.router.routing import choose_variant
from tests.services.router.test_routing import make_config


def test_weight_1_sends_the_lowest_draws_to_the_canary() -> None:
    config = make_config(canary_weight=1)
    # draw in [0, 1) scaled to [0, 100): 0.5 < 1 is the canary, 1.0 is not.
    assert choose_variant(config=config, headers={}, draw=lambda: 0.005) is Variant.CANARY
    assert choose_variant(config=config, headers={}, draw=lambda: 0.01) is Variant.STABLE


def test_the_random_split_scales_the_draw_to_exactly_100() -> None:
    config = make_config(canary_weight=50)
    assert choose_variant(config=config, headers={}, draw=lambda: 0.499) is Variant.CANARY
    assert choose_variant(config=config, headers={}, draw=lambda: 0.5) is Variant.STABLE


def test_a_sticky_header_decides_whatever_the_draw() -> None:
    headers = {"x-user-id": "user-1"}  # bucket 37.68 (pinned in test_routing.py)
    for weight, variant in ((38, Variant.CANARY), (37, Variant.STABLE)):
        config = make_config(canary_weight=weight, sticky={"header": "x-user-id"})
        for draw in (0.0, 0.99):
            assert choose_variant(config=config, headers=headers, draw=lambda d=draw: d) is variant


def test_the_override_header_counts_only_when_allowed() -> None:
    config = make_config(canary_weight=0)
    forced = {"x-canaria-variant": "canary"}
    assert choose_variant(config=config, headers=forced, draw=lambda: 0.0) is Variant.CANARY
    refused = choose_variant(
        config=config, headers=forced, draw=lambda: 0.0, override_allowed=False
    )
    assert refused is Variant.STABLE


def test_forcing_the_stable_works_without_a_canary_upstream() -> None:
    config = parse_config(
        {"upstreams": {"stable": {"url": "http://s"}}, "override_header": "x-canaria-variant"}
    )
    headers = {"x-canaria-variant": "stable"}
    assert choose_variant(config=config, headers=headers, draw=lambda: 0.0) is Variant.STABLE
