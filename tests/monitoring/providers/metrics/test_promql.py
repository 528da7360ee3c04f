"""Rendering PromQL templates and custom queries (pure)."""

from __future__ import annotations

import pytest

from canaria.contracts.checks import CUSTOM_CHECK
from canaria.contracts.metrics import Variant
from monitoring.providers.interfaces import MetricQuery, MetricsQueryError
from monitoring.providers.metrics.promql import label_selector, promql_duration, promql_for


def test_builtin_template_renders_variant_window_and_selector() -> None:
    query = MetricQuery("latencyP99", Variant.CANARY, 90.0, selector={"namespace": "ml"})
    assert promql_for(query) == (
        "histogram_quantile(0.99, sum by (le) (rate(canaria_router_request_duration_seconds"
        '_bucket{variant="canary",namespace="ml",}[90s])))'
    )


def test_shadow_agreement_is_not_scoped_by_variant() -> None:
    rendered = promql_for(MetricQuery("shadowAgreement", Variant.STABLE, 60.0))
    assert "variant" not in rendered
    assert rendered == (
        '(sum(rate(canaria_shadow_comparisons_total{outcome="agree",}[60s])) or vector(0))'
        " / sum(rate(canaria_shadow_comparisons_total{}[60s]))"
    )


@pytest.mark.parametrize(
    ("seconds", "duration"), [(60.0, "60s"), (1.5, "1500ms"), (0.0004, "1ms"), (3600, "3600s")]
)
def test_promql_duration(seconds: float, duration: str) -> None:
    assert promql_duration(seconds) == duration


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_window_is_a_query_error(seconds: float) -> None:
    with pytest.raises(MetricsQueryError, match="window"):
        promql_duration(seconds)


def test_selector_values_are_escaped_and_names_checked() -> None:
    assert label_selector({"b": 'say "hi"\\', "a": "x"}) == 'a="x",b="say \\"hi\\"\\\\",'
    with pytest.raises(MetricsQueryError, match="not-a-label"):
        label_selector({"not-a-label": "x"})


def test_custom_query_placeholders_include_selector_labels() -> None:
    query = MetricQuery(
        CUSTOM_CHECK,
        Variant.STABLE,
        30.0,
        promql='max(up{job="{{ namespace }}-{{variant}}"}) > {{  window }}',
        selector={"namespace": "ml"},
    )
    assert promql_for(query) == 'max(up{job="ml-stable"}) > 30s'


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (MetricQuery(CUSTOM_CHECK, Variant.STABLE, 30.0, promql="up{x='{{ nope }}'}"), "nope"),
        (MetricQuery(CUSTOM_CHECK, Variant.STABLE, 30.0), "no promql"),
        (MetricQuery("latencyP50", Variant.STABLE, 30.0), "unknown check 'latencyP50'"),
    ],
)
def test_bad_queries_are_query_errors(query: MetricQuery, message: str) -> None:
    with pytest.raises(MetricsQueryError, match=message):
        promql_for(query)
