"""The traffic split both sides of the canaria router's admin API agree on (one source).

``Routes`` is what the operator wants (canary weight, mirroring, A/B match rules);
``routes_body`` is its JSON on ``GET``/``PUT /admin/routes`` and in the router's config
file; ``promoted_config`` is what ``POST /admin/promote`` does to a config. The router
(``services/router/config.py``) and the operator's router provider
(``monitoring/providers/traffic/router.py``) both use these, so they cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ROUTES_PATH = "/admin/routes"
PROMOTE_PATH = "/admin/promote"
ROUTE_FIELDS = ("canary_weight", "match", "mirror")
"""The fields of the routes body, the only ones ``PUT /admin/routes`` accepts."""

# An HTTP header name (RFC 7230 token), also what Gateway API accepts; cookie names alike.
TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")


@dataclass(frozen=True)
class Routes:
    """The traffic state the operator wants: what share goes where.

    ``canary_weight`` is 0-100 and the stable variant gets the rest. ``mirror`` sends a copy
    of stable traffic to the candidate (blue-green analysis). ``match`` restricts the
    candidate to requests whose headers (``header:NAME``) or cookies (``cookie:NAME``)
    equal the given value (A/B testing); weights still apply to the rest.
    """

    canary_weight: int
    mirror: bool = False
    match: Mapping[str, str] = field(default_factory=dict)


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


def routes_body(routes: Routes) -> dict[str, Any]:
    """The admin API's JSON for ``routes`` (pure): ``{"canary_weight", "mirror", "match"}``."""
    return {
        "canary_weight": routes.canary_weight,
        "mirror": routes.mirror,
        "match": dict(routes.match),
    }


def unknown_route_fields(update: Mapping[str, Any]) -> list[str]:
    """The keys of a ``PUT /admin/routes`` body that are not route fields, sorted (pure)."""
    return sorted(set(update) - set(ROUTE_FIELDS))


class NothingToPromoteError(ValueError):
    """The config has no ``upstreams.canary``, so there is nothing to promote."""


def promoted_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """What ``POST /admin/promote`` does to a router config (pure, on its plain dict form):
    the canary upstream becomes the stable one, all traffic goes to it, routes reset.

    Raises ``NothingToPromoteError`` when there is no ``upstreams.canary``.
    """
    upstreams = dict(config.get("upstreams") or {})
    if not upstreams.get("canary"):
        raise NothingToPromoteError("upstreams.canary: no canary to promote")
    upstreams["stable"] = upstreams["canary"]
    return {**config, "upstreams": upstreams, **routes_body(Routes(canary_weight=0))}
