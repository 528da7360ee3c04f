"""The scrape provider: real exporter processes, and windows over a recorded history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canaria.contracts.checks import CUSTOM_CHECK, BuiltinCheck
from canaria.contracts.metrics import DRIFT_SHARE, Variant
from canaria.testing.running import free_port
from monitoring.providers.interfaces import MetricQuery, MetricsQueryError, MetricsUnavailableError
from monitoring.providers.metrics.scrape import ScrapeProvider
from monitoring.providers.registry import metrics_providers
from tests.monitoring.providers.metrics.conftest import Exporters
from tests.monitoring.providers.metrics.exporter import EXPECTED, MODEL

pytestmark = pytest.mark.slow  # starts real processes or trains a model


@pytest.fixture
def provider(exporters: Exporters) -> Iterator[ScrapeProvider]:
    created = metrics_providers.create(
        "scrape",
        targets={
            "router": exporters.metrics_url(exporters.router),
            "stable": [exporters.metrics_url(exporters.stable)],
            "canary": [exporters.metrics_url(exporters.canary)],
        },
        minScrapeInterval=0,
    )
    assert isinstance(created, ScrapeProvider)
    yield created
    created.close()


@pytest.mark.parametrize("variant", [Variant.STABLE, Variant.CANARY])
@pytest.mark.parametrize("check", list(BuiltinCheck))
def test_builtin_check_from_scrape_deltas(
    provider: ScrapeProvider, check: BuiltinCheck, variant: Variant
) -> None:
    provider.scrape()
    value = provider.measure(MetricQuery(check.value, variant, 60.0))
    assert value == pytest.approx(EXPECTED[check.value][variant.value], rel=1e-9)


def test_selector_and_missing_variant(provider: ScrapeProvider) -> None:
    provider.scrape()
    query = MetricQuery("llmTokensPerSecond", Variant.STABLE, 60.0, selector={"model": MODEL})
    assert provider.measure(query) == pytest.approx(50.0)
    assert provider.measure(MetricQuery("llmTtftP95", Variant.SHADOW, 60.0)) is None
    assert provider.measure(MetricQuery("requestSuccessRate", Variant.SHADOW, 60.0)) is None


def test_custom_promql_is_refused(provider: ScrapeProvider) -> None:
    with pytest.raises(MetricsQueryError, match="custom PromQL"):
        provider.measure(MetricQuery(CUSTOM_CHECK, Variant.CANARY, 60.0, promql="up"))


def test_a_needed_target_that_is_down_is_unavailable(exporters: Exporters) -> None:
    down = f"http://127.0.0.1:{free_port()}/metrics"
    provider = ScrapeProvider(
        targets={"router": [exporters.metrics_url(exporters.router)], "canary": [down]},
        min_scrape_interval=0,
    )
    provider.scrape()  # a window needs a scrape to start from
    with pytest.raises(MetricsUnavailableError, match=down):
        provider.measure(MetricQuery("llmTtftP95", Variant.CANARY, 60.0))
    # The router's own series do not depend on the canary's server.
    assert provider.measure(MetricQuery("requestSuccessRate", Variant.CANARY, 60.0)) == 0.8
    # A stable-only target being down has nothing to do with the canary's data.
    assert provider.measure(MetricQuery("llmTtftP95", Variant.STABLE, 60.0)) is None


class FakeExporter:
    """Exposition text whose counters the test sets, and a clock it moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self.ok = 0
        self.failed = 0

    def text(self, url: str) -> str:
        return (
            "# TYPE canaria_router_requests counter\n"
            f'canaria_router_requests_total{{variant="canary",status="200"}} {self.ok}\n'
            f'canaria_router_requests_total{{variant="canary",status="500"}} {self.failed}\n'
        )

    def advance(self, seconds: float, *, ok: int, failed: int) -> None:
        self.now += seconds
        self.ok += ok
        self.failed += failed


def fake_provider(fake: FakeExporter, **settings: Any) -> ScrapeProvider:
    return ScrapeProvider(
        targets=["http://router/metrics"], clock=lambda: fake.now, fetch=fake.text, **settings
    )


