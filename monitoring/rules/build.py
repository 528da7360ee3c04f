"""canaria's Prometheus recording and alerting rules, as plain dicts (pure).

``rule_groups(settings)`` returns the ``groups`` list of a Prometheus rule file; ``python -m
monitoring.rules`` writes it to ``monitoring/rules/canaria-rules.yaml`` (the committed copy,
which the chart ships as a PrometheusRule) or to any directory, with every ``for:`` replaced
when asked (the alert-path test uses seconds instead of minutes).

Label conventions (they come from the scrape config, not from the processes):
- router, model-server and drift-monitor series carry the *target* labels ``namespace``,
  ``rollout`` (the ModelRollout's name) and, for model servers, ``variant``;
- the operator labels its own series ``rollout="<namespace>/<name>"``.
Recording rules keep ``namespace``, ``rollout`` and ``variant``, so dashboards and alerts
can filter by them wherever the scrape config provides them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from canaria.contracts import metrics as m
from canaria.contracts.checks import (
    BUILTIN_CHECKS,
    NOT_SERVER_ERROR,
    BuiltinCheck,
    CheckQuery,
    LabelMatch,
    MatchOp,
)

# --- recording rules: names the dashboards and alerts read ------------------------------
BY_VARIANT = "namespace, rollout, variant"
REQUESTS_RATE = "canaria:router_requests:rate1m"
ERRORS_RATE = "canaria:router_errors:rate1m"
ERROR_RATIO = "canaria:router_error_ratio:rate1m"
LATENCY_P50 = "canaria:router_latency_seconds:p50_1m"
LATENCY_P99 = "canaria:router_latency_seconds:p99_1m"
SHADOW_AGREEMENT = "canaria:shadow_agreement:ratio5m"
DRIFT_SHARE_MAX = "canaria:drift_share:max"
LLM_TTFT_P95 = "canaria:llm_time_to_first_token_seconds:p95_5m"
LLM_TOKENS_PER_SECOND = "canaria:llm_tokens_per_second:mean5m"

# What the analysis counts as a failed request (``requestSuccessRate``), turned around.
SERVER_ERROR = LabelMatch(NOT_SERVER_ERROR.name, MatchOp.REGEX, NOT_SERVER_ERROR.value).promql()


@dataclass(frozen=True)
class RuleSettings:
    """What a deployment (or a test) may tune in the rules.

    ``for_override``: a PromQL duration that replaces every alert's ``for`` (``None``: the
    defaults below). ``stuck_after``: how long a rollout may go without a decision while
    progressing (say 5 intervals of 2m). ``operator_job``: the scrape job of the operator.
    Thresholds are ratios (0-1).
    """

    for_override: str | None = None
    stuck_after: str = "10m"
    operator_job: str = "canaria-operator"
    canary_error_ratio: float = 0.05
    shadow_agreement_min: float = 0.9
    drift_share_max: float = 0.3
    extra_labels: dict[str, str] = field(default_factory=dict)


def _record(name: str, expr: str) -> dict[str, Any]:
    return {"record": name, "expr": expr}


def _query(check: BuiltinCheck) -> CheckQuery:
    """What the built-in ``check`` measures (``canaria.contracts.checks``): the recording
    rules read the same metrics, label subsets and quantiles as the analysis."""
    return BUILTIN_CHECKS[check].query


def window(check: BuiltinCheck) -> str:
    """The check's default window as a PromQL duration ("1m", "5m", or seconds)."""
    seconds = BUILTIN_CHECKS[check].default_window_seconds
    return f"{seconds / 60:g}m" if seconds % 60 == 0 else f"{seconds:g}s"


def _quantile(check: BuiltinCheck, by: str, over: str) -> str:
    query = _query(check)
    return (
        f"histogram_quantile({query.quantile:g}, "
        f"sum by ({by}, le) (rate({query.metric}_bucket[{over}])))"
    )


