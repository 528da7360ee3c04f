"""Edges of the verdict messages: which side is negative, a canary of 0 against a
non-zero stable, how several checks' messages are joined, and values at 100 and ±Inf
(``monitoring.analysis.verdicts``). Every expected text is written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canaria.contracts.checks import BuiltinCheck, Unit
from monitoring.analysis import Measurement, evaluate_analysis, evaluate_check, format_value
from monitoring.api.spec import Check, ThresholdMode
from monitoring.api.status import Verdict

T0 = datetime(2025, 1, 1, tzinfo=UTC)
RELATIVE = ThresholdMode.RELATIVE


def test_a_canary_of_0_against_a_non_zero_stable_is_a_ratio_of_0() -> None:
    check = Check(
        name="latency-p99", builtin=BuiltinCheck.LATENCY_P99, min=0.5, comparison=RELATIVE
    )
    result = evaluate_check(check, Measurement(0.0, 0.4))
    assert (result.verdict, result.compared) == (Verdict.FAIL, 0.0)
    assert result.message == "latency-p99 0.00 s = 0.00× stable 0.40 s < min 0.50×"


@pytest.mark.parametrize(
    ("check", "measurement", "message"),
    [
        (
            Check(
                name="latency-p99", builtin=BuiltinCheck.LATENCY_P99, max=1.2, comparison=RELATIVE
            ),
            Measurement(0.4, -0.2),
            "latency-p99: stable value -0.2 is negative, which a built-in check cannot compare",
        ),
        (
            Check(name="errors", query="sum(x)", max=1.2, comparison=RELATIVE),
            Measurement(3.0, -2.0),
            "errors: stable value -2 is negative, which a relative check cannot compare",
        ),
        (
            Check(name="errors", query="sum(x)", max=1.2, comparison=RELATIVE),
            Measurement(3.0, float("-inf")),
            "errors: stable value -inf is not a finite number",
        ),
    ],
)
def test_a_negative_or_infinite_stable_is_named_with_the_kind_of_check(
    check: Check, measurement: Measurement, message: str
) -> None:
    result = evaluate_check(check, measurement)
    assert (result.verdict, result.message) == (Verdict.INCONCLUSIVE, message)


def test_the_messages_of_several_failing_checks_are_joined_with_semicolons() -> None:
    checks = [
        Check(name="a", query="sum(a)", max=1),
        Check(name="b", query="sum(b)", max=1),
        Check(name="c", query="sum(c)", max=1),
    ]
    measurements = {"a": Measurement(2.0), "b": Measurement(3.0)}
    record = evaluate_analysis(checks, measurements, now=T0)
    assert record.verdict is Verdict.FAIL
    assert record.message == "a 2.00 > max 1.00; b 3.00 > max 1.00"


def test_the_messages_of_several_inconclusive_checks_are_joined_with_semicolons() -> None:
    checks = [Check(name="a", query="sum(a)", max=1), Check(name="b", query="sum(b)", max=1)]
    record = evaluate_analysis(checks, {}, now=T0)
    assert record.verdict is Verdict.INCONCLUSIVE
    assert record.message == "a: no data (canary); b: no data (canary)"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (100.0, Unit.NONE, "100"),
        (-100.0, Unit.NONE, "-100"),
        (100.5, Unit.TOKENS_PER_SECOND, "100.5 tokens/s"),
        (99.5, Unit.NONE, "99.50"),
        (float("inf"), Unit.SECONDS, "inf s"),
        (float("-inf"), Unit.NONE, "-inf"),
        (float("nan"), Unit.RATIO, "nan"),
    ],
)
def test_format_value_at_100_and_for_non_finite_numbers(
    value: float, unit: Unit, text: str
) -> None:
    assert format_value(value, unit) == text
