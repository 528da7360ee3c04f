"""A tiny model server whose errors and latency a test controls, for rollout runs.

Any ``POST``/``GET`` (but ``/control``) answers ``{"prediction": 1, "variant": NAME}``, or
an ``error_status`` (500 by default) with probability ``error_rate``, after sleeping
``delay_seconds``. ``PUT /control`` with ``{"error_rate": 1.0, "delay_seconds": 0.4}`` (or
``"error_status": 503``) changes that; ``GET /control`` returns
the settings and ``first_bad_at`` (wall-clock seconds of the first bad answer since the last
change), which is when a rollout's "first bad sample" happened.

Run: ``python -m canaria.testing.fake_model --port N --name canary``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from canaria.testing.running import RunningProcess

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class FakeModel:
    def __init__(self, name: str) -> None:
        self.name = name
        self.error_rate = 0.0
        self.delay_seconds = 0.0
        self.error_status = 500
        self.first_bad_at: float | None = None
        self.requests = 0

    def settings(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "error_rate": self.error_rate,
            "delay_seconds": self.delay_seconds,
            "error_status": self.error_status,
            "first_bad_at": self.first_bad_at,
            "requests": self.requests,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/control":
            if scope["method"] == "PUT":
                update = json.loads(body or b"{}")
                self.error_rate = float(update.get("error_rate", self.error_rate))
                self.delay_seconds = float(update.get("delay_seconds", self.delay_seconds))
                self.error_status = int(update.get("error_status", self.error_status))
                self.first_bad_at = None
            await _answer(send, 200, self.settings())
            return
        self.requests += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        failed = random.random() < self.error_rate  # nosec B311 # test double's simulated error rate, not security
        if (failed or self.delay_seconds) and self.first_bad_at is None:
            self.first_bad_at = time.time()  # the first bad answer: the first bad sample
        if failed:
            failure = {"error": "injected failure", "variant": self.name}
            await _answer(send, self.error_status, failure)
        else:
            await _answer(send, 200, {"prediction": 1, "variant": self.name})


async def _answer(send: Send, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def set_behaviour(url: str, **settings: float) -> dict[str, Any]:
    """Change a running fake model's ``error_rate`` / ``delay_seconds``."""
    import httpx

    response = httpx.put(f"{url}/control", json=settings, timeout=5)
    response.raise_for_status()
    return dict(response.json())


def behaviour(url: str) -> dict[str, Any]:
    """A running fake model's settings, ``first_bad_at`` and request count."""
    import httpx

    response = httpx.get(f"{url}/control", timeout=5)
    response.raise_for_status()
    return dict(response.json())


@contextmanager
def serving(name: str, *, workdir: Path) -> Iterator[RunningProcess]:
    """A fake model called ``name`` on a free port, log in ``workdir``; stopped by PID."""
    from canaria.testing.running import free_port, running

    port = free_port()
    args = [sys.executable, "-m", "canaria.testing.fake_model", "--port", str(port), "--name", name]
    with running(
        args, log_path=workdir / f"{name}.log", port=port, ready_path="/control"
    ) as process:
        yield process


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="model")
    args = parser.parse_args()
    uvicorn.run(FakeModel(args.name), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
