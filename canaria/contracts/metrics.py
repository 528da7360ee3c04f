"""Every Prometheus metric canaria exports: one source of names (and ``Variant``).

Services, the router and the operator import names from here; the built-in checks that read
them (with their PromQL) are ``canaria.contracts.checks``. Changing a name here changes it
everywhere, and ``tests/canaria/contracts/test_metrics.py`` checks that each PromQL template
only uses names from here.
"""

from __future__ import annotations

from enum import StrEnum


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
LLM_TIME_TO_FIRST_TOKEN = "canaria_llm_time_to_first_token_seconds"  # nosec B105 # a metric name, not a secret
LLM_TIME_PER_OUTPUT_TOKEN = "canaria_llm_time_per_output_token_seconds"  # nosec B105 # a metric name, not a secret
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
# Labels: reason (header_too_large, header_timeout, body_timeout, over_capacity).
ROUTER_LISTENER_REFUSALS_TOTAL = "canaria_router_listener_refusals_total"
# Request trailers dropped (a trailer never becomes a header).
ROUTER_TRAILERS_DROPPED_TOTAL = "canaria_router_trailers_dropped_total"
# Labels: variant. 1 while the variant's circuit breaker is open (its share goes to stable).
ROUTER_BREAKER_OPEN = "canaria_router_breaker_open"
# Labels: variant. Times the variant's breaker tripped.
ROUTER_BREAKER_TRIPS_TOTAL = "canaria_router_breaker_trips_total"
# Admin API calls refused for a missing or wrong token (and those refused while throttled).
ROUTER_ADMIN_AUTH_FAILURES_TOTAL = "canaria_router_admin_auth_failures_total"
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
# The operator exports these per check of the last analysis (``OperatorMetrics``, from
# ``AnalysisRecord.checks``), for the dashboards and alerts.
# Labels: rollout, check. The measured value (``CheckResult.compared``).
ROLLOUT_CHECK_VALUE = "canaria_rollout_check_value"
# Labels: rollout, check, bound (min, max). The check's limit.
ROLLOUT_CHECK_LIMIT = "canaria_rollout_check_limit"
# Labels: rollout, check. 1 passed, 0 failed (absent when inconclusive).
ROLLOUT_CHECK_PASSED = "canaria_rollout_check_passed"
# Exported by the operator (``OperatorMetrics.count_retraining``), one increment per step of
# the retraining loop. Labels: rollout, result (``RETRAINING_RESULTS``).
RETRAINING_JOBS_TOTAL = "canaria_retraining_jobs_total"
# started: a Job was launched; succeeded: it registered a better version (the new canary);
# not_improved: it did not beat the champion; failed: it crashed, failed or was lost.
RETRAINING_RESULTS = ("started", "succeeded", "not_improved", "failed")
# Labels: provider (webhook, slack, teams), result (sent, failed, dropped). Exported by the
# operator's notifier (monitoring/notify), on the operator's /metrics.
NOTIFICATIONS_TOTAL = "canaria_notifications_total"
