"""Which variant serves a request: override header, A/B match rules, then the weighted split.

Everything here is pure: the caller passes the request's headers and a random draw, so
the same inputs always give the same variant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from canaria.contracts.metrics import Variant

from .config import RouterConfig

_SELECTABLE = {Variant.STABLE.value: Variant.STABLE, Variant.CANARY.value: Variant.CANARY}


class RoutingError(ValueError):
    """The request asked for something the router cannot do (answered with 400)."""


def parse_cookies(header: str) -> dict[str, str]:
    """The name=value pairs of a ``Cookie`` header (pure; malformed pairs are skipped)."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            cookies[name] = value.strip().strip('"')
    return cookies


def sticky_bucket(key: str) -> float:
    """A stable position in [0, 100) for ``key`` (pure).

    A user whose bucket is below the canary weight gets the canary; raising the weight
    only adds users to the canary, so nobody flips back and forth during a rollout.
    """
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") % 10_000) / 100.0


def _lookup(source_and_name: str, headers: Mapping[str, str], cookies: Mapping[str, str]) -> str:
    source, _, name = source_and_name.partition(":")
    found = headers.get(name) if source == "header" else cookies.get(name)
    return "" if found is None else found


def matches(
    rules: Mapping[str, str], headers: Mapping[str, str], cookies: Mapping[str, str]
) -> bool:
    """True when every rule holds (pure): like a Gateway API HTTPRoute match, rules AND."""
    return bool(rules) and all(
        _lookup(key, headers, cookies) == value for key, value in rules.items()
    )


def choose_variant(
    *, config: RouterConfig, headers: Mapping[str, str], draw: Callable[[], float]
) -> Variant:
    """The variant for one request (pure given ``draw``, a uniform number in [0, 1)).

    Order: the override header forces a variant (testing); a request matching every A/B
    rule goes to the canary; the rest are split by weight, by the sticky key's bucket when
    the request has one, else at random. ``headers`` has lower-case names.
    """
    forced = headers.get(config.override_header)
    if forced is not None:
        variant = _SELECTABLE.get(forced.strip().lower())
        if variant is None:
            raise RoutingError(
                f"header {config.override_header}: must be 'stable' or 'canary', got {forced!r}"
            )
        if variant is Variant.CANARY and config.upstreams.canary is None:
            raise RoutingError(f"header {config.override_header}: no canary upstream configured")
        return variant
    weight = config.canary_weight
    needs_cookies = config.match or (config.sticky is not None and config.sticky.cookie)
    cookies = parse_cookies(headers.get("cookie", "")) if needs_cookies else {}
    if config.match and matches(config.match, headers, cookies):
        return Variant.CANARY
    if weight <= 0:
        return Variant.STABLE
    if weight >= 100:
        return Variant.CANARY
    sticky = config.sticky
    key = None
    if sticky is not None:
        key = headers.get(sticky.header) if sticky.header else cookies.get(sticky.cookie or "")
    position = sticky_bucket(key) if key else draw() * 100.0
    return Variant.CANARY if position < weight else Variant.STABLE
