"""Rollout 4's canary workload: serve the version the local operator asks for.

With ``CANARIA_CANARY_HANDSHAKE=true`` the local operator does not make a registered
version the canary at once (``monitoring.operator.retraining.HandshakeWorkload``): it
writes the tag to ``<rollout>.canary-wanted`` beside the rollout file and waits for
``<rollout>.canary-serving``. ``CanaryHandshake`` is the other side, what a Deployment
rollout is in a cluster: ``bentoml serve`` for the tag, the router's canary upstream
pointed at it (the router reloads its config file), and, once the router routes there,
the tag written to ``<rollout>.canary-serving``. So no request reaches a canary that
still serves the old model.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from canaria.demo.serving import READY_PATH, start_classic
from canaria.demo.settings import DemoSettings
from canaria.demo.stack import ComponentError, Process, Stack

RELOAD_TIMEOUT = 15.0


def handshake_paths(folder: Path, name: str) -> tuple[Path, Path]:
    """(wanted, serving) for rollout ``name``, as the operator names them (pure)."""
    return folder / f"{name}.canary-wanted", folder / f"{name}.canary-serving"


def with_canary(config: Mapping[str, Any], url: str) -> dict[str, Any]:
    """``config`` (a router config) with its canary upstream at ``url`` (pure)."""
    upstreams = dict(config.get("upstreams") or {})
    canary = dict(upstreams.get("canary") or {})
    upstreams["canary"] = {**canary, "url": url}
    return {**config, "upstreams": upstreams}


class CanaryHandshake:
    """Answers the operator's ``canary-wanted`` for rollout ``name``."""

    def __init__(
        self,
        stack: Stack,
        settings: DemoSettings,
        *,
        name: str,
        folder: Path,
        router: Process,
        router_config: Path,
        token: str,
    ) -> None:
        self.stack = stack
        self.settings = settings
        self.name = name
        self.wanted, self.serving = handshake_paths(folder, name)
        self.router = router
        self.router_config = router_config
        self.token = token
        self.server: Process | None = None
        self.tag: str | None = None
        for path in (self.wanted, self.serving):
            path.unlink(missing_ok=True)  # a previous run's answer is no answer

    def asked(self) -> str | None:
        """The tag the operator wants served, if it asked (and it is not served yet)."""
        try:
            tag = self.wanted.read_text().strip()
        except OSError:
            return None
        return tag if tag and tag != self.tag else None

    def serve(self, tag: str) -> Process:
        """Start ``bentoml serve`` for ``tag``, route the canary there, then answer."""
        server = start_classic(self.stack, self.settings, name="classic-retrained", tag=tag)
        self.stack.wait_ready(server, READY_PATH, timeout=self.settings.startup_timeout)
        config = yaml.safe_load(self.router_config.read_text())
        temporary = self.router_config.with_name(f".{self.router_config.name}.tmp")
        temporary.write_text(yaml.safe_dump(with_canary(config, server.base_url)))
        temporary.replace(self.router_config)
        self._wait_routed(server.base_url)
        self.serving.write_text(tag + "\n")
        self.server, self.tag = server, tag
        return server

    def _wait_routed(self, url: str) -> None:
        """Until the router's effective config (``GET /admin/config``) has ``url``."""
        deadline = time.monotonic() + RELOAD_TIMEOUT
        headers = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(
                    f"{self.router.base_url}/admin/config", headers=headers, timeout=5.0
                )
                if answer.status_code == 200 and url in answer.text:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise ComponentError(
            self.router.name, f"did not route the canary to {url} in {RELOAD_TIMEOUT:.0f}s"
        )
