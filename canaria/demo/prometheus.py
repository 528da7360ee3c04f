"""Step 5: a real Prometheus, where Debian's ``prometheus`` is installed, scraping the demo.

It listens on a free loopback port with its TSDB in the output directory. Targets change
as routers come and go: ``set_targets`` rewrites the config and sends SIGHUP, which makes
Prometheus reload it. Without the binary the step is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from canaria.demo.results import PrometheusAnswer
from canaria.demo.stack import ComponentError, Process, Stack
from canaria.testing.processes import free_port

SCRAPE_INTERVAL = "1s"
SCRAPE_SECONDS = 1.0
BINARY = "prometheus"


@dataclass(frozen=True)
class ScrapeTarget:
    """One ``/metrics`` endpoint and the labels Prometheus adds to its series."""

    job: str
    url: str
    labels: Mapping[str, str] = field(default_factory=dict)


def prometheus_binary() -> str | None:
    return shutil.which(BINARY)


def scrape_config(targets: Sequence[ScrapeTarget]) -> dict[str, Any]:
    """prometheus.yml for ``targets`` (pure): one job each, since paths and labels differ."""
    jobs = []
    for target in targets:
        rest = target.url.removeprefix("http://")
        address, _, path = rest.partition("/")
        jobs.append(
            {
                "job_name": target.job,
                "metrics_path": f"/{path}" if path else "/metrics",
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "static_configs": [{"targets": [address], "labels": dict(target.labels)}],
            }
        )
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": jobs,
    }


def format_vector(result: Sequence[Mapping[str, Any]]) -> str:
    """An instant vector as ``{variant="stable"} 312`` lines (pure)."""
    if not result:
        return "(empty result)"
    lines = []
    for series in result:
        labels = ",".join(f'{key}="{value}"' for key, value in sorted(series["metric"].items()))
        value = f"{float(series['value'][1]):.4g}"
        lines.append(f"{{{labels}}} {value}" if labels else value)
    return "\n".join(lines)


class PrometheusServer:
    """A running Prometheus; ``query`` answers PromQL, ``set_targets`` changes targets."""

    def __init__(self, stack: Stack, *, workdir: Path, binary: str, timeout: float) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(scrape_config(())))
        port = free_port()
        args = [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        self.process: Process = stack.start("prometheus", args, port=port)
        stack.wait_ready(self.process, "/-/ready", timeout=timeout)

    @property
    def url(self) -> str:
        return self.process.base_url

    def set_targets(self, targets: Sequence[ScrapeTarget], *, timeout: float = 15.0) -> int:
        """Scrape exactly ``targets`` from now on (config rewrite + SIGHUP reload); wait,
        bounded, until they have all been scraped once. Returns how many are up."""
        self.config_path.write_text(yaml.safe_dump(scrape_config(targets)))
        os.kill(self.process.pid, signal.SIGHUP)
        return self.wait_for_targets(len(targets), timeout=timeout)

    def last_scrape(self) -> None:
        """Wait long enough for one more scrape (before a target is stopped)."""
        time.sleep(2 * SCRAPE_SECONDS)

    def vector(self, promql: str, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The instant vector ``promql`` evaluates to now."""
        try:
            response = httpx.get(
                f"{self.url}/api/v1/query", params={"query": promql}, timeout=timeout
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ComponentError("prometheus", f"query failed: {error!r}") from None
        if body.get("status") != "success":
            raise ComponentError("prometheus", f"query {promql!r} refused: {body.get('error')}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def query(self, promql: str) -> PrometheusAnswer:
        return PrometheusAnswer(query=promql, result=format_vector(self.vector(promql)))

    def wait_for_targets(self, count: int, *, timeout: float) -> int:
        """Wait until ``count`` targets are up (scraped at least once); returns how many."""
        deadline = time.monotonic() + timeout
        up = 0
        while time.monotonic() < deadline:
            result = self.vector("sum(up)")
            up = int(float(result[0]["value"][1])) if result else 0
            if up >= count:
                break
            time.sleep(0.5)
        return up
