"""Every Prometheus metric canaria exports, and the PromQL that reads them: one source.

Services, the router and the operator import names from here; the operator's metric
providers render the PromQL templates below. Changing a name here changes it everywhere,
and ``tests/test_metrics_catalog.py`` checks that each template only uses names from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Variant(StrEnum):
    """Which deployment of a model a request or a metric belongs to."""

    STABLE = "stable"
    CANARY = "canary"
    SHADOW = "shadow"


# --- classic model service (services/classic) --------------------------------------------
# Labels: model (BentoML model name), version (model tag version), predicted_class.
PREDICTIONS_TOTAL = "canaria_predictions_total"
# Labels: model, version. Probability of the predicted class.
PREDICTION_CONFIDENCE = "canaria_prediction_confidence"
# Labels: model, version, plus model metadata; value always 1.
MODEL_INFO = "canaria_model_info"
# Labels: service, reason (missing, type, category, range, non_finite, batch_size, ...).
INVALID_REQUESTS_TOTAL = "canaria_invalid_requests_total"

# --- LLM service (services/llm) --------------------------------------------------------
# Labels on all: model.
LLM_TIME_TO_FIRST_TOKEN = "canaria_llm_time_to_first_token_seconds"
LLM_TIME_PER_OUTPUT_TOKEN = "canaria_llm_time_per_output_token_seconds"
LLM_PROMPT_TOKENS_TOTAL = "canaria_llm_prompt_tokens_total"
LLM_COMPLETION_TOKENS_TOTAL = "canaria_llm_completion_tokens_total"
LLM_TOKENS_PER_SECOND = "canaria_llm_tokens_per_second"
LLM_REQUESTS_TOTAL = "canaria_llm_requests_total"

# --- router and shadow sidecar (services/router) -----------------------------------------
# Labels: variant, status (upstream HTTP status code, or "error" when none came back).
ROUTER_REQUESTS_TOTAL = "canaria_router_requests_total"
# Labels: variant.
ROUTER_REQUEST_DURATION = "canaria_router_request_duration_seconds"
# Labels: variant, reason (connect, timeout, ...).
ROUTER_UPSTREAM_ERRORS_TOTAL = "canaria_router_upstream_errors_total"
# Labels: variant. Current traffic weight 0-100.
ROUTER_WEIGHT = "canaria_router_weight"
# Labels: result (success, failure).
ROUTER_CONFIG_RELOADS_TOTAL = "canaria_router_config_reloads_total"
ROUTER_RATE_LIMITED_TOTAL = "canaria_router_rate_limited_total"
# Labels: comparator, outcome (agree, disagree).
SHADOW_COMPARISONS_TOTAL = "canaria_shadow_comparisons_total"
# Labels: comparator. Distance between the primary's and the shadow's answer (0 = equal).
SHADOW_DIFFERENCE = "canaria_shadow_difference"
SHADOW_DROPPED_TOTAL = "canaria_shadow_dropped_total"
# Labels: reason (connect, timeout, status, invalid).
SHADOW_FAILURES_TOTAL = "canaria_shadow_failures_total"

# --- drift (monitoring/drift, exported by `canaria drift monitor`) ------------------------
# The drift monitor labels its own series with ``model`` (BentoML model name), ``variant``
# (whose sample log was analysed) and ``baseline`` (what it was compared with:
# ``reference``, the model's saved reference sample, or another variant's window over the
# same time, e.g. ``stable`` for the canary), so its scrape job must not set a ``variant``
# target label (or must use honor_labels). The ``driftShare`` check takes the max over
# baselines: a canary fails it when its inputs drift from the reference *or* its inputs
# and predictions drift from the stable's. A window with fewer rows than the monitor's
# ``min_rows`` (on either side) is "no data": its share, score and drifted series are
# absent (never 0), so the check reads no data instead of "no drift"; rows and last run
# remain.
# Labels: model, variant, baseline. Share of drifted columns, 0-1: feature columns against
# the reference; feature and prediction columns against another variant.
DRIFT_SHARE = "canaria_drift_share"
# Labels: model, variant, baseline, column, method. The column's test score (a p-value or a
# distance, per ``method``); prediction columns (``prediction``, ``<class>_probability``) too.
DRIFT_COLUMN_SCORE = "canaria_drift_column_score"
# Labels: model, variant, baseline, column. 1 when the column drifted, else 0.
DRIFT_COLUMN_DRIFTED = "canaria_drift_column_drifted"
# Labels: model, variant, baseline. 1 when any prediction column drifted, else 0.
DRIFT_PREDICTION_DRIFTED = "canaria_drift_prediction_drifted"
# Labels: model, variant, baseline. Sample-log rows inside the current window.
DRIFT_WINDOW_ROWS = "canaria_drift_window_rows"
# Labels: model, variant, baseline. Unix time of the last evaluation (data or not).
DRIFT_LAST_RUN = "canaria_drift_last_run_timestamp_seconds"

# --- operator (monitoring) --------------------------------------------------------------
# Labels: rollout, phase; 1 for the current phase, 0 otherwise.
ROLLOUT_PHASE = "canaria_rollout_phase"
# Labels: rollout.
ROLLOUT_CANARY_WEIGHT = "canaria_rollout_canary_weight"
# Labels: rollout, decision.
ROLLOUT_DECISIONS_TOTAL = "canaria_rollout_decisions_total"
# Labels: rollout.
ROLLOUT_ANALYSIS_DURATION = "canaria_rollout_analysis_duration_seconds"


# --- analysis checks: how each built-in check reads the metrics above --------------------
# Keys are the built-in check names (``monitoring.checks.BuiltinCheck`` values; kept as plain
# strings so services importing this module need not ship the operator). Both metric
# providers read these definitions: ``prometheus`` renders them to PromQL, ``scrape``
# evaluates them on /metrics deltas, so the two cannot disagree on what a check means.
#
# Where the ``variant`` label comes from: the router labels its own series; every series of a
# model server or drift exporter gets it as a *target* label (the chart's scrape config puts
# the pod's variant there; the scrape provider adds it per target).
#
# Metric types the checks rely on: ROUTER_REQUEST_DURATION, LLM_TIME_TO_FIRST_TOKEN and
# LLM_TOKENS_PER_SECOND are Histograms (LLM_TOKENS_PER_SECOND observes, per request,
# completion tokens / generation seconds); DRIFT_SHARE is a Gauge; the *_TOTAL are Counters.


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

CHECK_QUERIES: Mapping[str, CheckQuery] = MappingProxyType(
    {
        "requestSuccessRate": CheckQuery(
            Aggregation.SHARE, ROUTER_REQUESTS_TOTAL, subset=(NOT_SERVER_ERROR,)
        ),
        "latencyP99": CheckQuery(Aggregation.QUANTILE, ROUTER_REQUEST_DURATION, quantile=0.99),
        "shadowAgreement": CheckQuery(
            Aggregation.SHARE,
            SHADOW_COMPARISONS_TOTAL,
            subset=(LabelMatch("outcome", MatchOp.EQUAL, "agree"),),
            per_variant=False,
        ),
        "driftShare": CheckQuery(Aggregation.GAUGE_MAX, DRIFT_SHARE),
        "llmTtftP95": CheckQuery(Aggregation.QUANTILE, LLM_TIME_TO_FIRST_TOKEN, quantile=0.95),
        "llmTokensPerSecond": CheckQuery(Aggregation.HISTOGRAM_MEAN, LLM_TOKENS_PER_SECOND),
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


PROMQL_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {check: promql_template(query) for check, query in CHECK_QUERIES.items()}
)
