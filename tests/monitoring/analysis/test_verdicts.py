"""Judging one analysis: each check against its named limits, and the messages it writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from canaria.contracts.checks import BuiltinCheck, Unit
from monitoring.analysis import Measurement, evaluate_analysis, evaluate_check, format_value
from monitoring.api.spec import Check, ThresholdMode
from monitoring.api.status import Verdict

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def latency(**fields: Any) -> Check:
    return Check(name="latency-p99", builtin=BuiltinCheck.LATENCY_P99, **fields)


@pytest.mark.parametrize(
    ("check", "measurement", "verdict", "message"),
    [
        (latency(max=0.5), Measurement(1.84), Verdict.FAIL, "latency-p99 1.84 s > max 0.50 s"),
        (latency(max=0.5), Measurement(0.5), Verdict.PASS, "latency-p99 0.50 s <= max 0.50 s"),
        (
            latency(min=0.01, max=0.5),
            Measurement(0.001),
            Verdict.FAIL,
            "latency-p99 0.001 s < min 0.01 s",
        ),
        (
            latency(min=0.01, max=0.5),
            Measurement(0.2),
            Verdict.PASS,
            "latency-p99 0.20 s >= min 0.01 s and <= max 0.50 s",
        ),
        (
            latency(max=0.5),
            Measurement(None, 0.2),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (canary)",
        ),
        (
            latency(max=0.5),
            Measurement(float("nan")),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (canary)",
        ),
        (
            latency(max=0.5),
            Measurement(float("inf")),
            Verdict.FAIL,
            "latency-p99 inf s > max 0.50 s",
        ),
        (
            latency(max=1.2, comparison=ThresholdMode.RELATIVE),
            Measurement(0.6, 0.4),
            Verdict.FAIL,
            "latency-p99 0.60 s = 1.50× stable 0.40 s > max 1.20×",
        ),
        (
            latency(max=1.2, comparison=ThresholdMode.RELATIVE),
            Measurement(0.44, 0.4),
            Verdict.PASS,
            "latency-p99 0.44 s = 1.10× stable 0.40 s <= max 1.20×",
        ),
        (
            latency(max=1.2, comparison=ThresholdMode.RELATIVE),
            Measurement(0.44),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (stable)",
        ),
        (
            latency(max=1.2, comparison=ThresholdMode.RELATIVE),
            Measurement(None, None),
            Verdict.INCONCLUSIVE,
            "latency-p99: no data (canary, stable)",
        ),
        (
            latency(max=1.2, comparison=ThresholdMode.RELATIVE),
            Measurement(0.0, 0.0),
            Verdict.PASS,
            "latency-p99 0.00 s = 1.00× stable 0.00 s <= max 1.20×",
        ),
        (
            latency(max=1.2, comparison=ThresholdMode.RELATIVE),
            Measurement(0.1, 0.0),
            Verdict.FAIL,
            "latency-p99 0.10 s = inf× stable 0.00 s > max 1.20×",
        ),
        (
            Check(name="success", builtin=BuiltinCheck.REQUEST_SUCCESS_RATE, min=0.99),
            Measurement(0.9912),
            Verdict.PASS,
            "success 0.9912 >= min 0.99",
        ),
        (
            Check(name="tps", builtin=BuiltinCheck.LLM_TOKENS_PER_SECOND, min=10),
            Measurement(250.0),
            Verdict.PASS,
            "tps 250 tokens/s >= min 10.00 tokens/s",
        ),
        (
            Check(name="errors", query="sum(x)", max=3),
            Measurement(7.0),
            Verdict.FAIL,
            "errors 7.00 > max 3.00",
        ),
    ],
)
def test_evaluate_check(
    check: Check, measurement: Measurement, verdict: Verdict, message: str
) -> None:
    result = evaluate_check(check, measurement)
    assert (result.verdict, result.message) == (verdict, message)
    assert (result.min, result.max, result.comparison) == (check.min, check.max, check.comparison)


def test_evaluate_check_keeps_the_evidence() -> None:
    result = evaluate_check(
        latency(max=1.2, comparison=ThresholdMode.RELATIVE), Measurement(0.6, 0.4)
    )
    assert (result.value, result.stable_value, result.unit) == (0.6, 0.4, "s")
    assert result.compared == pytest.approx(1.5)


def test_an_unmeasured_check_is_inconclusive() -> None:
    record = evaluate_analysis([latency(max=0.5)], {}, now=T0)
    assert (record.verdict, record.message, record.time) == (
        Verdict.INCONCLUSIVE,
        "latency-p99: no data (canary)",
        T0,
    )


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.84, Unit.SECONDS, "1.84 s"),
        (0.5, Unit.SECONDS, "0.50 s"),
        (0.9912, Unit.RATIO, "0.9912"),
        (1.8432, Unit.SECONDS, "1.843 s"),
        (250.0, Unit.TOKENS_PER_SECOND, "250 tokens/s"),
        (250.25, Unit.NONE, "250.2"),
        (0.000123, Unit.SECONDS, "0.000123 s"),
    ],
)
def test_format_value(value: float, unit: Unit, text: str) -> None:
    assert format_value(value, unit) == text
