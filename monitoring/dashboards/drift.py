"""Drift: share of drifted features and per-column scores from the drift monitor."""

from __future__ import annotations

from typing import Any

from canaria.contracts import metrics as m
from monitoring.dashboards.panels import (
    MODEL_SEL,
    OPERATOR_SEL,
    Target,
    dashboard,
    decision_annotation,
    graph,
    variables,
)
from monitoring.rules.build import RuleSettings

UID = "canaria-drift"


def build() -> dict[str, Any]:
    """The drift dashboard (pure). Fed by the drift monitor (``canaria drift monitor``)."""
    limit = RuleSettings().drift_share_max
    panels = [
        graph(
            "Drift share",
            f"Share of features whose distribution drifted, per model and variant; the "
            f"CanariaDriftHigh alert fires above {limit:g}.",
            [
                Target(
                    f"max by (model, variant) ({m.DRIFT_SHARE}{{{MODEL_SEL}}})",
                    "{{model}} {{variant}}",
                )
            ],
            unit="percentunit",
            limit=limit,
        ),
        graph(
            "Drift score per column",
            "Each feature's drift score (the statistical test's value).",
            [Target(f"max by (column) ({m.DRIFT_COLUMN_SCORE}{{{MODEL_SEL}}})", "{{column}}")],
        ),
        graph(
            "Retraining Jobs",
            "Retraining Jobs finished per hour, by result.",
            [
                Target(
                    f"sum by (result) (increase({m.RETRAINING_JOBS_TOTAL}{{{OPERATOR_SEL}}}[1h]))",
                    "{{result}}",
                )
            ],
            span=24,
        ),
    ]
    return dashboard(
        uid=UID,
        title="canaria / Drift",
        description="Input drift per model and variant, and the retraining it triggers.",
        rows=[("Drift", panels)],
        variables=variables(model_metric=m.MODEL_INFO),
        annotations=[decision_annotation()],
    )
