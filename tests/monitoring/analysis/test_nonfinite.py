"""No number that is not finite can pass a check: every check kind (built-in or custom,
absolute or relative) with NaN, ±Inf, zero, negative and ordinary inputs."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from canaria.contracts.checks import BuiltinCheck
from monitoring.analysis import Measurement, evaluate_analysis, evaluate_check
from monitoring.api.spec import Check, ThresholdMode
from monitoring.api.status import Verdict
from tests.hypothesis_budget import examples

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, -1e-300, 1e-300, 1e308, -1e308]
numbers = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=10),
)
measured = st.one_of(st.none(), numbers)
thresholds = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6))


@st.composite
def checks(draw: st.DrawFn) -> Check:
    builtin = draw(st.one_of(st.none(), st.sampled_from(list(BuiltinCheck))))
    low, high = draw(thresholds), draw(thresholds)
    if low is None and high is None:
        high = draw(st.floats(min_value=-1e6, max_value=1e6))
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Check(
        name="c",
        builtin=builtin,
        query=None if builtin else "vector(1) / vector(0)",
        min=low,
        max=high,
        comparison=draw(st.sampled_from(list(ThresholdMode))),
    )


def usable(check: Check, canary: float | None, stable: float | None) -> bool:
    """Whether a check has finite, meaningful inputs (the property's oracle)."""
    relative = check.comparison is ThresholdMode.RELATIVE
    sides = [canary, stable] if relative else [canary]
    if any(x is None or not math.isfinite(x) for x in sides):
        return False
    if (relative or check.builtin is not None) and any(x is not None and x < 0 for x in sides):
        return False
    if relative:
        assert canary is not None and stable is not None
        if stable == 0:
            return canary == 0
        return math.isfinite(canary / stable)
    return True


@settings(max_examples=examples(600), deadline=None, derandomize=True)
@given(check=checks(), canary=measured, stable=measured)
def test_a_check_passes_or_fails_only_on_finite_meaningful_numbers(
    check: Check, canary: float | None, stable: float | None
) -> None:
    result = evaluate_check(check, Measurement(canary=canary, stable=stable))
    if result.verdict is Verdict.INCONCLUSIVE:
        assert not usable(check, canary, stable), result.message
        assert result.compared is None
        return
    assert usable(check, canary, stable), result.message
    assert result.compared is not None and math.isfinite(result.compared)
    inside = (check.min is None or result.compared >= check.min) and (
        check.max is None or result.compared <= check.max
    )
    assert (result.verdict is Verdict.PASS) == inside, result.message


@settings(max_examples=examples(200), deadline=None, derandomize=True)
@given(
    checks_and_values=st.lists(
        st.tuples(checks(), measured, measured), min_size=1, max_size=4, unique_by=lambda t: id(t)
    )
)
def test_an_analysis_with_any_non_finite_input_never_passes(
    checks_and_values: list[tuple[Check, float | None, float | None]],
) -> None:
    named = [
        (Check(**{**c.__dict__, "name": f"c{i}"}), canary, stable)
        for i, (c, canary, stable) in enumerate(checks_and_values)
    ]
    record = evaluate_analysis(
        [c for c, _, _ in named],
        {c.name: Measurement(canary, stable) for c, canary, stable in named},
        now=T0,
    )
    if any(not usable(c, canary, stable) for c, canary, stable in named):
        assert record.verdict is not Verdict.PASS, record.message


def test_the_reported_example_is_inconclusive() -> None:
    """``vector(1) / vector(0)`` is +Inf for both variants: inf ÷ inf was NaN, which
    compared with nothing, and passed."""
    check = Check(
        name="ratio", query="vector(1) / vector(0)", max=1.2, comparison=ThresholdMode.RELATIVE
    )
    result = evaluate_check(check, Measurement(canary=math.inf, stable=math.inf))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.message == "ratio: canary value inf is not a finite number"
