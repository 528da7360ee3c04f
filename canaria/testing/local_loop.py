"""The local rollout loop's moving parts, shared by the integration tests and the
rollback benchmark: steady traffic, the two checks they judge by, the local operator and
``wait_until`` (``canaria.testing.wait``) says when something happened.

The ModelRollout itself is ``monitoring.operator.local_rollout.local_rollout``; the router
is ``canaria.testing.router.running_router``; the model servers are ``canaria.testing.fake_model``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from canaria.testing.router import TOKEN_ENV
from canaria.testing.running import RunningProcess, running


def router_checks(*, window: str, max_latency_p99: float) -> list[dict[str, Any]]:
    """Success rate >= 0.99 and latency p99 <= ``max_latency_p99`` seconds, over ``window``."""
    return [
        {"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99, "window": window},
        {"name": "latency-p99", "builtin": "latencyP99", "max": max_latency_p99, "window": window},
    ]


@contextlib.contextmanager
def steady_traffic(
    url: str, body: Mapping[str, Any], *, workers: int, pause: float
) -> Iterator[None]:
    """``workers`` threads POST ``body`` to ``url/predict`` back to back (``pause`` apart),
    so every analysis window has samples; errors are the point, so they are not raised."""
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    client.post(f"{url}/predict", json=dict(body))
                time.sleep(pause)

    threads = [threading.Thread(target=send, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


@contextlib.contextmanager
def local_operator(
    rollout_path: Path,
    *,
    log_path: Path,
    token: str,
    log_level: str = "INFO",
    state_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningProcess]:
    """``canaria operator --local rollout_path`` with the router's admin token (and ``env``
    besides, e.g. a notification's ``urlEnv``); stopped by PID. State in ``state_dir``
    (default: ``$CANARIA_STATE_DIR`` and its fallbacks)."""
    args = ["canaria", "operator", "--local", str(rollout_path), "--log-level", log_level]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    variables = {**(env or {}), TOKEN_ENV: token}
    with running(args, log_path=log_path, ready_path=None, env=variables) as process:
        yield process
