"""The router's own endpoints: ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from .metrics import CONTENT_TYPE, RouterMetrics
from .proxy import Send, send_json

OWN_PATHS = ("/healthz", "/readyz", "/metrics")


async def own_endpoint(path: str, send: Send, *, metrics: RouterMetrics, ready: bool) -> None:
    """Answer one of ``OWN_PATHS``: ``/metrics`` the Prometheus text exposition (200),
    ``/healthz`` ``{"status": "ok"}`` (200), ``/readyz`` ``{"status": "ready"}`` (200) once
    started, else ``{"status": "starting"}`` (503)."""
    if path == "/metrics":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", CONTENT_TYPE.encode())],
            }
        )
        await send({"type": "http.response.body", "body": metrics.exposition()})
    elif path == "/healthz":
        await send_json(send, 200, {"status": "ok"})
    elif ready:
        await send_json(send, 200, {"status": "ready"})
    else:
        await send_json(send, 503, {"status": "starting"})
