"""Step 5: a real Prometheus, where Debian's ``prometheus`` is installed, scraping the demo.

The test kit's Prometheus (``canaria.testing.prometheus``: the same command line, config
and API the tests use), started under the demo's process stack: a free loopback port, its
TSDB in the output directory. Targets change as routers come and go (``set_targets``:
config rewrite + SIGHUP). Without the binary the step is skipped and says why.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from canaria.demo.results import PrometheusAnswer
from canaria.demo.stack import ComponentError, Process, Stack
from canaria.testing.processes import free_port
from canaria.testing.prometheus import (
    SCRAPE_SECONDS,
    PrometheusApi,
    PrometheusError,
    ScrapeTarget,
    prometheus_command,
    scrape_config,
)


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
        port = free_port()
        args = prometheus_command(scrape_config(()), workdir=workdir, port=port, binary=binary)
        self.process: Process = stack.start("prometheus", args, port=port)
        stack.wait_ready(self.process, "/-/ready", timeout=timeout)
        self.api = PrometheusApi(self.process.base_url, workdir, self.process.pid)

    @property
    def url(self) -> str:
        return self.process.base_url

    def set_targets(self, targets: Sequence[ScrapeTarget], *, timeout: float = 15.0) -> int:
        """Scrape exactly ``targets`` from now on; wait, bounded, until they have all been
        scraped once. Returns how many are up."""
        self.api.set_targets(targets)
        try:
            return self.api.wait_for_targets(len(targets), timeout=timeout, poll=0.5)
        except PrometheusError as error:
            raise ComponentError("prometheus", str(error)) from None

    def last_scrape(self) -> None:
        """Wait long enough for one more scrape (before a target is stopped)."""
        time.sleep(2 * SCRAPE_SECONDS)

    def query(self, promql: str) -> PrometheusAnswer:
        try:
            result = self.api.vector(promql)
        except PrometheusError as error:
            raise ComponentError("prometheus", str(error)) from None
        return PrometheusAnswer(query=promql, result=format_vector(result))
