"""The real canaria router (``canaria router``) on a free loopback port, for provider and
operator tests that move traffic through its admin API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.processes import RunningProcess, free_port, running

TOKEN_ENV = "CANARIA_ROUTER_ADMIN_TOKEN"


@contextlib.contextmanager
def running_router(
    config: Mapping[str, Any], *, workdir: Path, token: str
) -> Iterator[RunningProcess]:
    """``canaria router`` serving ``config`` (written to ``workdir/router.yaml``), with
    ``token`` as its admin token and its admin API on the same port unless ``config``'s
    ``admin`` says otherwise; stopped by PID on exit."""
    config_path = workdir / "router.yaml"
    # The callers use the router's one URL for traffic and the admin API alike: keep the
    # admin API on the public listener (explicitly; the router's default is a separate
    # loopback listener) unless the config says where it goes.
    admin = {"listen": "public", **dict(config.get("admin") or {})}
    config_path.write_text(yaml.safe_dump({**config, "admin": admin}))
    port = free_port()
    args = ["canaria", "router", "--config", str(config_path)]
    args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "WARNING"]
    with running(
        args,
        log_path=workdir / "router.log",
        port=port,
        ready_path="/healthz",
        env={TOKEN_ENV: token},
        timeout=60,
    ) as process:
        yield process


def admin_get(router: RunningProcess, path: str, *, token: str) -> Any:
    """``GET`` an admin path of ``router`` and return its JSON."""
    response = httpx.get(
        f"{router.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()
