"""Model quality per variant: traffic, errors, latency, shadow agreement, predictions."""

from __future__ import annotations

from typing import Any

from canaria.contracts import metrics as m
from monitoring.dashboards.panels import (
    MODEL_SEL,
    RATE,
    SERVER_ERROR,
    TARGET_SEL,
    Target,
    dashboard,
    decision_annotation,
    distribution,
    graph,
    quantile,
    ratio,
    variables,
)

UID = "canaria-model-quality"


def _router_panels() -> list[Any]:
    requests = f"{m.ROUTER_REQUESTS_TOTAL}{{{TARGET_SEL}}}"
    errors = f"{m.ROUTER_REQUESTS_TOTAL}{{{TARGET_SEL}, {SERVER_ERROR}}}"
    return [
        graph(
            "Requests/s",
            "Requests the router answered, per variant.",
            [Target(f"sum by (variant) (rate({requests}[{RATE}]))", "{{variant}}")],
            unit="reqps",
        ),
        graph(
            "Error ratio",
            "Share of requests answered 5xx or not at all, per variant.",
            [
                Target(
                    f"(sum by (variant) (rate({errors}[{RATE}]))"
                    f" or sum by (variant) (rate({requests}[{RATE}])) * 0)"
                    f" / sum by (variant) (rate({requests}[{RATE}]))",
                    "{{variant}}",
                )
            ],
            unit="percentunit",
            limit=0.01,
        ),
        graph(
            "Latency",
            "Router-measured latency percentiles, per variant.",
            [
                Target(
                    quantile(q, m.ROUTER_REQUEST_DURATION, TARGET_SEL),
                    f"{{{{variant}}}} p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            unit="s",
            span=24,
        ),
    ]


def _shadow_panels() -> list[Any]:
    comparisons = f"{m.SHADOW_COMPARISONS_TOTAL}{{{TARGET_SEL}}}"
    agree = f'{m.SHADOW_COMPARISONS_TOTAL}{{{TARGET_SEL}, outcome="agree"}}'
    return [
        graph(
            "Shadow agreement",
            "Share of shadow answers that agree with the primary's, per comparator.",
            [Target(ratio(agree, comparisons, by="comparator"), "{{comparator}}")],
            unit="percentunit",
        ),
        distribution(
            "Shadow difference distribution",
            "How far the shadow's answers are from the primary's (0 = equal).",
            f"sum by (le) (increase({m.SHADOW_DIFFERENCE}_bucket{{{TARGET_SEL}}}[{RATE}]))",
            unit="short",
        ),
        graph(
            "Shadow failures and drops",
            "Shadow requests that gave nothing to compare, by reason, and those dropped.",
            [
                Target(
                    f"sum by (reason) (rate({m.SHADOW_FAILURES_TOTAL}{{{TARGET_SEL}}}[{RATE}]))",
                    "{{reason}}",
                ),
                Target(f"sum(rate({m.SHADOW_DROPPED_TOTAL}{{{TARGET_SEL}}}[{RATE}]))", "dropped"),
            ],
            unit="reqps",
            span=24,
        ),
    ]


def _prediction_panels() -> list[Any]:
    confidence = m.PREDICTION_CONFIDENCE
    return [
        graph(
            "Prediction confidence",
            "Median and 10th percentile of the predicted class's probability, per variant.",
            [
                Target(quantile(0.5, confidence, MODEL_SEL), "{{variant}} p50"),
                Target(quantile(0.1, confidence, MODEL_SEL), "{{variant}} p10"),
            ],
            unit="percentunit",
        ),
        graph(
            "Predictions by class",
            "Predictions/s per predicted class and variant.",
            [
                Target(
                    f"sum by (variant, predicted_class) "
                    f"(rate({m.PREDICTIONS_TOTAL}{{{MODEL_SEL}}}[{RATE}]))",
                    "{{variant}} {{predicted_class}}",
                )
            ],
            unit="reqps",
        ),
        graph(
            "Refused requests",
            "Requests the model servers refused (4xx), by the reason of their first problem.",
            [
                Target(
                    f"sum by (reason) (rate({m.INVALID_REQUESTS_TOTAL}{{{TARGET_SEL}}}[{RATE}]))",
                    "{{reason}}",
                )
            ],
            unit="reqps",
            span=24,
        ),
    ]


def build() -> dict[str, Any]:
    """The model quality dashboard (pure)."""
    return dashboard(
        uid=UID,
        title="canaria / Model quality",
        description="Traffic, errors, latency, shadow agreement and predictions per variant.",
        rows=[
            ("Router", _router_panels()),
            ("Shadow", _shadow_panels()),
            ("Predictions", _prediction_panels()),
        ],
        variables=variables(model_metric=m.MODEL_INFO),
        annotations=[decision_annotation()],
    )
