"""``canaria drift monitor`` as a real process, scraped by a real Prometheus, read by the
``driftShare`` check through the Prometheus provider."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from canaria.contracts.metrics import (
    DRIFT_COLUMN_DRIFTED,
    DRIFT_PREDICTION_DRIFTED,
    DRIFT_SHARE,
    DRIFT_WINDOW_ROWS,
    Variant,
)
from canaria.testing.prometheus import ScrapeTarget, running_prometheus, wait_for_targets_up
from canaria.testing.running import VENV_BIN, RunningProcess, free_port, running
from monitoring.providers.interfaces import MetricQuery
from monitoring.providers.metrics.prometheus import PrometheusProvider
from tests.monitoring.drift.frames import customers
from tests.monitoring.drift.logs import write_sample_log


@pytest.fixture(scope="module")
def monitor(
    classic_model_tag: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    root = tmp_path_factory.mktemp("drift-monitor")
    stable = write_sample_log(root / "stable.jsonl", customers(400, seed=11))
    canary = write_sample_log(
        root / "canary.jsonl",
        customers(400, seed=12, scenario="covariate-shift", strength=1.0),
        predicted="churn",
        churn_probability=0.9,
    )
    shadow = write_sample_log(root / "shadow.jsonl", customers(20, seed=13))  # too few rows
    port = free_port()
    args = [
        str(VENV_BIN / "canaria"), "drift", "monitor", "--model", classic_model_tag,
        "--log", f"stable={stable}", "--log", f"canary={canary}", "--log", f"shadow={shadow}",
        "--compare", "canary=stable", "--interval", "1", "--window", "3600", "--port", str(port),
    ]  # fmt: skip
    with running(
        args, log_path=root / "monitor.log", port=port, ready_path="/metrics", timeout=120
    ) as process:
        yield process


@pytest.fixture(scope="module")
def provider(
    monitor: RunningProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusProvider]:
    target = ScrapeTarget(f"127.0.0.1:{monitor.port}")  # the monitor labels variants itself
    workdir = Path(tmp_path_factory.mktemp("drift-prom"))
    with running_prometheus([target], workdir=workdir) as prometheus:
        wait_for_targets_up(prometheus, count=1)
        created = PrometheusProvider(address=prometheus.base_url, timeout=10)
        deadline = time.monotonic() + 60
        query = MetricQuery("driftShare", Variant.STABLE, 60)
        while created.measure(query) is None and time.monotonic() < deadline:
            time.sleep(0.5)
        yield created
        created.close()


@pytest.mark.slow
def test_drift_share_reaches_the_check_through_prometheus(provider: PrometheusProvider) -> None:
    stable = provider.measure(MetricQuery("driftShare", Variant.STABLE, 60))
    canary = provider.measure(MetricQuery("driftShare", Variant.CANARY, 60))
    assert stable is not None and canary is not None
    assert stable < 0.2 <= canary
    # The shadow's 20 rows are no data: no share at all, not a share of 0.
    assert provider.measure(MetricQuery("driftShare", Variant.SHADOW, 60)) is None
    assert provider.query(f'{DRIFT_WINDOW_ROWS}{{variant="shadow"}}') == 20.0
    column = f'{DRIFT_COLUMN_DRIFTED}{{variant="canary",baseline="reference",column="age"}}'
    drifted = provider.query(column)
    assert drifted == 1.0
    predicted = f'{DRIFT_PREDICTION_DRIFTED}{{variant="canary",baseline="stable"}}'
    assert provider.query(predicted) == 1.0
    shares = f'{DRIFT_SHARE}{{variant="canary",baseline=~"reference|stable"}}'
    assert provider.query(f"count({shares})") == 2.0  # the check takes the max of both


@pytest.mark.slow
def test_the_monitor_serves_per_column_gauges_without_nan(monitor: RunningProcess) -> None:
    text = httpx.get(f"{monitor.base_url}/metrics", timeout=10).text
    lines = [line for line in text.splitlines() if line.startswith("canaria_drift_")]
    assert any('column="monthly_charges"' in line and 'method="ks"' in line for line in lines)
    assert not any(line.endswith(" NaN") for line in lines)
    assert 'variant="shadow"' in text
    assert not any(line.startswith(DRIFT_SHARE) and 'variant="shadow"' in line for line in lines)
