"""Every verdict limit at its boundary, from both sides: a canary measured exactly at
``min`` or ``max`` passes, one representable step past it fails, with the reason.

Values are binary fractions (0.5, 0.75, 0.25) so that relative ratios are exact: the
expectations are reasoned by hand, not computed by the code under test.
"""

from __future__ import annotations

import math

import pytest

from canaria.contracts.checks import BuiltinCheck
from monitoring.analysis import Measurement, evaluate_check
from monitoring.api.spec import Check, ThresholdMode
from monitoring.api.status import Verdict

UP = math.inf
DOWN = -math.inf


def success(**fields: object) -> Check:
    return Check(name="success-rate", builtin=BuiltinCheck.REQUEST_SUCCESS_RATE, **fields)


def latency(**fields: object) -> Check:
    return Check(name="latency-p99", builtin=BuiltinCheck.LATENCY_P99, **fields)


RELATIVE = {"comparison": ThresholdMode.RELATIVE}


@pytest.mark.parametrize(
    ("check", "measurement", "verdict", "reason"),
    [
        # absolute min: at min passes, one step below fails
        (success(min=1.0), Measurement(1.0), Verdict.PASS, ">= min"),
        (success(min=1.0), Measurement(math.nextafter(1.0, DOWN)), Verdict.FAIL, "< min"),
        (success(min=0.5), Measurement(0.5), Verdict.PASS, ">= min"),
        (success(min=0.5), Measurement(math.nextafter(0.5, DOWN)), Verdict.FAIL, "< min"),
        # absolute max: at max passes, one step above fails
        (latency(max=0.5), Measurement(0.5), Verdict.PASS, "<= max"),
        (latency(max=0.5), Measurement(math.nextafter(0.5, UP)), Verdict.FAIL, "> max"),
        # relative max: canary 0.75 / stable 0.5 = 1.5 exactly
        (latency(max=1.5, **RELATIVE), Measurement(0.75, 0.5), Verdict.PASS, "<= max"),
        (
            latency(max=1.5, **RELATIVE),
            Measurement(math.nextafter(0.75, UP), 0.5),
            Verdict.FAIL,
            "> max",
        ),
        # relative min: canary 0.25 / stable 0.5 = 0.5 exactly
        (success(min=0.5, **RELATIVE), Measurement(0.25, 0.5), Verdict.PASS, ">= min"),
        (
            success(min=0.5, **RELATIVE),
            Measurement(math.nextafter(0.25, DOWN), 0.5),
            Verdict.FAIL,
            "< min",
        ),
        # both bounds at once: each edge is inside
        (latency(min=0.25, max=0.5), Measurement(0.25), Verdict.PASS, ">= min"),
        (latency(min=0.25, max=0.5), Measurement(0.5), Verdict.PASS, "<= max"),
    ],
)
def test_a_limit_is_inside_and_one_step_past_it_is_outside(
    check: Check, measurement: Measurement, verdict: Verdict, reason: str
) -> None:
    result = evaluate_check(check, measurement)
    assert result.verdict is verdict, result.message
    assert reason in result.message


def test_relative_both_zero_is_the_same_and_passes_a_max_of_one() -> None:
    # No errors on either side: 0 / 0 reads as "the same" (ratio 1), at max 1.0 exactly.
    result = evaluate_check(success(max=1.0, **RELATIVE), Measurement(0.0, 0.0))
    assert result.verdict is Verdict.PASS, result.message
