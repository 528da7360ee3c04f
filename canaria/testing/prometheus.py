"""Run a real Prometheus server (Debian's ``prometheus`` binary) for a test or the demo.

It listens on a free loopback port, keeps its TSDB in the given directory, scrapes the given
targets every second and is stopped by PID like every other test process. The tests use
``running_prometheus``; the demo starts the same command line (``prometheus_command``) under
its own process stack and talks to it with ``PrometheusApi``: PromQL instant vectors, how
many targets are up, and new targets by rewriting the config and sending SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from canaria.testing.running import RunningProcess, free_port, running

SCRAPE_INTERVAL = "1s"
SCRAPE_SECONDS = 1.0


@dataclass(frozen=True)
class ScrapeTarget:
    """One ``host:port`` to scrape; ``labels`` become target labels on every series;
    ``job``: the job name (default ``target-<index>``)."""

    address: str
    labels: Mapping[str, str] = field(default_factory=dict)
    metrics_path: str = "/metrics"
    job: str | None = None

    @classmethod
    def from_url(
        cls, url: str, *, labels: Mapping[str, str] | None = None, job: str | None = None
    ) -> ScrapeTarget:
        """``http://127.0.0.1:8000/metrics`` as a target (the path defaults to /metrics)."""
        address, _, path = url.removeprefix("http://").partition("/")
        return cls(address, dict(labels or {}), f"/{path}" if path else "/metrics", job)


class PrometheusError(RuntimeError):
    """Prometheus could not be asked, or refused the query (the message says which)."""


def find_prometheus() -> str | None:
    """The ``prometheus`` binary on PATH, or ``None``."""
    return shutil.which("prometheus")


def prometheus_binary() -> str:
    path = find_prometheus()
    if path is None:
        raise RuntimeError("prometheus not found: run `make system-deps` (Debian package)")
    return path


def scrape_config(targets: Sequence[ScrapeTarget]) -> dict[str, Any]:
    """The prometheus.yml for ``targets`` (pure): one job per target, so paths may differ."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": target.job or f"target-{index}",
                "metrics_path": target.metrics_path,
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "static_configs": [{"targets": [target.address], "labels": dict(target.labels)}],
            }
            for index, target in enumerate(targets)
        ],
    }


def prometheus_command(
    config: Mapping[str, Any], *, workdir: Path, port: int, binary: str | None = None
) -> list[str]:
    """Write ``config`` to ``<workdir>/prometheus.yml``; the command line that serves it on
    ``127.0.0.1:port`` with its TSDB in ``<workdir>/data``."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(dict(config)))
    return [
        binary or prometheus_binary(),
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]


@contextlib.contextmanager
def running_prometheus(
    targets: Sequence[ScrapeTarget],
    *,
    workdir: Path,
    timeout: float = 60.0,
    config: Mapping[str, Any] | None = None,
) -> Iterator[RunningProcess]:
    """Start Prometheus scraping ``targets`` (or serving a whole ``config``: rules,
    alerting); yields once ``/-/ready`` answers 200."""
    port = free_port()
    args = prometheus_command(
        scrape_config(targets) if config is None else config, workdir=workdir, port=port
    )
    with running(
        args,
        log_path=workdir / "prometheus.log",
        port=port,
        ready_path="/-/ready",
        timeout=timeout,
    ) as process:
        yield process


@dataclass(frozen=True)
class PrometheusApi:
    """The HTTP API of the Prometheus at ``base_url``; ``set_targets`` also needs the
    ``workdir`` it was started from (its prometheus.yml) and its ``pid``."""

    base_url: str
    workdir: Path | None = None
    pid: int | None = None

    def vector(self, promql: str, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The instant vector ``promql`` evaluates to now; ``PrometheusError`` if
        Prometheus cannot be reached or refuses the query."""
        try:
            response = httpx.get(
                f"{self.base_url}/api/v1/query", params={"query": promql}, timeout=timeout
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise PrometheusError(f"query failed: {error!r}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"query {promql!r} refused: {body.get('error')}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def targets_up(self) -> int:
        """How many targets were scraped successfully in their last scrape."""
        result = self.vector("sum(up)")
        return int(float(result[0]["value"][1])) if result else 0

    def wait_for_targets(self, count: int, *, timeout: float, poll: float = 0.25) -> int:
        """Wait, bounded, until ``count`` targets are up; returns how many are."""
        deadline = time.monotonic() + timeout
        up = self.targets_up()
        while up < count and time.monotonic() < deadline:
            time.sleep(poll)
            up = self.targets_up()
        return up

    def set_targets(self, targets: Sequence[ScrapeTarget]) -> None:
        """Scrape exactly ``targets`` from now on: rewrite prometheus.yml, SIGHUP."""
        if self.workdir is None or self.pid is None:
            raise ValueError("set_targets needs the Prometheus's workdir and pid")
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(scrape_config(targets)))
        os.kill(self.pid, signal.SIGHUP)


def wait_for_targets_up(process: RunningProcess, *, count: int, timeout: float = 30.0) -> None:
    """Wait until ``count`` targets have been scraped successfully at least once."""
    up = PrometheusApi(process.base_url).wait_for_targets(count, timeout=timeout)
    if up < count:
        raise TimeoutError(f"only {up}/{count} targets up after {timeout}s:\n{process.log()}")
