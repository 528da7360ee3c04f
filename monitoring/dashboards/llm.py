"""LLM serving: time to first token, time per output token, tokens/s, tokens and cost."""

from __future__ import annotations

from typing import Any

from canaria.contracts import metrics as m
from monitoring.dashboards.panels import (
    MODEL_SEL,
    PRICE_VARIABLE,
    RATE,
    Target,
    dashboard,
    decision_annotation,
    graph,
    price_variable,
    quantile,
    ratio,
    variables,
)

UID = "canaria-llm"


def build() -> dict[str, Any]:
    """The LLM dashboard (pure)."""
    tokens_per_second = ratio(
        f"{m.LLM_TOKENS_PER_SECOND}_sum{{{MODEL_SEL}}}",
        f"{m.LLM_TOKENS_PER_SECOND}_count{{{MODEL_SEL}}}",
    )
    completion = f"{m.LLM_COMPLETION_TOKENS_TOTAL}{{{MODEL_SEL}}}"
    replicas = f"count(count by (instance) ({m.LLM_REQUESTS_TOTAL}{{{MODEL_SEL}}}))"
    latency = [
        graph(
            "Time to first token",
            "From accepting a request to its first generated token, per variant.",
            [
                Target(
                    quantile(q, m.LLM_TIME_TO_FIRST_TOKEN, MODEL_SEL),
                    f"{{{{variant}}}} p{int(q * 100)}",
                )
                for q in (0.5, 0.95)
            ],
            unit="s",
        ),
        graph(
            "Time per output token",
            "Mean gap between output tokens after the first, per variant.",
            [
                Target(
                    quantile(q, m.LLM_TIME_PER_OUTPUT_TOKEN, MODEL_SEL),
                    f"{{{{variant}}}} p{int(q * 100)}",
                )
                for q in (0.5, 0.95)
            ],
            unit="s",
        ),
    ]
    throughput = [
        graph(
            "Tokens/s per request",
            "Completion tokens over generation time, averaged over requests, per variant.",
            [Target(tokens_per_second, "{{variant}}")],
        ),
        graph(
            "Tokens",
            "Prompt and completion tokens processed per second, per variant.",
            [
                Target(
                    f"sum by (variant) (rate({m.LLM_PROMPT_TOKENS_TOTAL}{{{MODEL_SEL}}}[{RATE}]))",
                    "{{variant}} prompt",
                ),
                Target(f"sum by (variant) (rate({completion}[{RATE}]))", "{{variant}} completion"),
            ],
        ),
        graph(
            "Requests by status",
            "LLM requests per second by endpoint and HTTP status.",
            [
                Target(
                    f"sum by (endpoint, status) "
                    f"(rate({m.LLM_REQUESTS_TOTAL}{{{MODEL_SEL}}}[{RATE}]))",
                    "{{endpoint}} {{status}}",
                )
            ],
            unit="reqps",
        ),
        graph(
            "Cost per 1,000 tokens",
            "Replicas x price per replica-hour / completion tokens per hour x 1000; empty "
            "until the price_per_hour variable is set.",
            [
                Target(
                    f"${PRICE_VARIABLE} * {replicas} / (sum(rate({completion}[{RATE}])) * 3.6) > 0",
                    "cost",
                )
            ],
            unit="currencyUSD",
        ),
    ]
    return dashboard(
        uid=UID,
        title="canaria / LLM",
        description="Latency to the first token, per-token latency, throughput, tokens and cost.",
        rows=[("Latency", latency), ("Throughput and cost", throughput)],
        variables=[*variables(model_metric=m.LLM_REQUESTS_TOTAL), price_variable()],
        annotations=[decision_annotation()],
    )
