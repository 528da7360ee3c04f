"""Counter resets in the scrape provider, read as Prometheus' ``rate()`` reads them: a
restarted exporter or a restarted operator never gives a negative or a huge rate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canaria.contracts.metrics import Variant
from monitoring.providers.interfaces import MetricQuery
from monitoring.providers.metrics.evaluate import Sample
from monitoring.providers.metrics.scrape import restarted
from tests.hypothesis_budget import examples
from tests.monitoring.providers.metrics.test_scrape import FakeExporter, fake_provider

QUERY = MetricQuery("requestSuccessRate", Variant.CANARY, 30.0)


def test_a_restarted_exporter_counts_from_zero_even_past_its_old_totals() -> None:
    fake = FakeExporter()
    provider = fake_provider(fake)
    fake.advance(0, ok=1000, failed=10)
    provider.measure(QUERY)  # the window's start
    # The router restarts: its counters start again from 0, and reach 12 failures (more
    # than the 10 before) and 30 successes by the next scrape.
    fake.ok, fake.failed = 0, 0
    fake.advance(10, ok=30, failed=12)
    # A per-series comparison would read 12 - 10 = 2 failures out of 32; the restarted
    # process's own totals are 12 out of 42.
    assert provider.measure(QUERY) == pytest.approx(30 / 42)


def test_a_restarted_operator_has_no_rate_until_its_second_scrape() -> None:
    fake = FakeExporter()
    fake.advance(0, ok=10**9, failed=10**6)  # an exporter running for a long time
    provider = fake_provider(fake)  # a freshly started operator: no history
    assert provider.measure(QUERY) is None  # never counts since the exporter started
    fake.advance(10, ok=99, failed=1)
    assert provider.measure(QUERY) == pytest.approx(0.99)


def test_a_changed_process_start_time_is_a_restart() -> None:
    start = (Sample("process_start_time_seconds", {}, 100.0), Sample("x_total", {}, 5.0))
    now = (Sample("process_start_time_seconds", {}, 200.0), Sample("x_total", {}, 9.0))
    assert restarted(start, now)
    assert not restarted(start, (start[0], now[1]))


counts = st.integers(min_value=0, max_value=10**6)


@settings(max_examples=examples(200), deadline=None, derandomize=True)
@given(steps=st.lists(st.tuples(counts, counts, st.booleans()), min_size=2, max_size=8))
def test_the_success_rate_is_always_a_share(steps: list[tuple[int, int, bool]]) -> None:
    """Whatever the exporter does (restarts included), the answer is None or in 0..1."""
    fake = FakeExporter()
    provider = fake_provider(fake)
    for ok, failed, restart in steps:
        if restart:
            fake.ok, fake.failed = 0, 0
        fake.advance(10, ok=ok, failed=failed)
        value = provider.measure(QUERY)
        assert value is None or 0.0 <= value <= 1.0