def recording_rules() -> list[dict[str, Any]]:
    """Rates, ratios and quantiles per namespace, rollout and variant (pure)."""
    router = _query(BuiltinCheck.REQUEST_SUCCESS_RATE).metric
    success = window(BuiltinCheck.REQUEST_SUCCESS_RATE)
    latency = _query(BuiltinCheck.LATENCY_P99).metric
    latency_window = window(BuiltinCheck.LATENCY_P99)
    shadow = _query(BuiltinCheck.SHADOW_AGREEMENT)
    agree = ",".join(match.promql() for match in shadow.subset)
    agreement = window(BuiltinCheck.SHADOW_AGREEMENT)
    tokens = _query(BuiltinCheck.LLM_TOKENS_PER_SECOND).metric
    # LLM requests are few and long: the LLM rules average over 5m, not the checks' 1m.
    llm_window = "5m"
    return [
        _record(REQUESTS_RATE, f"sum by ({BY_VARIANT}) (rate({router}[{success}]))"),
        _record(
            ERRORS_RATE, f"sum by ({BY_VARIANT}) (rate({router}{{{SERVER_ERROR}}}[{success}]))"
        ),
        _record(ERROR_RATIO, f"({ERRORS_RATE} or {REQUESTS_RATE} * 0) / {REQUESTS_RATE}"),
        _record(
            LATENCY_P50,
            f"histogram_quantile(0.5, sum by ({BY_VARIANT}, le) "
            f"(rate({latency}_bucket[{latency_window}])))",
        ),
        _record(LATENCY_P99, _quantile(BuiltinCheck.LATENCY_P99, BY_VARIANT, latency_window)),
        _record(
            SHADOW_AGREEMENT,
            f"sum by (namespace, rollout) (rate({shadow.metric}{{{agree}}}[{agreement}]))"
            f" / sum by (namespace, rollout) (rate({shadow.metric}[{agreement}]))",
        ),
        _record(
            DRIFT_SHARE_MAX,
            f"max by ({BY_VARIANT}, model) ({_query(BuiltinCheck.DRIFT_SHARE).metric})",
        ),
        _record(LLM_TTFT_P95, _quantile(BuiltinCheck.LLM_TTFT_P95, BY_VARIANT, llm_window)),
        _record(
            LLM_TOKENS_PER_SECOND,
            f"sum by ({BY_VARIANT}) (rate({tokens}_sum[{llm_window}]))"
            f" / sum by ({BY_VARIANT}) (rate({tokens}_count[{llm_window}]))",
        ),
    ]


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    runbook: str


