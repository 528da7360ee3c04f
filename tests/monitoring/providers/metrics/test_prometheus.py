"""The Prometheus provider against a real Prometheus scraping real exporter processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from canaria.contracts.checks import CUSTOM_CHECK, BuiltinCheck
from canaria.contracts.metrics import Variant
from canaria.testing.prometheus import ScrapeTarget, running_prometheus, wait_for_targets_up
from canaria.testing.running import free_port
from monitoring.providers.interfaces import MetricQuery, MetricsQueryError, MetricsUnavailableError
from monitoring.providers.metrics.prometheus import PrometheusProvider
from monitoring.providers.registry import metrics_providers
from tests.monitoring.providers.metrics.conftest import Exporters
from tests.monitoring.providers.metrics.exporter import EXPECTED, MODEL

pytestmark = pytest.mark.slow  # starts real processes or trains a model

WINDOW = 10.0


@pytest.fixture(scope="module")
def prometheus(exporters: Exporters, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    targets = [
        ScrapeTarget(f"127.0.0.1:{exporters.router.port}"),
        ScrapeTarget(f"127.0.0.1:{exporters.stable.port}", {"variant": "stable"}),
        ScrapeTarget(f"127.0.0.1:{exporters.canary.port}", {"variant": "canary"}),
    ]
    with running_prometheus(targets, workdir=Path(tmp_path_factory.mktemp("prom"))) as process:
        wait_for_targets_up(process, count=3)
        yield process.base_url


@pytest.fixture(scope="module")
def provider(prometheus: str) -> Iterator[PrometheusProvider]:
    created = metrics_providers.create("prometheus", address=prometheus, timeout=10)
    assert isinstance(created, PrometheusProvider)
    # Rates need two scrapes of every series inside the window.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        values = [
            created.measure(MetricQuery(check.value, variant, WINDOW))
            for check in BuiltinCheck
            for variant in (Variant.STABLE, Variant.CANARY)
        ]
        if None not in values:
            break
        time.sleep(0.5)
    yield created
    created.close()


@pytest.mark.parametrize("variant", [Variant.STABLE, Variant.CANARY])
@pytest.mark.parametrize("check", list(BuiltinCheck))
def test_builtin_check_promql_returns_the_known_value(
    provider: PrometheusProvider, check: BuiltinCheck, variant: Variant
) -> None:
    value = provider.measure(MetricQuery(check.value, variant, WINDOW))
    assert value == pytest.approx(EXPECTED[check.value][variant.value], rel=1e-3)


def test_selector_scopes_the_query(provider: PrometheusProvider) -> None:
    query = MetricQuery("llmTtftP95", Variant.CANARY, WINDOW, selector={"model": MODEL})
    assert provider.measure(query) == pytest.approx(0.4875, rel=1e-3)
    other = MetricQuery("llmTtftP95", Variant.CANARY, WINDOW, selector={"model": "other"})
    assert provider.measure(other) is None


@pytest.mark.parametrize("check", ["requestSuccessRate", "latencyP99", "driftShare"])
def test_a_variant_without_series_has_no_data(provider: PrometheusProvider, check: str) -> None:
    assert provider.measure(MetricQuery(check, Variant.SHADOW, WINDOW)) is None


def test_custom_query_with_placeholders(provider: PrometheusProvider) -> None:
    promql = (
        'sum(rate(canaria_router_requests_total{variant="{{ variant }}",status="503",'
        "{{ selector }}}[{{ window }}])) / sum(rate(canaria_router_requests_total"
        '{variant="{{variant}}"}[{{window}}]))'
    )
    query = MetricQuery(CUSTOM_CHECK, Variant.CANARY, WINDOW, promql=promql)
    assert provider.measure(query) == pytest.approx(0.1, rel=1e-3)


@pytest.mark.parametrize(
    "promql",
    ['sum(canaria_router_requests_total{variant="nobody"})', "vector(0) / vector(0)"],
    ids=["empty", "nan"],
)
def test_custom_query_without_data_is_none(provider: PrometheusProvider, promql: str) -> None:
    query = MetricQuery(CUSTOM_CHECK, Variant.CANARY, WINDOW, promql=promql)
    assert provider.measure(query) is None


def test_scalar_result(provider: PrometheusProvider) -> None:
    assert provider.query("scalar(vector(2.5))") == 2.5


@pytest.mark.parametrize(
    ("promql", "message"),
    [
        ("sum(rate(", "rejected"),
        ("canaria_router_requests_total", "aggregate it to one"),
        ("canaria_router_requests_total[1m]", "returns a matrix"),
    ],
)
def test_bad_queries_raise_a_query_error(
    provider: PrometheusProvider, promql: str, message: str
) -> None:
    with pytest.raises(MetricsQueryError, match=message):
        provider.query(promql)


def test_unreachable_prometheus_is_unavailable() -> None:
    unreachable = PrometheusProvider(address=f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(MetricsUnavailableError, match="unreachable"):
        unreachable.measure(MetricQuery("latencyP99", Variant.CANARY, WINDOW))