def test_window_starts_at_the_scrape_current_at_its_start() -> None:
    fake = FakeExporter()
    provider = fake_provider(fake)
    query = MetricQuery("requestSuccessRate", Variant.CANARY, 30.0)
    fake.advance(0, ok=100, failed=0)
    # A single scrape has no rate: never counts since the exporter started.
    assert provider.measure(query) is None
    fake.advance(10, ok=90, failed=10)
    assert provider.measure(query) == pytest.approx(0.9)  # the scrape inside the window
    for _ in range(3):
        fake.advance(10, ok=50, failed=50)
        provider.measure(query)
    # The window (30 s) now starts at the scrape 30 s ago: only the bad ticks count.
    assert provider.measure(query) == pytest.approx(0.5)


def test_sparse_scrapes_never_reach_back_before_the_window() -> None:
    fake = FakeExporter()
    provider = fake_provider(fake, start_tolerance=5.0)
    query = MetricQuery("requestSuccessRate", Variant.CANARY, 10.0)
    fake.advance(0, ok=0, failed=0)
    provider.measure(query)
    fake.advance(60, ok=0, failed=100)  # an earlier canary's errors, a minute ago
    provider.measure(query)
    fake.advance(100, ok=100, failed=0)  # a long gap (a pause, no rollout)
    # The last scrape is 100 s old: far beyond 10 s + 5 s, so no start, no rate.
    assert provider.measure(query) is None
    fake.advance(14, ok=100, failed=0)
    # 14 s ago is within the window's start (10 s) plus the tolerance (5 s).
    assert provider.measure(query) == 1.0
    fake.advance(3, ok=99, failed=1)
    fake.advance(3, ok=0, failed=0)
    provider.measure(query)
    fake.advance(3, ok=0, failed=0)
    # Scrapes at 9, 6 and 3 s ago: the window starts inside it, at the oldest (9 s).
    assert provider.measure(query) == pytest.approx(0.99)


def test_gauges_need_no_start() -> None:
    provider = ScrapeProvider(
        targets={"canary": ["http://canary/metrics"]},
        fetch=lambda url: f'{DRIFT_SHARE}{{model="m"}} 0.25\n',
    )
    # One scrape: no rate for the counters, but a gauge is its latest value.
    assert provider.measure(MetricQuery("driftShare", Variant.CANARY, 60.0)) == 0.25
    assert provider.measure(MetricQuery("requestSuccessRate", Variant.CANARY, 60.0)) is None


def test_measures_within_min_interval_share_one_scrape() -> None:
    fake = FakeExporter()
    fetched: list[str] = []

    def fetch(url: str) -> str:
        fetched.append(url)
        return fake.text(url)

    provider = ScrapeProvider(
        targets=["http://router/metrics"], clock=lambda: fake.now, fetch=fetch
    )
    fake.advance(0, ok=1, failed=1)
    for check in ("requestSuccessRate", "latencyP99"):
        for variant in (Variant.STABLE, Variant.CANARY):
            provider.measure(MetricQuery(check, variant, 60.0))
    assert len(fetched) == 1


def test_a_restarted_exporter_counts_from_zero() -> None:
    fake = FakeExporter()
    provider = fake_provider(fake)
    query = MetricQuery("requestSuccessRate", Variant.CANARY, 10.0)
    fake.advance(0, ok=1000, failed=0)
    provider.measure(query)
    fake.ok, fake.failed = 3, 1  # the process restarted: counters went down
    fake.advance(10, ok=0, failed=0)
    assert provider.measure(query) == pytest.approx(0.75)


def test_no_traffic_in_the_window_is_no_data() -> None:
    fake = FakeExporter()
    provider = fake_provider(fake)
    query = MetricQuery("requestSuccessRate", Variant.CANARY, 10.0)
    fake.advance(0, ok=10, failed=0)
    provider.measure(query)
    fake.advance(10, ok=0, failed=0)
    assert provider.measure(query) is None
