"""Run a real Prometheus server (Debian's ``prometheus`` binary) for a test.

It listens on a free loopback port, keeps its TSDB in a temp dir, scrapes the given targets
every second and is stopped by PID like every other test process.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from canaria.testing.running import RunningProcess, free_port, running

SCRAPE_INTERVAL = "1s"


@dataclass(frozen=True)
class ScrapeTarget:
    """One ``host:port`` to scrape; ``labels`` become target labels on every series."""

    address: str
    labels: Mapping[str, str] = field(default_factory=dict)
    metrics_path: str = "/metrics"


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        raise RuntimeError("prometheus not found: run `make system-deps` (Debian package)")
    return path


def scrape_config(targets: Sequence[ScrapeTarget]) -> dict[str, Any]:
    """The prometheus.yml for ``targets`` (pure): one job per target, so paths may differ."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": f"target-{index}",
                "metrics_path": target.metrics_path,
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "static_configs": [{"targets": [target.address], "labels": dict(target.labels)}],
            }
            for index, target in enumerate(targets)
        ],
    }


@contextlib.contextmanager
def running_prometheus(
    targets: Sequence[ScrapeTarget], *, workdir: Path, timeout: float = 60.0
) -> Iterator[RunningProcess]:
    """Start Prometheus scraping ``targets``; yields once ``/-/ready`` answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(scrape_config(targets)))
    port = free_port()
    args = [
        prometheus_binary(),
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with running(
        args,
        log_path=workdir / "prometheus.log",
        port=port,
        ready_path="/-/ready",
        timeout=timeout,
    ) as process:
        yield process


def wait_for_targets_up(process: RunningProcess, *, count: int, timeout: float = 30.0) -> None:
    """Wait until ``count`` targets have been scraped successfully at least once."""
    deadline = time.monotonic() + timeout
    up = 0
    while time.monotonic() < deadline:
        response = httpx.get(f"{process.base_url}/api/v1/query", params={"query": "sum(up)"})
        result = response.json()["data"]["result"]
        up = int(float(result[0]["value"][1])) if result else 0
        if up >= count:
            return
        time.sleep(0.25)
    raise TimeoutError(f"only {up}/{count} targets up after {timeout}s:\n{process.log()}")
