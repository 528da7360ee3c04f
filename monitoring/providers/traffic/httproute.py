"""Pure builders for Gateway API HTTPRoute rules: plain dicts in, plain dicts out.

The operator owns the rules that forward to the stable or the canary backend ("managed"
rules) and leaves every other rule, and the rest of the route, as it found it. Of the
managed rules, the last one is the weighted rule (stable = 100 - canary, canary); its
matches, filters and timeouts are the user's and are kept. The builders turn ``Routes`` into:

* weights: the weighted rule's two ``backendRefs`` (both always present, weight 0 allowed);
* mirror (blue-green): a ``RequestMirror`` filter to the canary on the weighted rule;
* match (A/B): one more rule before it, with the weighted rule's matches plus header
  matches, sending everything to the canary. Gateway API has no cookie match, so a cookie
  is a ``RegularExpression`` match on the ``Cookie`` header (as Flagger does).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canaria.contracts.routes import MatchKind, Routes, parse_match_key
from monitoring.providers.interfaces import TrafficRouterError

GROUP = "gateway.networking.k8s.io"
VERSION = "v1"
PLURAL = "httproutes"
MIRROR_FILTER = "RequestMirror"
DEFAULT_MATCH: Mapping[str, Any] = {"path": {"type": "PathPrefix", "value": "/"}}
COOKIE_HEADER = "Cookie"
_COOKIE_REGEX = re.compile(r"\(\^\|\.\*;\\s\*\)(.+?)=(.*)\(;\.\*\|\$\)")

Rule = dict[str, Any]


@dataclass(frozen=True)
class Backends:
    """The two Services the route splits between; ``port`` defaults to the route's own."""

    stable: str
    canary: str
    port: int | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], route: Mapping[str, Any]) -> Backends:
        """``stable_backend``/``canary_backend`` from the settings; when not given, the
        route's last rule with exactly two backendRefs names them, stable first (the order
        ``build_rules`` writes)."""
        port = settings.get("port")
        stable, canary = settings.get("stable_backend"), settings.get("canary_backend")
        if not (stable and canary):
            pairs = [
                [ref.get("name") for ref in rule.get("backendRefs") or ()]
                for rule in route.get("spec", {}).get("rules") or ()
            ]
            pairs = [names for names in pairs if len(names) == 2 and all(names)]
            if not pairs:
                raise TrafficRouterError(
                    "gatewayapi settings need stableBackend and canaryBackend: no HTTPRoute "
                    "rule has exactly two backendRefs to take them from"
                )
            stable, canary = stable or pairs[-1][0], canary or pairs[-1][1]
        return cls(
            stable=str(stable), canary=str(canary), port=int(port) if port is not None else None
        )


def cookie_regex(name: str, value: str) -> str:
    """A ``Cookie`` header regex matching cookie ``name`` with exactly ``value`` (pure)."""
    return rf"(^|.*;\s*){re.escape(name)}={re.escape(value)}(;.*|$)"


def header_matches(match: Mapping[str, str]) -> list[dict[str, str]]:
    """Gateway API header matches for ``Routes.match`` (pure)."""
    headers = []
    for key, value in sorted(match.items()):
        kind, name = parse_match_key(key)
        if kind is MatchKind.HEADER:
            headers.append({"type": "Exact", "name": name, "value": value})
        else:
            headers.append(
                {
                    "type": "RegularExpression",
                    "name": COOKIE_HEADER,
                    "value": cookie_regex(name, value),
                }
            )
    return headers


def _ref_names(rule: Mapping[str, Any]) -> set[str]:
    return {ref.get("name", "") for ref in rule.get("backendRefs") or ()}


def _is_managed(rule: Mapping[str, Any], backends: Backends) -> bool:
    return bool(_ref_names(rule) & {backends.stable, backends.canary})


def weighted_rule_index(rules: list[Rule], backends: Backends) -> int:
    """Index of the weighted rule: the last rule forwarding to the stable or canary."""
    for index in range(len(rules) - 1, -1, -1):
        if _is_managed(rules[index], backends):
            return index
    raise TrafficRouterError(
        f"no HTTPRoute rule forwards to {backends.stable!r} or {backends.canary!r}"
    )


def _is_canary_mirror(flt: Mapping[str, Any], backends: Backends) -> bool:
    ref = (flt.get("requestMirror") or {}).get("backendRef") or {}
    return flt.get("type") == MIRROR_FILTER and ref.get("name") == backends.canary


def _backend_ref(rules: list[Rule], name: str, port: int | None, weight: int) -> dict[str, Any]:
    """A backendRef for ``name``, keeping what the route already says about it."""
    ref: dict[str, Any] = {}
    for rule in rules:
        for existing in rule.get("backendRefs") or ():
            if existing.get("name") == name:
                ref = copy.deepcopy(existing)
    ref.update(name=name, weight=weight)
    if port is not None:
        ref["port"] = port
    return ref


