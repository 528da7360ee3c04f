"""The built-in analysis checks: names, units, default windows and how each reads the
metrics (one table, ``BUILTIN_CHECKS``), and the PromQL rendered from it.

A ModelRollout check is either built in (``builtin: latencyP99``) or a custom PromQL
``query``. The enum values below are the names users write in the CRD, the keys of the
PromQL templates, and the ``check`` of a ``MetricQuery`` (``CUSTOM_CHECK`` for a user
query). Do not rename them: they are part of the CRD.

Units are fixed so thresholds mean the same everywhere: ratios are 0-1 (not percent),
durations are seconds, throughput is tokens per second.

Both metric providers read ``CheckInfo.query``: ``prometheus`` renders it to PromQL,
``scrape`` evaluates it on /metrics deltas, so the two cannot disagree on what a check means.

Where the ``variant`` label comes from: the router and the drift monitor (``canaria drift
monitor``) label their own series; every series of a model server gets it as a *target*
label (the chart's scrape config puts the pod's variant there; the scrape provider adds it
per target). The drift monitor serves every variant's gauges from one target, labelled
``model``, ``variant`` and ``baseline``, so it is scraped without a variant target label;
``driftShare`` takes the max over its baselines (the reference, and for the canary also the
stable's window).

Metric types the checks rely on: ROUTER_REQUEST_DURATION, LLM_TIME_TO_FIRST_TOKEN and
LLM_TOKENS_PER_SECOND are Histograms (LLM_TOKENS_PER_SECOND observes, per request,
completion tokens / generation seconds); DRIFT_SHARE is a Gauge; the *_TOTAL are Counters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from canaria.contracts.metrics import (
    DRIFT_SHARE,
    LLM_TIME_TO_FIRST_TOKEN,
    LLM_TOKENS_PER_SECOND,
    ROUTER_REQUEST_DURATION,
    ROUTER_REQUESTS_TOTAL,
    SHADOW_COMPARISONS_TOTAL,
)

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


class Unit(StrEnum):
    """What a check's value measures; used to print values as "1.84 s" in messages."""

    RATIO = "ratio"
    SECONDS = "s"
    TOKENS_PER_SECOND = "tokens/s"
    NONE = ""


class Aggregation(StrEnum):
    """How a check turns series into one number."""

    SHARE = "share"  # increase of the series matching ``subset`` / increase of all series
    QUANTILE = "quantile"  # histogram_quantile over the buckets' summed increases
    HISTOGRAM_MEAN = "histogramMean"  # increase of ``_sum`` / increase of ``_count``
    GAUGE_MAX = "gaugeMax"  # the largest current value


