"""The real canaria router (``canaria router``) on a free loopback port: the one way the
tests, the benchmarks and the demo start it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from canaria.testing.running import RunningProcess, free_port, running

TOKEN_ENV = "CANARIA_ROUTER_ADMIN_TOKEN"  # nosec B105 # the name of an environment variable, not its value


def router_command(config_path: Path, *, port: int, log_level: str | None = None) -> list[str]:
    """The command line of a router serving ``config_path`` on ``127.0.0.1:port`` (run
    with this interpreter, so no console script on ``PATH`` is needed)."""
    args = [sys.executable, "-m", "canaria.cli", "router", "--config", str(config_path)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    return [*args, "--log-level", log_level] if log_level else args


def write_router_config(config: Mapping[str, Any], path: Path) -> Path:
    """Write ``config`` as the router's YAML file at ``path``; returns ``path``."""
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    return path


@contextlib.contextmanager
def running_router(
    config: Mapping[str, Any],
    *,
    workdir: Path,
    token: str | None,
    name: str = "router",
    ready_path: str = "/healthz",
    log_level: str = "WARNING",
    timeout: float = 60,
) -> Iterator[RunningProcess]:
    """``canaria router`` serving ``config`` (written to ``workdir/NAME.yaml``, log in
    ``workdir/NAME.log``), with ``token`` as its admin token (none when ``None``) and its
    admin API on the same port unless ``config``'s ``admin`` says otherwise; ready once
    ``ready_path`` answers 200, stopped by PID on exit."""
    # The callers use the router's one URL for traffic and the admin API alike: keep the
    # admin API on the public listener (explicitly; the router's default is a separate
    # loopback listener) unless the config says where it goes.
    admin = {"listen": "public", **dict(config.get("admin") or {})}
    config_path = write_router_config({**config, "admin": admin}, workdir / f"{name}.yaml")
    port = free_port()
    with running(
        router_command(config_path, port=port, log_level=log_level),
        log_path=workdir / f"{name}.log",
        port=port,
        ready_path=ready_path,
        env={TOKEN_ENV: token} if token is not None else None,
        timeout=timeout,
    ) as process:
        yield process


def admin_get(router: RunningProcess, path: str, *, token: str) -> Any:
    """``GET`` an admin path of ``router`` and return its JSON."""
    response = httpx.get(
        f"{router.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()
