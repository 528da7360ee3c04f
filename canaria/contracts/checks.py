"""The built-in analysis checks: their names, units, direction and defaults (one source).

A ModelRollout check is either built in (``builtin: latencyP99``) or a custom PromQL
``query``. The enum values below are the names users write in the CRD, the keys of the
PromQL templates in the metrics providers, and the ``check`` of a ``MetricQuery``
(``CUSTOM_CHECK`` for a user query). Do not rename them: they are part of the CRD.

Units are fixed so thresholds mean the same everywhere: ratios are 0-1 (not percent),
durations are seconds, throughput is tokens per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

CUSTOM_CHECK = "custom"
"""``MetricQuery.check`` for a user's PromQL query (``query:`` in the spec)."""


class BuiltinCheck(StrEnum):
    """A check canaria knows how to measure for the stable and the canary variant."""

    REQUEST_SUCCESS_RATE = "requestSuccessRate"
    LATENCY_P99 = "latencyP99"
    SHADOW_AGREEMENT = "shadowAgreement"
    DRIFT_SHARE = "driftShare"
    LLM_TTFT_P95 = "llmTtftP95"
    LLM_TOKENS_PER_SECOND = "llmTokensPerSecond"


class Direction(StrEnum):
    """Which way is better, so a threshold on the wrong side can be flagged and explained."""

    HIGHER_IS_BETTER = "higherIsBetter"
    LOWER_IS_BETTER = "lowerIsBetter"


class Unit(StrEnum):
    """What a check's value measures; used to print values as "1.84 s" in messages."""

    RATIO = "ratio"
    SECONDS = "s"
    TOKENS_PER_SECOND = "tokens/s"
    NONE = ""


@dataclass(frozen=True)
class CheckInfo:
    """What a built-in check measures, and sensible settings for it.

    Every check in a spec states its own ``min`` and/or ``max`` (the CRD requires one);
    ``recommended_min``/``recommended_max`` are what the examples and docs suggest, on the
    side given by ``direction``. ``default_window_seconds`` is the range the metrics
    provider aggregates over when the check gives no ``window``.
    """

    check: BuiltinCheck
    unit: Unit
    direction: Direction
    recommended_min: float | None
    recommended_max: float | None
    default_window_seconds: float
    description: str


BUILTIN_CHECKS: Mapping[BuiltinCheck, CheckInfo] = MappingProxyType(
    {
        BuiltinCheck.REQUEST_SUCCESS_RATE: CheckInfo(
            check=BuiltinCheck.REQUEST_SUCCESS_RATE,
            unit=Unit.RATIO,
            direction=Direction.HIGHER_IS_BETTER,
            recommended_min=0.99,
            recommended_max=None,
            default_window_seconds=60.0,
            description="share of requests answered without a 5xx or upstream error (0-1)",
        ),
        BuiltinCheck.LATENCY_P99: CheckInfo(
            check=BuiltinCheck.LATENCY_P99,
            unit=Unit.SECONDS,
            direction=Direction.LOWER_IS_BETTER,
            recommended_min=None,
            recommended_max=0.5,
            default_window_seconds=60.0,
            description="99th percentile request duration seen by the router (seconds)",
        ),
        BuiltinCheck.SHADOW_AGREEMENT: CheckInfo(
            check=BuiltinCheck.SHADOW_AGREEMENT,
            unit=Unit.RATIO,
            direction=Direction.HIGHER_IS_BETTER,
            recommended_min=0.95,
            recommended_max=None,
            default_window_seconds=300.0,
            description="share of shadow comparisons where the candidate agreed (0-1)",
        ),
        BuiltinCheck.DRIFT_SHARE: CheckInfo(
            check=BuiltinCheck.DRIFT_SHARE,
            unit=Unit.RATIO,
            direction=Direction.LOWER_IS_BETTER,
            recommended_min=None,
            recommended_max=0.3,
            default_window_seconds=300.0,
            description="share of input features whose distribution drifted (0-1)",
        ),
        BuiltinCheck.LLM_TTFT_P95: CheckInfo(
            check=BuiltinCheck.LLM_TTFT_P95,
            unit=Unit.SECONDS,
            direction=Direction.LOWER_IS_BETTER,
            recommended_min=None,
            recommended_max=1.0,
            default_window_seconds=60.0,
            description="95th percentile LLM time to first token (seconds)",
        ),
        BuiltinCheck.LLM_TOKENS_PER_SECOND: CheckInfo(
            check=BuiltinCheck.LLM_TOKENS_PER_SECOND,
            unit=Unit.TOKENS_PER_SECOND,
            direction=Direction.HIGHER_IS_BETTER,
            recommended_min=10.0,
            recommended_max=None,
            default_window_seconds=60.0,
            description="LLM completion tokens generated per second",
        ),
    }
)
