"""Real upstream servers and routers on loopback ports, started in parallel, stopped by PID."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from canaria.testing.metrics import declared_value, metric_samples, metric_value, series_value
from canaria.testing.router import router_command, write_router_config
from canaria.testing.running import RunningProcess, free_port, start_process, wait_http

ADMIN_TOKEN = "router-test-token"
# The router's upstream HTTP clients: the tests of the data path run with each.
CLIENTS = ("custom", "aiohttp")

# The answers of each test upstream: "canary" agrees with "stable" (same class, close
# probability, a paraphrase), "different" disagrees with both.
UPSTREAMS: dict[str, dict[str, str]] = {
    "stable": {},
    "canary": {
        "UPSTREAM_PROBABILITY": "0.88",
        "UPSTREAM_TEXT": "A cat is sitting on a mat.",
    },
    "different": {
        "UPSTREAM_CLASS": "no",
        "UPSTREAM_PROBABILITY": "0.7",
        "UPSTREAM_TEXT": "Stock markets fell sharply today.",
    },
    "slow": {"UPSTREAM_DELAY": "1.5"},
    "failing": {"UPSTREAM_STATUS": "500"},
}


@dataclass
class Router:
    process: RunningProcess
    config_path: Path
    admin_port: int | None = None  # None: the admin API is on the public listener

    @property
    def url(self) -> str:
        return self.process.base_url

    @property
    def admin_url(self) -> str:
        """Where the admin API and the router's own endpoints answer."""
        if self.admin_port is None:
            return self.url
        return f"http://127.0.0.1:{self.admin_port}"

    def log(self) -> str:
        return self.process.log()

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=10).text

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels``, scraped
        now; 0.0 when none exists (for a "before" value, or a poll that waits for it)."""
        return metric_value(metric_samples(self.metrics()), name, **labels)

    def series(self, name: str, **labels: str) -> float:
        """Like ``metric``, but ``MissingSeriesError`` when no such series exists: what an
        assertion of a value uses, so that a renamed metric cannot read as 0."""
        return series_value(metric_samples(self.metrics()), name, **labels)

    def declared(self, name: str, **labels: str) -> float:
        """Like ``metric``, but ``MissingSeriesError`` unless the router declares the
        metric: for asserting a 0 whose labelled series may not exist yet."""
        return declared_value(self.metrics(), name, **labels)

    def write_config(self, config: Mapping[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(dict(config)))


def with_admin_port(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with its admin listener on a free loopback port (unless it says where)."""
    admin = dict(config.get("admin") or {})
    if admin.get("listen") != "public":
        admin.setdefault("port", free_port())
    return {**config, "admin": admin}


def admin_headers(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _start_all(
    commands: Mapping[str, tuple[list[str], int, dict[str, str], str]],
    log_dir: Path,
    processes: list[RunningProcess],
) -> dict[str, RunningProcess]:
    """Start every process first and then wait for each: startups overlap."""
    started: dict[str, RunningProcess] = {}
    for name, (args, port, env, _) in commands.items():
        started[name] = start_process(args, log_path=log_dir / f"{name}.log", port=port, env=env)
        processes.append(started[name])
    for name, (_, _, _, ready) in commands.items():
        wait_http(started[name], ready, timeout=90)
    return started


@pytest.fixture(scope="session")
def processes() -> Iterator[list[RunningProcess]]:
    """Every process the router tests start; all stopped by PID at the end."""
    from canaria.testing.running import stop_process

    running: list[RunningProcess] = []
    yield running
    for process in running:
        with contextlib.suppress(Exception):
            stop_process(process)


@pytest.fixture(scope="session")
def upstreams(
    processes: list[RunningProcess], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Base URL of each test upstream by name, ``hangup`` (closes every connection without
    an answer) and ``dead`` (a port nothing listens on)."""
    log_dir = tmp_path_factory.mktemp("upstreams")
    commands = {}
    for name, env in UPSTREAMS.items():
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.services.router.upstreams:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        commands[name] = (args, port, {"UPSTREAM_NAME": name, **env}, "/ready")
    port = free_port()
    hangup = [sys.executable, "-m", "tests.services.router.hangup", str(port)]
    commands["hangup"] = (hangup, port, {}, "/stats")
    started = _start_all(commands, log_dir, processes)
    urls = {name: process.base_url for name, process in started.items()}
    urls["dead"] = f"http://127.0.0.1:{free_port()}"
    return urls


@pytest.fixture(scope="session")
def start_routers(
    processes: list[RunningProcess], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., dict[str, Router]]:
    """Start one ``canaria router`` per config, all at once; returns them by name. With
    ``client``, every router talks to its upstreams with that HTTP client."""

    def start(
        configs: Mapping[str, Mapping[str, Any]], client: str | None = None
    ) -> dict[str, Router]:
        work = tmp_path_factory.mktemp("routers")
        commands = {}
        paths = {}
        admin_ports: dict[str, int | None] = {}
        for name, given in configs.items():
            config = with_admin_port(given)
            if client is not None:
                config["upstream_client"] = {"implementation": client}
            admin = config["admin"]
            admin_ports[name] = None if admin.get("listen") == "public" else admin["port"]
            path = paths[name] = write_router_config(config, work / f"{name}.yaml")
            port = free_port()
            args = router_command(path, port=port)
            commands[name] = (args, port, {"CANARIA_ROUTER_ADMIN_TOKEN": ADMIN_TOKEN}, "/readyz")
        started = _start_all(commands, work, processes)
        return {name: Router(started[name], paths[name], admin_ports[name]) for name in configs}

    return start