class MatchOp(StrEnum):
    """PromQL label matcher operators (regexes are fully anchored, as in PromQL)."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class LabelMatch:
    name: str
    op: MatchOp
    value: str

    def promql(self) -> str:
        return f"{self.name}{self.op.value}{json.dumps(self.value)}"


@dataclass(frozen=True)
class CheckQuery:
    """What one built-in check measures: a metric, an aggregation, the series it keeps.

    ``per_variant`` scopes the series to the queried variant by the ``variant`` label; the
    shadow comparisons are counted by the router for the shadow only, so they are not.
    """

    aggregation: Aggregation
    metric: str
    subset: tuple[LabelMatch, ...] = ()
    quantile: float = 0.0
    per_variant: bool = True


NOT_SERVER_ERROR = LabelMatch("status", MatchOp.NOT_REGEX, "5..|error")


@dataclass(frozen=True)
class CheckInfo:
    """One built-in check: its unit, the window the metrics provider aggregates over when
    the check gives no ``window`` (seconds), and what it measures (``query``)."""

    check: BuiltinCheck
    unit: Unit
    default_window_seconds: float
    query: CheckQuery


BUILTIN_CHECKS: Mapping[BuiltinCheck, CheckInfo] = MappingProxyType(
    {
        info.check: info
        for info in (
            # share of requests answered without a 5xx or upstream error (0-1)
            CheckInfo(
                BuiltinCheck.REQUEST_SUCCESS_RATE,
                Unit.RATIO,
                60.0,
                CheckQuery(Aggregation.SHARE, ROUTER_REQUESTS_TOTAL, subset=(NOT_SERVER_ERROR,)),
            ),
            # 99th percentile request duration seen by the router (seconds)
            CheckInfo(
                BuiltinCheck.LATENCY_P99,
                Unit.SECONDS,
                60.0,
                CheckQuery(Aggregation.QUANTILE, ROUTER_REQUEST_DURATION, quantile=0.99),
            ),
            # share of shadow comparisons where the candidate agreed (0-1); counted by the
            # router for the shadow only, so not scoped per variant
            CheckInfo(
                BuiltinCheck.SHADOW_AGREEMENT,
                Unit.RATIO,
                300.0,
                CheckQuery(
                    Aggregation.SHARE,
                    SHADOW_COMPARISONS_TOTAL,
                    subset=(LabelMatch("outcome", MatchOp.EQUAL, "agree"),),
                    per_variant=False,
                ),
            ),
            # share of drifted columns (0-1), the worst of the variant's baselines: the drift
            # monitor's canaria_drift_share{model, variant, baseline}
            CheckInfo(
                BuiltinCheck.DRIFT_SHARE,
                Unit.RATIO,
                300.0,
                CheckQuery(Aggregation.GAUGE_MAX, DRIFT_SHARE),
            ),
            # 95th percentile LLM time to first token (seconds)
            CheckInfo(
                BuiltinCheck.LLM_TTFT_P95,
                Unit.SECONDS,
                60.0,
                CheckQuery(Aggregation.QUANTILE, LLM_TIME_TO_FIRST_TOKEN, quantile=0.95),
            ),
            # LLM completion tokens generated per second
            CheckInfo(
                BuiltinCheck.LLM_TOKENS_PER_SECOND,
                Unit.TOKENS_PER_SECOND,
                60.0,
                CheckQuery(Aggregation.HISTOGRAM_MEAN, LLM_TOKENS_PER_SECOND),
            ),
        )
    }
)

# Placeholders in PromQL templates (and allowed in users' custom queries), Flagger-style:
#   {{ variant }}   the variant's name: stable, canary or shadow
#   {{ window }}    the check's window as a PromQL duration, e.g. 60s
#   {{ selector }}  the rollout's extra label matchers, each followed by a comma
#                   (``namespace="ml",service="churn",`` or nothing), so it goes last
#                   inside a matcher list: ``metric{variant="{{ variant }}",{{ selector }}}``
VARIANT_PLACEHOLDER = "{{ variant }}"
WINDOW_PLACEHOLDER = "{{ window }}"
SELECTOR_PLACEHOLDER = "{{ selector }}"


def promql_template(query: CheckQuery) -> str:
    """The PromQL template for ``query`` (pure), with the placeholders above."""

    def series(suffix: str = "", subset: tuple[LabelMatch, ...] = ()) -> str:
        matchers = [f'variant="{VARIANT_PLACEHOLDER}"'] if query.per_variant else []
        matchers += [match.promql() for match in subset]
        matchers.append(SELECTOR_PLACEHOLDER)
        return f"{query.metric}{suffix}{{{','.join(matchers)}}}"

    def rate(suffix: str = "", subset: tuple[LabelMatch, ...] = ()) -> str:
        return f"rate({series(suffix, subset)}[{WINDOW_PLACEHOLDER}])"

    if query.aggregation is Aggregation.SHARE:
        # "or vector(0)": with no matching series (say, every request failed) the share is 0,
        # not "no data"; with no series at all the division still yields nothing.
        return f"(sum({rate(subset=query.subset)}) or vector(0)) / sum({rate()})"
    if query.aggregation is Aggregation.QUANTILE:
        return f"histogram_quantile({query.quantile}, sum by (le) ({rate('_bucket')}))"
    if query.aggregation is Aggregation.HISTOGRAM_MEAN:
        return f"sum({rate('_sum')}) / sum({rate('_count')})"
    return f"max({series()})"


PROMQL_TEMPLATES: Mapping[BuiltinCheck, str] = MappingProxyType(
    {check: promql_template(info.query) for check, info in BUILTIN_CHECKS.items()}
)
"""Each built-in check's PromQL template, rendered from ``BUILTIN_CHECKS``."""
