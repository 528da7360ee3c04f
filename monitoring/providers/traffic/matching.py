"""Checks shared by the traffic routers: weights in range, A/B match keys well formed."""

from __future__ import annotations

import re
from enum import StrEnum

from monitoring.providers.base import Routes

# An HTTP header name (RFC 7230 token), also what Gateway API accepts; cookie names alike.
TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")


class MatchKind(StrEnum):
    HEADER = "header"
    COOKIE = "cookie"


def parse_match_key(key: str) -> tuple[MatchKind, str]:
    """``"header:x-ab"`` -> ``(MatchKind.HEADER, "x-ab")`` (pure); ValueError names the key."""
    kind, _, name = key.partition(":")
    try:
        match_kind = MatchKind(kind)
    except ValueError:
        raise ValueError(f"match key {key!r} must start with 'header:' or 'cookie:'") from None
    if not TOKEN.fullmatch(name):
        raise ValueError(f"match key {key!r} has an invalid {kind} name {name!r}")
    return match_kind, name


def validate_routes(routes: Routes) -> None:
    """Refuse routes no provider can apply (pure); the message names the field."""
    if isinstance(routes.canary_weight, bool) or not isinstance(routes.canary_weight, int):
        raise ValueError(f"canary_weight must be an integer, got {routes.canary_weight!r}")
    if not 0 <= routes.canary_weight <= 100:
        raise ValueError(f"canary_weight must be within 0-100, got {routes.canary_weight}")
    for key, value in routes.match.items():
        parse_match_key(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"match[{key!r}] must be a non-empty string, got {value!r}")