def _port(rules: list[Rule], backends: Backends) -> int:
    if backends.port is not None:
        return int(backends.port)
    for name in (backends.stable, backends.canary):
        for rule in rules:
            for ref in rule.get("backendRefs") or ():
                if ref.get("name") == name and ref.get("port") is not None:
                    return int(ref["port"])
    raise TrafficRouterError(
        f"no port for backend {backends.stable!r}: set it in the route or the settings"
    )


def build_rules(route: Mapping[str, Any], backends: Backends, routes: Routes) -> list[Rule]:
    """The route's ``spec.rules`` carrying ``routes`` (pure)."""
    rules: list[Rule] = copy.deepcopy(list(route.get("spec", {}).get("rules") or []))
    base = rules[weighted_rule_index(rules, backends)]
    port = _port(rules, backends)
    stable_ref = _backend_ref(rules, backends.stable, port, 100 - routes.canary_weight)
    canary_ref = _backend_ref(rules, backends.canary, port, routes.canary_weight)
    user_filters = [f for f in base.get("filters") or () if not _is_canary_mirror(f, backends)]

    weighted = {key: value for key, value in base.items() if key not in ("backendRefs", "filters")}
    filters = list(user_filters)
    if routes.mirror:
        mirror_ref = {k: v for k, v in canary_ref.items() if k in ("group", "kind", "namespace")}
        mirror_ref.update(name=backends.canary, port=port)
        filters.append({"type": MIRROR_FILTER, "requestMirror": {"backendRef": mirror_ref}})
    if filters:
        weighted["filters"] = filters
    weighted["backendRefs"] = [stable_ref, canary_ref]

    managed: list[Rule] = []
    if routes.match:
        headers = header_matches(routes.match)
        ab = {key: value for key, value in weighted.items() if key not in ("name", "filters")}
        ab["matches"] = [
            {**match, "headers": [*match.get("headers", []), *headers]}
            for match in base.get("matches") or [DEFAULT_MATCH]
        ]
        if user_filters:
            ab["filters"] = user_filters
        ab["backendRefs"] = [{**stable_ref, "weight": 0}, {**canary_ref, "weight": 100}]
        managed.append(ab)
    managed.append(weighted)
    return [rule for rule in rules if not _is_managed(rule, backends)] + managed


def build_patch(route: Mapping[str, Any], backends: Backends, routes: Routes) -> dict[str, Any]:
    """The JSON merge patch that applies ``routes`` to ``route`` (pure).

    It carries the route's ``resourceVersion``, so the API server refuses it (409) when
    someone changed the route since it was read, instead of overwriting their change.
    """
    patch: dict[str, Any] = {"spec": {"rules": build_rules(route, backends, routes)}}
    resource_version = route.get("metadata", {}).get("resourceVersion")
    if resource_version:
        patch["metadata"] = {"resourceVersion": resource_version}
    return patch


def _weight(ref: Mapping[str, Any]) -> int:
    # Gateway API: a backendRef without a weight has weight 1.
    return int(ref.get("weight", 1))


def read_routes(route: Mapping[str, Any], backends: Backends) -> Routes:
    """The ``Routes`` an HTTPRoute carries (pure): the inverse of ``build_rules``."""
    rules: list[Rule] = list(route.get("spec", {}).get("rules") or [])
    index = weighted_rule_index(rules, backends)
    weighted = rules[index]
    weights = {ref.get("name"): _weight(ref) for ref in weighted.get("backendRefs") or ()}
    canary, total = weights.get(backends.canary, 0), sum(weights.values())
    canary_weight = round(100 * canary / total) if total else 0
    mirror = any(_is_canary_mirror(f, backends) for f in weighted.get("filters") or ())
    return Routes(
        canary_weight=canary_weight, mirror=mirror, match=_read_match(rules, index, backends)
    )


def _read_match(rules: list[Rule], weighted_index: int, backends: Backends) -> dict[str, str]:
    weighted = rules[weighted_index]
    user_headers = {
        (header.get("name"), header.get("value"))
        for match in weighted.get("matches") or ()
        for header in match.get("headers") or ()
    }
    for rule in rules[:weighted_index]:
        if not _is_managed(rule, backends) or not rule.get("matches"):
            continue
        match: dict[str, str] = {}
        for header in rule["matches"][0].get("headers") or ():
            name, value = header.get("name", ""), header.get("value", "")
            if (name, value) in user_headers:
                continue
            cookie = _COOKIE_REGEX.fullmatch(value) if name == COOKIE_HEADER else None
            if cookie and header.get("type") == "RegularExpression":
                match[f"cookie:{_unescape(cookie.group(1))}"] = _unescape(cookie.group(2))
            else:
                match[f"header:{name}"] = value
        return match
    return {}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
