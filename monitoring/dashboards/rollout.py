"""Rollout overview: phase and canary weight per rollout, decisions, checks and limits."""

from __future__ import annotations

from typing import Any

from canaria.contracts import metrics as m
from monitoring.dashboards.panels import (
    OPERATOR_SEL,
    RATE,
    TARGET_SEL,
    Target,
    dashboard,
    decision_annotation,
    graph,
    quantile,
    single_stat,
    states,
    variables,
)

UID = "canaria-rollout"


def build() -> dict[str, Any]:
    """The rollout overview dashboard (pure)."""
    phase = Target(
        f"max by (rollout, phase) ({m.ROLLOUT_PHASE}{{{OPERATOR_SEL}}}) == 1",
        "{{rollout}} {{phase}}",
    )
    overview = [
        single_stat(
            "Rollouts progressing",
            "Rollouts whose canary is being analysed, paused or promoted.",
            Target(
                f"count({m.ROLLOUT_PHASE}{{{OPERATOR_SEL}, "
                f'phase=~"Progressing|Paused|Promoting"}} == 1)'
            ),
        ),
        single_stat(
            "Rollouts failed",
            "Rollouts rolled back by the analysis (phase Failed).",
            Target(f'count({m.ROLLOUT_PHASE}{{{OPERATOR_SEL}, phase="Failed"}} == 1)'),
        ),
        single_stat(
            "Decisions in range",
            "Decisions that changed a rollout in the selected time range.",
            Target(f"sum(increase({m.ROLLOUT_DECISIONS_TOTAL}{{{OPERATOR_SEL}}}[$__range]))"),
        ),
        single_stat(
            "Analysis p95",
            "95th percentile of one analysis: measuring every check, deciding and applying.",
            Target(quantile(0.95, m.ROLLOUT_ANALYSIS_DURATION, OPERATOR_SEL, by="rollout")),
            unit="s",
        ),
        states("Phase", "Each rollout's phase over time; decisions are annotations.", phase),
    ]
    traffic = [
        graph(
            "Canary weight (operator)",
            "Share of traffic (0-100) the operator last gave the canary.",
            [Target(f"{m.ROLLOUT_CANARY_WEIGHT}{{{OPERATOR_SEL}}}", "{{rollout}}")],
            unit="percent",
            stepped=True,
        ),
        graph(
            "Weight per variant (router)",
            "The weights the routers apply now, per variant.",
            [
                Target(
                    f"max by (rollout, variant) ({m.ROUTER_WEIGHT}{{{TARGET_SEL}}})",
                    "{{rollout}} {{variant}}",
                )
            ],
            unit="percent",
            stepped=True,
        ),
        graph(
            "Decisions",
            "Decisions per kind (advance, hold, promote, rollback, ...).",
            [
                Target(
                    f"sum by (decision) "
                    f"(increase({m.ROLLOUT_DECISIONS_TOTAL}{{{OPERATOR_SEL}}}[{RATE}]))",
                    "{{decision}}",
                )
            ],
            span=24,
        ),
    ]
    checks = [
        graph(
            "Check values and limits",
            "Each check's value in the last analysis (solid) and its min/max limit.",
            [
                Target(f"{m.ROLLOUT_CHECK_VALUE}{{{OPERATOR_SEL}}}", "{{rollout}} {{check}}"),
                Target(
                    f"{m.ROLLOUT_CHECK_LIMIT}{{{OPERATOR_SEL}}}", "{{rollout}} {{check}} {{bound}}"
                ),
            ],
        ),
        graph(
            "Checks passing",
            "1 when the check passed in the last analysis, 0 when it failed.",
            [Target(f"{m.ROLLOUT_CHECK_PASSED}{{{OPERATOR_SEL}}}", "{{rollout}} {{check}}")],
            stepped=True,
        ),
    ]
    return dashboard(
        uid=UID,
        title="canaria / Rollouts",
        description="Phase, traffic weight, decisions and checks of every ModelRollout.",
        rows=[("Overview", overview), ("Traffic", traffic), ("Checks", checks)],
        variables=variables(model_metric=None),
        annotations=[decision_annotation()],
    )
