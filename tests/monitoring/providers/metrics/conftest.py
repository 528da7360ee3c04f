"""Real exporter processes (router, stable and canary model servers) for the metrics tests."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from canaria.testing.running import RunningProcess, free_port, running

EXPORTER = [sys.executable, "-m", "tests.monitoring.providers.metrics.exporter"]


@dataclass(frozen=True)
class Exporters:
    router: RunningProcess
    stable: RunningProcess
    canary: RunningProcess

    def metrics_url(self, process: RunningProcess) -> str:
        return f"{process.base_url}/metrics"


@pytest.fixture(scope="package")
def exporters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporters]:
    logs = tmp_path_factory.mktemp("exporters")
    with contextlib.ExitStack() as stack:
        processes = {}
        for role in ("router", "stable", "canary"):
            port = free_port()
            processes[role] = stack.enter_context(
                running(
                    [*EXPORTER, "--role", role, "--port", str(port)],
                    log_path=Path(logs) / f"{role}.log",
                    port=port,
                    timeout=30,
                )
            )
        yield Exporters(**processes)
