"""Judging one analysis: each check's measurement against its named limits (pure).

Argo Rollouts style: the verdict is a pure function of the measurements, and every
verdict carries a message naming the limit, e.g. ``latency-p99 1.84 s > max 0.50 s``.
No data is ``inconclusive``, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from canaria.contracts.checks import BUILTIN_CHECKS, Unit
from monitoring.api.spec import Check, ThresholdMode
from monitoring.api.status import AnalysisRecord, CheckResult, Verdict


@dataclass(frozen=True)
class Measurement:
    """What the metrics provider returned for one check: ``None`` means no data.

    ``stable`` is needed for ``relative`` checks; for ``absolute`` ones it is kept as
    evidence when given.
    """

    canary: float | None
    stable: float | None = None


NO_DATA = Measurement(canary=None, stable=None)


def evaluate_check(check: Check, measurement: Measurement) -> CheckResult:
    """Judge one check (pure): pass, fail (a limit is crossed) or inconclusive (no data)."""
    unit = BUILTIN_CHECKS[check.builtin].unit if check.builtin else Unit.NONE
    value = _clean(measurement.canary)
    stable = _clean(measurement.stable)
    relative = check.comparison is ThresholdMode.RELATIVE

    def result(verdict: Verdict, compared: float | None, message: str) -> CheckResult:
        return CheckResult(
            name=check.name,
            verdict=verdict,
            value=value,
            stable_value=stable,
            compared=compared,
            min=check.min,
            max=check.max,
            comparison=check.comparison,
            unit=unit.value,
            message=message,
        )

    missing = [v for v, x in (("canary", value), ("stable", stable)) if x is None]
    if value is None or (relative and stable is None):
        needed = missing if relative else ["canary"]
        return result(Verdict.INCONCLUSIVE, None, f"{check.name}: no data ({', '.join(needed)})")
    if relative:
        if stable is None:  # the missing-data check above returned already
            raise RuntimeError(f"{check.name}: relative check without a stable value")
        compared = _ratio(value, stable)
        shown = (
            f"{format_value(value, unit)} = {_times(compared)} stable {format_value(stable, unit)}"
        )
    else:
        compared = value
        shown = format_value(value, unit)

    def limit(bound: float) -> str:
        return _times(bound) if relative else format_value(bound, unit)

    if check.min is not None and compared < check.min:
        return result(Verdict.FAIL, compared, f"{check.name} {shown} < min {limit(check.min)}")
    if check.max is not None and compared > check.max:
        return result(Verdict.FAIL, compared, f"{check.name} {shown} > max {limit(check.max)}")
    bounds = []
    if check.min is not None:
        bounds.append(f">= min {limit(check.min)}")
    if check.max is not None:
        bounds.append(f"<= max {limit(check.max)}")
    return result(Verdict.PASS, compared, f"{check.name} {shown} {' and '.join(bounds)}")


def evaluate_analysis(
    checks: Sequence[Check], measurements: Mapping[str, Measurement], *, now: datetime
) -> AnalysisRecord:
    """Judge every check (pure). A check missing from ``measurements`` has no data.

    The analysis fails when any check fails, is inconclusive when none fails but one
    has no data, and passes only when every check passes. The message lists the
    failing (or, failing none, the inconclusive) checks' messages.
    """
    results = tuple(evaluate_check(c, measurements.get(c.name, NO_DATA)) for c in checks)
    failed = [r.message for r in results if r.verdict is Verdict.FAIL]
    unknown = [r.message for r in results if r.verdict is Verdict.INCONCLUSIVE]
    if failed:
        verdict, message = Verdict.FAIL, "; ".join(failed)
    elif unknown:
        verdict, message = Verdict.INCONCLUSIVE, "; ".join(unknown)
    else:
        verdict, message = Verdict.PASS, f"all {len(results)} checks passed"
    return AnalysisRecord(time=now, verdict=verdict, checks=results, message=message)


def format_value(value: float, unit: Unit) -> str:
    """``1.84 s``, ``0.9912``, ``250 tokens/s`` (pure)."""
    if math.isinf(value) or math.isnan(value):
        text = str(value)
    elif abs(value) >= 100:
        text = f"{value:.0f}" if value.is_integer() else f"{value:.1f}"
    else:
        text = f"{value:.2f}"
        # More digits only where two decimals would hide a real difference (0.9912 vs
        # min 0.99), not float noise (0.44 / 0.4 = 1.0999999).
        if abs(float(text) - value) > abs(value) * 1e-3:
            text = f"{value:.4g}"
    suffix = "" if unit in (Unit.NONE, Unit.RATIO) else f" {unit.value}"
    return text + suffix


def _times(ratio: float) -> str:
    return format_value(ratio, Unit.NONE) + "×"


def _ratio(canary: float, stable: float) -> float:
    if stable == 0:
        # Both zero (e.g. no errors on either side) is "the same"; otherwise unbounded.
        return 1.0 if canary == 0 else math.copysign(math.inf, canary)
    return canary / stable


def _clean(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
