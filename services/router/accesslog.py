"""The router's access log: one JSON line per sampled request, through the one redaction.

Each line holds the request id, method, path (never the query string, which may carry
personal data), variant, upstream status (``null`` when none came back) and duration in
milliseconds, passed through ``canaria.contracts.logs.redact`` with the config's ``never_log`` (so
an e-mail in a path or a request id is masked like everywhere else). The client address
is not logged.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from canaria.contracts.logs import get_logger, redact
from canaria.contracts.metrics import Variant

from .config import RouterConfig, UpstreamSettings

log = get_logger("router.access")


@dataclass(frozen=True)
class Exchange:
    """What one forwarded request was: for its metrics and its access-log line."""

    request_id: str
    method: str
    path: str
    variant: Variant
    upstream: UpstreamSettings
    started: float  # time.perf_counter() when it arrived


class AccessLog:
    def __init__(self, *, draw: Callable[[], float] = random.random) -> None:
        self._draw = draw

    def wanted(self, config: RouterConfig, status: int | None) -> bool:
        """Whether this request gets a line: an error (if configured) or a sampled one."""
        settings = config.access_log
        if settings.always_log_errors and (status is None or status >= 500):
            return True
        return settings.sample_rate > 0 and self._draw() < settings.sample_rate

    def write(
        self, config: RouterConfig, exchange: Exchange, status: int | None, seconds: float
    ) -> None:
        if not self.wanted(config, status):
            return
        record = {
            "request_id": exchange.request_id,
            "method": exchange.method,
            "path": exchange.path,
            "variant": exchange.variant.value,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        log.info("request", extra=redact(record, config.never_log))
