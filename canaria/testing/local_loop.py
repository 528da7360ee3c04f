"""The local rollout loop's moving parts, shared by the integration tests and the
rollback benchmark: steady traffic, the two checks they judge by, the local operator and
``wait_until`` (``canaria.testing.wait``) says when something happened.

The ModelRollout itself is ``monitoring.operator.local_rollout.local_rollout``; the router
is ``canaria.testing.router.running_router``; the model servers are ``canaria.testing.fake_model``.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from canaria.testing.router import TOKEN_ENV
from canaria.testing.running import RunningProcess, running
from services.router.routing import sticky_bucket

SPREAD = 5
"""``spread_keys``: any this many consecutive keys hold one from each 100/SPREAD % band."""


def router_checks(*, window: str, max_latency_p99: float) -> list[dict[str, Any]]:
    """Success rate >= 0.99 and latency p99 <= ``max_latency_p99`` seconds, over ``window``."""
    return [
        {"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99, "window": window},
        {"name": "latency-p99", "builtin": "latencyP99", "max": max_latency_p99, "window": window},
    ]


def spread_keys() -> list[str]:
    """100 sticky keys, one per 1 % bucket (``sticky_bucket``), ordered so that any
    ``SPREAD`` consecutive ones cover every 20 % band: sent in turn through a router that
    splits by that key, a canary at weight w >= 20 % gets at least one request in every
    five, in place of a random share that can be none in a short window (pure)."""
    by_bucket: dict[int, str] = {}
    for n in itertools.count():
        key = f"user-{n}"
        by_bucket.setdefault(int(sticky_bucket(key)), key)
        if len(by_bucket) == 100:
            break
    band = 100 // SPREAD
    return [by_bucket[(i % SPREAD) * band + i // SPREAD] for i in range(100)]


@contextlib.contextmanager
def steady_traffic(
    url: str,
    body: Mapping[str, Any],
    *,
    workers: int,
    pause: float,
    sticky_header: str | None = None,
) -> Iterator[None]:
    """``workers`` threads POST ``body`` to ``url/predict`` back to back (``pause`` apart),
    so every analysis window has samples; errors are the point, so they are not raised.
    ``sticky_header``: send ``spread_keys`` in turn in this header (a router configured
    with ``sticky: {header: ...}`` then splits by weight deterministically, not at random).
    """
    stop = threading.Event()
    keys = itertools.cycle(spread_keys()) if sticky_header else None
    lock = threading.Lock()

    def headers() -> dict[str, str]:
        if keys is None or sticky_header is None:
            return {}
        with lock:
            return {sticky_header: next(keys)}

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    client.post(f"{url}/predict", json=dict(body), headers=headers())
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
