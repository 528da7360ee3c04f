"""``parse_spec``'s metrics provider, strategy and step weights: every error message in
full, each bound on both sides, and the fields copied into the result.

The expected texts are written out by hand from the documented rules: a step weight is
an integer 1..100 (a whole float counts), a match rule names a header or cookie (an RFC
9110 token of at most 253 characters), at most 16 rules, and only ``abTesting`` has them.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.spec import (
    MatchType,
    MetricsProviderName,
    SpecError,
    StrategyType,
    parse_spec,
)
from tests.monitoring.api.spec_builders import with_

LONGEST_NAME = "a" * 253
"""The longest header/cookie name accepted (``bounds.MAX_NAME_LENGTH``)."""


def _weights(weights: Any) -> dict[str, Any]:
    """``analysis.stepWeights`` set (``stepWeight`` removed)."""
    return {"analysis.stepWeight": None, "analysis.stepWeights": weights}


def _ab(rules: Any) -> dict[str, Any]:
    """An ``abTesting`` strategy with these ``match`` rules."""
    return {"strategy.type": "abTesting", "strategy.match": rules}


def _header(name: str, value: str = "1") -> dict[str, str]:
    return {"type": "header", "name": name, "value": value}


REFUSED: list[tuple[dict[str, Any], str]] = [
    # spec.metricsProvider
    (
        {"metricsProvider.labels": "ml"},
        "spec.metricsProvider.labels: must be an object, got 'ml'",
    ),
    (
        {"metricsProvider.region": "eu"},
        "spec.metricsProvider.region: unknown field (known: address, labels, name, targets)",
    ),
    (
        {"metricsProvider.adress": "http://p:9090", "metricsProvider.zone": "a"},
        "spec.metricsProvider.adress: unknown field (known: address, labels, name, targets)",
    ),
    # spec.strategy: its type and the match list
    (
        {"strategy.type": "rolling"},
        "spec.strategy.type: must be one of canary, blueGreen, abTesting, got 'rolling'",
    ),
    (
        {"strategy.type": "abTesting"},
        "spec.strategy.match: abTesting needs at least one header or cookie rule",
    ),
    (
        _ab([]),
        "spec.strategy.match: abTesting needs at least one header or cookie rule",
    ),
    (_ab("x-canary"), "spec.strategy.match: must be a list, got 'x-canary'"),
    (
        _ab([_header(f"x-h{i}") for i in range(17)]),
        "spec.strategy.match: must have at most 16 items, got 17",
    ),
    (
        {"strategy.match": [_header("x-canary")]},
        "spec.strategy.match: only applies to abTesting, not canary",
    ),
    # spec.strategy.match[i]: each rule
    (_ab(["x-canary"]), "spec.strategy.match[0]: must be an object, got 'x-canary'"),
    (
        _ab([_header("x-a"), 7]),
        "spec.strategy.match[1]: must be an object, got 7",
    ),
    (
        _ab([{"name": "x-canary", "value": "1"}]),
        "spec.strategy.match[0].type: is required",
    ),
    (
        _ab([{"type": "query", "name": "x-canary", "value": "1"}]),
        "spec.strategy.match[0].type: must be one of header, cookie, got 'query'",
    ),
    (
        _ab([{"type": "header", "name": "x-canary"}]),
        "spec.strategy.match[0].value: is required",
    ),
    (
        _ab([{"type": "cookie", "name": "cohort", "value": None}]),
        "spec.strategy.match[0].value: is required",
    ),
    (
        _ab([_header("x canary")]),
        "spec.strategy.match[0].name: must be a header or cookie name, got 'x canary'",
    ),
    (
        _ab([_header(LONGEST_NAME + "a")]),
        f"spec.strategy.match[0].name: must be a header or cookie name, got '{'a' * 254}'",
    ),
    # spec.analysis.stepWeights: the list
    (_weights([]), "spec.analysis.stepWeights: must be a non-empty list of weights, got []"),
    (_weights("10"), "spec.analysis.stepWeights: must be a non-empty list of weights, got '10'"),
    (_weights(10), "spec.analysis.stepWeights: must be a non-empty list of weights, got 10"),
    (
        _weights({"a": 10}),
        "spec.analysis.stepWeights: must be a non-empty list of weights, got {'a': 10}",
    ),
    # spec.analysis.stepWeights[i]: each weight, 1..100, an integer, not a bool
    (_weights([0]), "spec.analysis.stepWeights[0]: must be an integer between 1 and 100, got 0"),
    (
        _weights([10, 101]),
        "spec.analysis.stepWeights[1]: must be an integer between 1 and 100, got 101",
    ),
    (
        _weights([101]),
        "spec.analysis.stepWeights[0]: must be an integer between 1 and 100, got 101",
    ),
    (
        _weights([True]),
        "spec.analysis.stepWeights[0]: must be an integer between 1 and 100, got True",
    ),
    (
        _weights([10, 20.5]),
        "spec.analysis.stepWeights[1]: must be an integer between 1 and 100, got 20.5",
    ),
    (
        _weights([10.0, 10]),
        "spec.analysis.stepWeights[1]: must be greater than the previous step 10",
    ),
]


@pytest.mark.parametrize(("edits", "message"), REFUSED)
def test_refused_with_the_whole_message(edits: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(with_(edits))
    assert str(caught.value) == message
    path, reason = message.split(": ", 1)
    assert (caught.value.path, caught.value.reason) == (path, reason)


@pytest.mark.parametrize(
    ("weights", "parsed"),
    [
        ([1], (1,)),
        ([100], (100,)),
        ([1, 100], (1, 100)),
        ([10.0, 50], (10, 50)),
        ([5, 99.0, 100.0], (5, 99, 100)),
    ],
)
def test_step_weights_accept_1_to_100_and_whole_floats(
    weights: list[Any], parsed: tuple[int, ...]
) -> None:
    analysis = parse_spec(with_(_weights(weights))).analysis
    assert analysis.step_weights == parsed
    assert all(type(w) is int for w in analysis.step_weights)
    assert analysis.max_weight == parsed[-1]


def test_no_step_weights_is_an_empty_tuple() -> None:
    assert parse_spec(with_({})).analysis.step_weights == ()


def test_a_scrape_provider_keeps_its_name_settings_and_labels() -> None:
    spec = parse_spec(
        with_(
            {
                "metricsProvider": {
                    "name": "scrape",
                    "targets": {"router": ["http://router:8080/metrics"]},
                    "address": None,
                    "labels": {"namespace": "ml", "team": ""},
                }
            }
        )
    )
    provider = spec.metrics_provider
    assert provider.name is MetricsProviderName.SCRAPE
    assert provider.settings == {"targets": {"router": ["http://router:8080/metrics"]}}
    assert provider.labels == {"namespace": "ml", "team": ""}


def test_ab_testing_accepts_16_rules_and_a_253_character_name() -> None:
    rules = [_header(LONGEST_NAME, "yes")] + [
        {"type": "cookie", "name": f"c{i}", "value": f"v{i}"} for i in range(15)
    ]
    strategy = parse_spec(with_(_ab(rules))).strategy
    assert strategy.type is StrategyType.AB_TESTING
    assert len(strategy.match) == 16
    first = strategy.match[0]
    assert (first.type, first.name, first.value) == (MatchType.HEADER, LONGEST_NAME, "yes")
    last = strategy.match[-1]
    assert (last.type, last.name, last.value) == (MatchType.COOKIE, "c14", "v14")
