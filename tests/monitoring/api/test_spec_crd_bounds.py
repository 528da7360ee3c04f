"""The parser states the CRD's bounds, field by field: every ``maxLength``, ``minimum``,
``maximum`` and ``maxItems`` under ``spec`` in ``k8s/crds/modelrollout.yaml`` is walked,
and ``parse_spec`` must accept the value AT the bound and refuse ONE STEP PAST it with a
``SpecError`` naming the field. In a cluster the API server enforces the CRD; in local mode
only the parser: both must give a user the same answer, and a change of either side's
bound fails here."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from monitoring.api.spec import SpecError, parse_spec
from tests.k8s.test_crd import crd_schema
from tests.monitoring.api.spec_builders import with_

Bound = tuple[str, str, float]
"""(field path like ``trafficProvider.router.service``, bound keyword, bound value)."""

KEYWORDS = ("maxLength", "minimum", "maximum", "maxItems")


def walk(node: dict[str, Any], path: str) -> Iterator[Bound]:
    """Every bound under ``node``; ``[]`` stands for an array's items, ``*`` for a map's values."""
    for keyword in KEYWORDS:
        if keyword in node:
            yield path, keyword, node[keyword]
    for key, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{key}" if path else key)
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}.*")


SPEC_NODE = crd_schema()["properties"]["spec"]
BOUNDS = sorted(set(walk(SPEC_NODE, "")))


def node_at(path: str) -> dict[str, Any]:
    node = SPEC_NODE
    for part in path.replace("[]", ".[]").split("."):
        if part == "[]":
            node = node["items"]
        elif part == "*":
            node = node["additionalProperties"]
        else:
            node = node["properties"][part]
    return node


EXCLUDED = {
    "analysis.interval": "a duration: its digits are bounded by the pattern, its seconds by "
    "the parser (INTERVAL_SECONDS), tested in test_spec_bounds.py",
    "analysis.checks[].window": "a duration, like analysis.interval (WINDOW_SECONDS)",
}

ROUTER = {"trafficProvider": {"name": "router", "router": {"adminUrl": "http://127.0.0.1:9/"}}}
ROUTE = {"trafficProvider": {"name": "gatewayapi", "httpRoute": {"name": "route"}}}
SCRAPE = {"metricsProvider": {"name": "scrape", "targets": {"stable": ["http://a/metrics"]}}}
AB = {"strategy": {"type": "abTesting", "match": [{"type": "header", "name": "x", "value": "1"}]}}
WORKLOAD = {"workload": {"stable": "churn-stable", "canary": "churn-canary"}}
RETRAIN = {"retrain": {"launcher": "local", "triggers": {"scheduleSeconds": 3600}}}
NOTIFY = {"notifications": [{"provider": "webhook", "urlEnv": "HOOK_URL"}]}
LATENCY = {"name": "latency", "builtin": "latencyP99", "max": 0.5}
ANALYSIS = {"stepWeight": 10, "checks": [LATENCY]}
CONTEXTS: dict[str, dict[str, Any]] = {
    "analysis.checks[].min": {
        "analysis": {
            "stepWeight": 10,
            "checks": [{"name": "latency", "builtin": "latencyP99", "min": 0}],
        }
    },
    "analysis.checks[].query": {
        "analysis": {"stepWeight": 10, "checks": [{"name": "q", "max": 1}]}
    },
    "analysis.fastAbort": ROUTER,
    "analysis.fastAbort.failures": {
        **ROUTER,
        "analysis": {**ANALYSIS, "fastAbort": {"windowRequests": 10000}},
    },
    "analysis.fastAbort.windowRequests": {
        **ROUTER,
        "analysis": {**ANALYSIS, "fastAbort": {"failures": 1}},
    },
    "analysis.maxWeight": {"analysis": {"stepWeight": 1, "checks": [LATENCY]}},
    "analysis.stepWeight": {"analysis": {"stepWeight": 1, "maxWeight": 100, "checks": [LATENCY]}},
    "analysis.stepWeights": {
        "analysis": {"stepWeights": [10], "maxWeight": 100, "checks": [LATENCY]}
    },
    "trafficProvider.router": ROUTER,
    "trafficProvider.router.adminTokenSecretRef": {
        "trafficProvider": {
            "name": "router",
            "router": {"service": "router", "adminTokenSecretRef": {"name": "t"}},
        }
    },
    "notifications[].secretRef": {
        "notifications": [{"provider": "webhook", "secretRef": {"name": "h"}}]
    },
    "metricsProvider.labels": {"metricsProvider": {"name": "prometheus", "labels": {"team": "x"}}},
    "retrain.job.samples": {
        "retrain": {
            "triggers": {"scheduleSeconds": 3600},
            "job": {"image": "trainer:1", "samplesClaim": "samples"},
        }
    },
    "retrain.triggers.driftShare": {
        "retrain": {"launcher": "local", "triggers": {"driftShare": {"above": 0.5}}}
    },
    "trafficProvider.httpRoute": ROUTE,
    "metricsProvider": SCRAPE,
    "strategy": AB,
    "workload": WORKLOAD,
    "retrain": RETRAIN,
    "notifications": NOTIFY,
}
"""The valid setting a field needs around it, by the longest matching path prefix."""


def context_for(path: str) -> dict[str, Any]:
    prefixes = [p for p in CONTEXTS if path.startswith(p)]
    return CONTEXTS[max(prefixes, key=len)] if prefixes else {}


def dns_name(n: int) -> str:
    """A lower-case DNS name (``^[a-z0-9]([-a-z0-9]*[a-z0-9])?$``) of ``n`` characters."""
    return "a" * n


def url_of(n: int) -> str:
    return "http://a/" + "x" * (n - len("http://a/"))


STRINGS: dict[str, Callable[[int], str]] = {
    "notifications[].urlEnv": lambda n: "A" * n,
    "notifications[].hmacKeyEnv": lambda n: "A" * n,
    "trafficProvider.router.tokenEnv": lambda n: "A" * n,
    "trafficProvider.router.adminUrl": url_of,
    "trafficProvider.router.adminUrls[]": url_of,
    "metricsProvider.address": url_of,
    "metricsProvider.targets.*[]": url_of,
    "strategy.match[].name": lambda n: "x" * n,
    "retrain.job.samplesFile": lambda n: "a" * n,
    "analysis.checks[].query": lambda n: "up" + " " * (n - 2),
}
"""Strings that must meet a pattern or a form at full length (default: ``"a" * n``)."""


def place(path: str, value: Any) -> dict[str, Any]:
    """A valid spec (``minimal()`` plus the field's context) with ``value`` at ``path``;
    ``[]`` is the first item of a list, ``*`` the first key of a map."""
    spec = with_(copy.deepcopy(context_for(path)))
    parts = path.replace("[]", ".0").split(".")
    node: Any = spec
    for part, after in itertools.pairwise(parts):
        if part == "*":
            node = next(iter(node.values()))
        elif isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, [{}] if after == "0" else {})
    last = parts[-1]
    if last == "*":
        node[next(iter(node))] = value
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


EVENTS = ["started", "step", "promoting", "promoted", "failed", "manual"]


def items(path: str, count: int) -> list[Any]:
    """``count`` valid, distinct items for the list at ``path``."""
    one = {
        "notifications": lambda i: {"provider": "webhook", "urlEnv": f"HOOK_{i}"},
        "notifications[].events": lambda i: EVENTS[i % len(EVENTS)],  # the 7th repeats one
        "retrain.triggers.failedChecks": lambda i: "latency",
        "retrain.job.args": lambda i: f"--a{i}",
        "trafficProvider.router.adminUrls": lambda i: f"http://127.0.0.1:{9000 + i}/",
        "metricsProvider.targets.*": lambda i: f"http://a/{i}",
        "strategy.match": lambda i: {"type": "header", "name": f"x{i}", "value": "1"},
        "analysis.stepWeights": lambda i: min(i + 1, 100),
        "analysis.checks": lambda i: {"name": f"c{i}", "builtin": "latencyP99", "max": 1},
    }[path]
    return [one(i) for i in range(count)]


def value_and_past(path: str, keyword: str, bound: float) -> tuple[Any, Any]:
    node = node_at(path)
    if keyword == "maxLength":
        make = STRINGS.get(path, dns_name)
        return make(int(bound)), make(int(bound) + 1)
    if keyword == "maxItems":
        return items(path, int(bound)), items(path, int(bound) + 1)
    step: float = 1 if node["type"] == "integer" else max(abs(bound) * 1e-9, 1e-3)
    past = bound + step if keyword == "maximum" else bound - step
    return (int(bound), int(past)) if node["type"] == "integer" else (bound, past)


def names_field(error: SpecError, path: str) -> bool:
    """The error's path is the field's (``[]`` any index, ``*`` any key; a list's error may
    name its offending item). ``spec.retrain`` errors name the field in their reason."""
    field = re.escape(path).replace(r"\[\]", r"\[\d+\]").replace(r"\*", r"[^.\[]+")
    field += r"(\[\d+\])?"
    if error.path == "spec.retrain":
        return re.search(rf"\b{field}(?![\w.])", error.reason) is not None
    return re.fullmatch(rf"spec\.{field}", error.path) is not None


CASES = [
    pytest.param(*bound, id=f"{bound[0]}-{bound[1]}")
    for bound in BOUNDS
    if bound[0] not in EXCLUDED
]


def test_every_bound_is_covered_or_excluded_with_a_reason() -> None:
    paths = {path for path, _, _ in BOUNDS}
    assert set(EXCLUDED) <= paths, f"stale exclusions: {set(EXCLUDED) - paths}"
    assert ("trafficProvider.router.service", "maxLength", 63) in BOUNDS  # the walk reaches it
    assert len(CASES) >= 81, f"bounds went missing from the walk: {len(CASES)}"


@pytest.mark.parametrize(("path", "keyword", "bound"), CASES)
def test_the_parser_accepts_the_crd_bound_and_refuses_one_step_past(
    path: str, keyword: str, bound: float
) -> None:
    at, past = value_and_past(path, keyword, bound)
    if keyword == "maxLength" and "pattern" in node_at(path):
        assert re.fullmatch(node_at(path)["pattern"], at), (
            "the value at the bound breaks the pattern"
        )
    parse_spec(place(path, at))
    with pytest.raises(SpecError) as caught:
        parse_spec(place(path, past))
    assert names_field(caught.value, path), (path, str(caught.value))
