"""Pure evaluation of checks on samples: PromQL's semantics without Prometheus."""

from __future__ import annotations

import math

import pytest

from canaria.contracts.checks import BUILTIN_CHECKS, BuiltinCheck, LabelMatch, MatchOp
from monitoring.providers.metrics.evaluate import Sample, evaluate, histogram_quantile, matches

INF = math.inf
SUCCESS_RATE = BUILTIN_CHECKS[BuiltinCheck.REQUEST_SUCCESS_RATE].query


@pytest.mark.parametrize(
    ("quantile", "buckets", "expected"),
    [
        (0.99, {0.1: 0.0, 0.25: 10.0, INF: 10.0}, 0.1 + 0.15 * 0.99),
        (0.5, {1.0: 50.0, 2.0: 100.0, INF: 100.0}, 1.0),
        (0.75, {1.0: 50.0, 2.0: 100.0, INF: 100.0}, 1.5),
        (0.25, {1.0: 50.0, 2.0: 100.0, INF: 100.0}, 0.5),  # first bucket starts at 0
        (0.99, {1.0: 50.0, 2.0: 90.0, INF: 100.0}, 2.0),  # rank in +Inf: largest bound
        (0.5, {1.0: 0.0, INF: 0.0}, None),  # no observations: PromQL's NaN
        (0.5, {1.0: 3.0}, None),  # no +Inf bucket
        (1.5, {1.0: 3.0, INF: 3.0}, INF),
        (-0.5, {1.0: 3.0, INF: 3.0}, -INF),
    ],
)
def test_histogram_quantile_matches_promql(
    quantile: float, buckets: dict[float, float], expected: float | None
) -> None:
    result = histogram_quantile(quantile, buckets)
    assert result == (expected if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("op", "value", "label", "expected"),
    [
        (MatchOp.EQUAL, "a", "a", True),
        (MatchOp.NOT_EQUAL, "a", "a", False),
        (MatchOp.REGEX, "5..", "503", True),
        (MatchOp.REGEX, "5", "503", False),  # anchored, as in PromQL
        (MatchOp.NOT_REGEX, "5..|error", "error", False),
        (MatchOp.NOT_REGEX, "5..|error", "200", True),
    ],
)
def test_label_matchers_are_anchored(op: MatchOp, value: str, label: str, expected: bool) -> None:
    assert matches({"status": label}, LabelMatch("status", op, value)) is expected


def _requests(ok: float, failed: float) -> list[Sample]:
    name = "canaria_router_requests_total"
    return [
        Sample(name, {"variant": "canary", "status": "200"}, ok),
        Sample(name, {"variant": "canary", "status": "error"}, failed),
        Sample(name, {"variant": "stable", "status": "200"}, 1e6),
    ]


def test_share_uses_increases_and_the_matchers() -> None:
    scope = [LabelMatch("variant", MatchOp.EQUAL, "canary")]
    value = evaluate(SUCCESS_RATE, _requests(30, 10), _requests(0, 0), scope)
    assert value == 0.75
    start, now = _requests(10, 0), _requests(30, 20)
    assert evaluate(SUCCESS_RATE, now, start, scope) == 0.5


def test_share_with_only_failures_is_zero_not_no_data() -> None:
    name = "canaria_router_requests_total"
    now = [Sample(name, {"variant": "canary", "status": "500"}, 5)]
    scope = [LabelMatch("variant", MatchOp.EQUAL, "canary")]
    assert evaluate(SUCCESS_RATE, now, [], scope) == 0.0
