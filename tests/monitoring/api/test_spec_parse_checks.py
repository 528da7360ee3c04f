"""``spec.analysis`` and its ``checks`` through ``parse_spec``: every message of
``_parse_analysis``, ``_parse_checks`` and ``_parse_check`` in full (path and reason), each
limit at the largest value accepted and one step past, the defaults, and the fields copied
into the result (expected values written out by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from canaria.contracts.checks import BuiltinCheck
from monitoring.api.spec import SpecError, ThresholdMode, parse_spec
from tests.monitoring.api.spec_builders import minimal, with_

CHECK = "spec.analysis.checks[0]"
NAME_63 = "a" * 63
QUERY = 'sum(rate(router_requests_total{variant="{{ variant }}"}[{{ window }}]))'


def _checks(count: int) -> list[dict[str, Any]]:
    """``count`` valid checks named c0, c1, ..."""
    return [{"name": f"c{i}", "builtin": "latencyP99", "max": 0.5} for i in range(count)]


def _query_check(query: Any) -> dict[str, Any]:
    return {"name": "custom", "query": query, "max": 1}


REFUSED = [
    # _parse_analysis
    pytest.param(
        {"analysis.interval": 5}, "spec.analysis.interval: must be a string, got 5", id="interval"
    ),
    pytest.param(
        {"analysis.stepWeight": 101, "analysis.maxWeight": 100},
        "spec.analysis.stepWeight: must be between 1 and 100, got 101",
        id="stepWeight-101",
    ),
    pytest.param(
        {"analysis.stepWeights": [10, 20]},
        "spec.analysis.stepWeights: give stepWeight or stepWeights, not both",
        id="stepWeight-and-stepWeights",
    ),
    pytest.param(
        {"analysis.maxWeight": "x"},
        "spec.analysis.maxWeight: must be an integer, got 'x'",
        id="maxWeight-type",
    ),
    pytest.param(
        {"analysis.maxWeight": 101},
        "spec.analysis.maxWeight: must be between 1 and 100, got 101",
        id="maxWeight-101",
    ),
    pytest.param(
        {"analysis.stepWeight": None},
        "spec.analysis.stepWeight: canary needs stepWeight or stepWeights",
        id="canary-without-steps",
    ),
    pytest.param(
        {"analysis.iterations": "x"},
        "spec.analysis.iterations: must be an integer, got 'x'",
        id="iterations-type",
    ),
    pytest.param(
        {"analysis.iterations": 1001},
        "spec.analysis.iterations: must be between 1 and 1000, got 1001",
        id="iterations-1001",
    ),
    pytest.param(
        {"analysis.iterations": 0},
        "spec.analysis.iterations: must be between 1 and 1000, got 0",
        id="iterations-0",
    ),
    pytest.param(
        {"analysis.failureLimit": "x"},
        "spec.analysis.failureLimit: must be an integer, got 'x'",
        id="failureLimit-type",
    ),
    pytest.param(
        {"analysis.failureLimit": 101},
        "spec.analysis.failureLimit: must be between 0 and 100, got 101",
        id="failureLimit-101",
    ),
    pytest.param(
        {"analysis.failureLimit": -1},
        "spec.analysis.failureLimit: must be between 0 and 100, got -1",
        id="failureLimit-minus-1",
    ),
    pytest.param(
        {"analysis.inconclusiveLimit": "x"},
        "spec.analysis.inconclusiveLimit: must be an integer, got 'x'",
        id="inconclusiveLimit-type",
    ),
    pytest.param(
        {"analysis.inconclusiveLimit": 101},
        "spec.analysis.inconclusiveLimit: must be between 0 and 100, got 101",
        id="inconclusiveLimit-101",
    ),
    pytest.param(
        {"analysis.inconclusiveLimit": -1},
        "spec.analysis.inconclusiveLimit: must be between 0 and 100, got -1",
        id="inconclusiveLimit-minus-1",
    ),
    # _parse_checks
    pytest.param(
        {"analysis.checks": None},
        "spec.analysis.checks: needs at least one check",
        id="checks-missing",
    ),
    pytest.param(
        {"analysis.checks": []}, "spec.analysis.checks: needs at least one check", id="checks-empty"
    ),
    pytest.param(
        {"analysis.checks": "latency"},
        "spec.analysis.checks: needs at least one check",
        id="checks-string",
    ),
    pytest.param(
        {"analysis.checks": {"name": "latency"}},
        "spec.analysis.checks: needs at least one check",
        id="checks-object",
    ),
    pytest.param(
        {"analysis.checks": _checks(33)},
        "spec.analysis.checks: must have at most 32 items, got 33",
        id="checks-33",
    ),
    # _parse_check
    pytest.param({"analysis.checks.0.name": None}, f"{CHECK}.name: is required", id="name-missing"),
    pytest.param(
        {"analysis.checks.0.name": 5}, f"{CHECK}.name: must be a string, got 5", id="name-type"
    ),
    pytest.param(
        {"analysis.checks.0.name": "Latency"},
        f"{CHECK}.name: must be lower-case letters, digits and '-', got 'Latency'",
        id="name-upper-case",
    ),
    pytest.param(
        {"analysis.checks.0.name": NAME_63 + "a"},
        f"{CHECK}.name: must be lower-case letters, digits and '-', got '{NAME_63}a'",
        id="name-64",
    ),
    pytest.param(
        {"analysis.checks.0.builtin": "nope"},
        f"{CHECK}.builtin: must be one of requestSuccessRate, latencyP99, shadowAgreement, "
        "driftShare, llmTtftP95, llmTokensPerSecond, got 'nope'",
        id="builtin-unknown",
    ),
    pytest.param(
        {"analysis.checks.0": _query_check(5)},
        f"{CHECK}.query: must be a string, got 5",
        id="query-type",
    ),
    pytest.param(
        {"analysis.checks.0.query": QUERY},
        f"{CHECK}: needs exactly one of builtin or query",
        id="builtin-and-query",
    ),
    pytest.param(
        {"analysis.checks.0.builtin": None},
        f"{CHECK}: needs exactly one of builtin or query",
        id="neither-builtin-nor-query",
    ),
    pytest.param(
        {"analysis.checks.0": _query_check("")},
        f"{CHECK}.query: must not be empty",
        id="query-empty",
    ),
    pytest.param(
        {"analysis.checks.0": _query_check("q" * 4097)},
        f"{CHECK}.query: must be at most 4096 characters, got 4097",
        id="query-4097",
    ),
    pytest.param(
        {"analysis.checks.0.min": "x"}, f"{CHECK}.min: must be a number, got 'x'", id="min-type"
    ),
    pytest.param(
        {"analysis.checks.0.max": None},
        f"{CHECK}: needs a min or a max threshold",
        id="no-threshold",
    ),
    pytest.param(
        {"analysis.checks.0.min": 0.6}, f"{CHECK}.max: 0.5 < min (0.6)", id="min-above-max"
    ),
    pytest.param(
        {"analysis.checks.0.window": 5}, f"{CHECK}.window: must be a string, got 5", id="window"
    ),
    pytest.param(
        {"analysis.checks.0.comparison": "ratio"},
        f"{CHECK}.comparison: must be one of absolute, relative, got 'ratio'",
        id="comparison",
    ),
]


@pytest.mark.parametrize(("edits", "message"), REFUSED)
def test_a_bad_analysis_or_check_is_refused_with_its_whole_message(
    edits: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(with_(edits))
    assert str(caught.value) == message


def test_the_largest_limits_are_accepted() -> None:
    analysis = parse_spec(
        with_(
            {
                "analysis.stepWeight": 100,
                "analysis.maxWeight": 100,
                "analysis.iterations": 1000,
                "analysis.failureLimit": 100,
                "analysis.inconclusiveLimit": 100,
                "analysis.checks": _checks(32),
            }
        )
    ).analysis
    assert (analysis.step_weight, analysis.max_weight, analysis.iterations) == (100, 100, 1000)
    assert (analysis.failure_limit, analysis.inconclusive_limit) == (100, 100)
    assert [check.name for check in analysis.checks] == [f"c{i}" for i in range(32)]


def test_the_smallest_limits_are_accepted() -> None:
    analysis = parse_spec(
        with_(
            {
                "analysis.stepWeight": 1,
                "analysis.maxWeight": 1,
                "analysis.iterations": 1,
                "analysis.failureLimit": 0,
                "analysis.inconclusiveLimit": 0,
            }
        )
    ).analysis
    assert (analysis.step_weight, analysis.max_weight, analysis.iterations) == (1, 1, 1)
    assert (analysis.failure_limit, analysis.inconclusive_limit) == (0, 0)


def test_analysis_defaults() -> None:
    analysis = parse_spec(minimal()).analysis
    assert analysis.interval_seconds == 60.0
    assert analysis.step_weight == 10
    assert analysis.step_weights == ()
    assert analysis.iterations == 5
    assert analysis.manual_gate is False
    assert analysis.fast_abort is None


def test_without_max_weight_the_last_step_weight_is_the_max() -> None:
    analysis = parse_spec(
        with_({"analysis.stepWeight": None, "analysis.stepWeights": [10, 30]})
    ).analysis
    assert analysis.step_weights == (10, 30)
    assert analysis.max_weight == 30
    # above the default maxWeight (50): still accepted, the last step is the max
    high = parse_spec(with_({"analysis.stepWeight": None, "analysis.stepWeights": [10, 60]}))
    assert high.analysis.max_weight == 60


def test_a_check_name_of_63_characters_is_accepted() -> None:
    (check,) = parse_spec(with_({"analysis.checks.0.name": NAME_63})).analysis.checks
    assert check.name == NAME_63


def test_a_query_check_keeps_its_query_and_the_custom_window() -> None:
    (check,) = parse_spec(with_({"analysis.checks.0": _query_check(QUERY)})).analysis.checks
    assert check.name == "custom"
    assert check.builtin is None
    assert check.query == QUERY
    assert (check.min, check.max) == (None, 1.0)
    assert check.comparison is ThresholdMode.ABSOLUTE
    assert check.window_seconds == 60.0


def test_a_query_of_4096_characters_is_accepted() -> None:
    query = "q" * 4096
    (check,) = parse_spec(with_({"analysis.checks.0": _query_check(query)})).analysis.checks
    assert check.query == query


def test_min_equal_to_max_is_accepted() -> None:
    (check,) = parse_spec(with_({"analysis.checks.0.min": 0.5})).analysis.checks
    assert (check.min, check.max) == (0.5, 0.5)


@pytest.mark.parametrize(
    ("builtin", "window"),
    [
        ("shadowAgreement", 300.0),
        ("driftShare", 300.0),
        ("requestSuccessRate", 60.0),
        ("llmTtftP95", 60.0),
    ],
)
def test_a_builtin_check_without_window_gets_its_own_default(builtin: str, window: float) -> None:
    (check,) = parse_spec(with_({"analysis.checks.0.builtin": builtin})).analysis.checks
    assert check.builtin is BuiltinCheck(builtin)
    assert check.window_seconds == window


def test_a_check_copies_its_fields() -> None:
    edits = {
        "analysis.checks.0": {
            "name": "success",
            "builtin": "requestSuccessRate",
            "min": 0.9,
            "max": 1,
            "comparison": "relative",
            "window": "2m",
        }
    }
    (check,) = parse_spec(with_(edits)).analysis.checks
    assert check.name == "success"
    assert check.builtin is BuiltinCheck.REQUEST_SUCCESS_RATE
    assert check.query is None
    assert (check.min, check.max) == (0.9, 1.0)
    assert check.comparison is ThresholdMode.RELATIVE
    assert check.window_seconds == 120.0