def alerts(settings: RuleSettings) -> list[Alert]:
    """Every alert with its default ``for`` and its runbook line (pure)."""
    active = 'phase=~"Progressing|Promoting"'
    operator_up = f'up{{job="{settings.operator_job}"}}'
    return [
        Alert(
            "CanariaRolloutFailed",
            f'max by (rollout) ({m.ROLLOUT_PHASE}{{phase="Failed"}}) == 1',
            "0m",
            "critical",
            "Rollout {{ $labels.rollout }} failed and was rolled back",
            "The analysis failed too often; all traffic went back to the stable model.",
            "kubectl canaria status <name> shows the failed checks; fix the candidate, then "
            "set a new canary.bentoTag to retry.",
        ),
        Alert(
            "CanariaCanaryCheckFailing",
            f"max by (rollout, check) ({m.ROLLOUT_CHECK_PASSED}) == 0",
            "0m",
            "warning",
            "Check {{ $labels.check }} of rollout {{ $labels.rollout }} is failing",
            "The last analysis failed this check; the rollout holds and rolls back at "
            "failureLimit.",
            "Compare the check's value with its limit on the rollout dashboard; roll back by "
            "hand with kubectl canaria rollback <name> if users suffer.",
        ),
        Alert(
            "CanariaCanaryErrorRatioHigh",
            f'{ERROR_RATIO}{{variant="canary"}} > {settings.canary_error_ratio:g}',
            "1m",
            "warning",
            "Canary of {{ $labels.namespace }}/{{ $labels.rollout }} fails "
            "{{ $value | humanizePercentage }} of requests",
            "The router sees 5xx or no answer from the canary.",
            "Read the canary's logs (model server) and its error ratio on the model quality "
            "dashboard; the operator rolls back at its next failing analysis.",
        ),
        Alert(
            "CanariaShadowAgreementLow",
            f"{SHADOW_AGREEMENT} < {settings.shadow_agreement_min:g}",
            "5m",
            "warning",
            "Shadow of {{ $labels.namespace }}/{{ $labels.rollout }} agrees with the primary on "
            "only {{ $value | humanizePercentage }}",
            "The shadow model answers differently from the primary model.",
            "Open the model quality dashboard's difference distribution; a concept-drifted or "
            "mis-trained candidate should not be promoted.",
        ),
        Alert(
            "CanariaDriftHigh",
            f"{DRIFT_SHARE_MAX} > {settings.drift_share_max:g}",
            "10m",
            "warning",
            "{{ $value | humanizePercentage }} of {{ $labels.model }}'s features drifted",
            "The inputs the model sees no longer look like its training data.",
            "Run canaria drift on the recent sample log to see which columns drifted; "
            "retrain (canaria retrain) if the drift is real.",
        ),
        Alert(
            "CanariaRolloutStuck",
            f"max by (rollout) ({m.ROLLOUT_PHASE}{{{active}}}) == 1 unless on (rollout) "
            f"sum by (rollout) (increase({m.ROLLOUT_DECISIONS_TOTAL}[{settings.stuck_after}]))"
            " > 0",
            "0m",
            "warning",
            f"Rollout {{{{ $labels.rollout }}}} made no decision for {settings.stuck_after}",
            "The rollout is progressing but the operator decided nothing for several intervals.",
            "Check the operator's log and its metric provider (Prometheus reachable?); "
            "kubectl canaria status <name> shows nextAnalysisTime.",
        ),
        Alert(
            "CanariaRetrainingFailing",
            f'sum by (rollout) (increase({m.RETRAINING_JOBS_TOTAL}{{result="failed"}}[1h])) > 0',
            "0m",
            "warning",
            "Retraining for {{ $labels.rollout }} failed",
            "A retraining Job ended without a new model version.",
            "kubectl logs job/<retraining job>; the model store and the rollout are untouched, "
            "the next trigger after the cooldown retries.",
        ),
        Alert(
            "CanariaOperatorDown",
            f"{operator_up} == 0 or absent({operator_up})",
            "2m",
            "critical",
            "The canaria operator is not being scraped",
            "No rollout advances, promotes or rolls back while the operator is down.",
            "kubectl -n canaria-system get pods,events; its log names the failing rollout or "
            "API call. Traffic stays as it is meanwhile.",
        ),
        Alert(
            "CanariaRouterBreakerTripped",
            f"max by (namespace, rollout, variant) ({m.ROUTER_BREAKER_OPEN}) == 1",
            "0m",
            "critical",
            "Router breaker open for {{ $labels.variant }} of {{ $labels.rollout }}",
            "The variant failed too many recent requests; its traffic goes to the stable.",
            "The operator rolls the canary back at its next pass; read the canary's logs.",
        ),
    ]


def alert_rule(alert: Alert, settings: RuleSettings) -> dict[str, Any]:
    """One alerting rule as Prometheus's rule file has it (pure)."""
    return {
        "alert": alert.name,
        "expr": alert.expr,
        "for": settings.for_override or alert.for_,
        "labels": {"severity": alert.severity, **settings.extra_labels},
        "annotations": {
            "summary": alert.summary,
            "description": alert.description,
            "runbook": alert.runbook,
        },
    }


def rule_groups(settings: RuleSettings | None = None) -> list[dict[str, Any]]:
    """The ``groups`` of canaria's rule file (pure)."""
    chosen = settings or RuleSettings()
    return [
        {"name": "canaria.recording", "rules": recording_rules()},
        {
            "name": "canaria.alerts",
            "rules": [alert_rule(alert, chosen) for alert in alerts(chosen)],
        },
    ]
