"""What every upstream HTTP client of the router shares: the interface, the errors, the cap.

``UpstreamPool`` is the interface the proxy and the shadow use; ``pools.build_pool`` picks
an implementation by name. Every implementation raises ``UpstreamError`` with one
``UpstreamFailure`` reason for the same failure, and bounds each origin (scheme, host,
port) to ``max_connections`` exchanges at once with ``Slots``: a request beyond the cap
waits for a free connection up to its timeout, then fails with ``pool_full``.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})
DEFAULT_MAX_CONNECTIONS = 64
# Idle keep-alive connections are dropped after this (seconds): below the usual upstream
# keep-alive (uvicorn: 5 s), so that a request is not sent on a connection the upstream
# is about to close.
IDLE_SECONDS = 3.0


class UpstreamFailure(StrEnum):
    """Why an upstream exchange failed: the ``reason`` label of the error metrics."""

    CONNECT = "connect"  # refused, unreachable, unknown host: 503
    TIMEOUT = "timeout"  # connect, answer head or a gap in the body too slow: 504
    DISCONNECT = "disconnect"  # the upstream closed the connection mid-exchange: 502
    PROTOCOL = "protocol"  # not a valid HTTP/1.1 answer: 502
    TLS = "tls"  # TLS handshake or certificate verification failed: 502
    POOL_FULL = "pool_full"  # no free connection within the timeout (the cap): 503


class UpstreamError(Exception):
    """An upstream exchange that failed; ``reason`` is what the metrics and answers name,
    ``detail`` a short human explanation (no request data)."""

    def __init__(self, reason: UpstreamFailure, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Origin:
    host: str
    port: int
    tls: bool
    base_path: bytes
    host_header: bytes


@functools.lru_cache(maxsize=256)
def parse_origin(url: str) -> Origin:
    """Where ``url`` points (pure; URLs are validated by the config)."""
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if tls else 80)
    default_port = port == (443 if tls else 80)
    host_header = host if default_port else f"{host}:{port}"
    return Origin(host, port, tls, parts.path.rstrip("/").encode(), host_header.encode())


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verifies upstream certificates against ``ca_bundle`` (PEM), or the system CAs when
    ``None``. ``OSError``/``ssl.SSLError`` when the bundle cannot be read or parsed."""
    return ssl.create_default_context(cafile=None if ca_bundle is None else str(ca_bundle))


class Slots:
    """At most ``limit`` exchanges at once per origin; the next ones wait, in order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._semaphores: dict[Origin, asyncio.Semaphore] = {}

    async def acquire(self, origin: Origin, timeout: float) -> None:
        """Take a slot within ``timeout`` seconds, else ``UpstreamError(POOL_FULL)``."""
        semaphore = self._semaphores.get(origin)
        if semaphore is None:
            semaphore = self._semaphores[origin] = asyncio.Semaphore(self.limit)
        if not semaphore.locked():
            await semaphore.acquire()  # returns at once
            return
        try:
            async with asyncio.timeout(timeout):
                await semaphore.acquire()
        except TimeoutError:
            raise UpstreamError(
                UpstreamFailure.POOL_FULL,
                f"no free connection within {timeout:g}s "
                f"(max_connections_per_upstream: {self.limit})",
            ) from None

    def release(self, origin: Origin) -> None:
        self._semaphores[origin].release()


class UpstreamResponse(Protocol):
    """An answer whose head has arrived; read its body, then ``release`` it (or use
    ``async with``), which frees its connection slot exactly once."""

    @property
    def status(self) -> int: ...

    @property
    def raw_headers(self) -> Sequence[tuple[bytes, bytes]]: ...

    @property
    def content_length(self) -> int | None: ...

    @property
    def content_type(self) -> str: ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body piece by piece as it arrives; ``UpstreamError`` when it breaks off."""
        ...

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; with ``limit``, stops once more than ``limit`` bytes arrived."""
        ...

    def release(self) -> None: ...

    async def __aenter__(self) -> UpstreamResponse: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class UpstreamPool(Protocol):
    """Pooled keep-alive connections to the upstreams, at most ``max_connections`` per
    origin at once."""

    async def request(
        self,
        url: str,
        *,
        method: str,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout: float,
    ) -> UpstreamResponse:
        """Send one request to ``url`` (its path is a prefix of ``target``, the path and
        query as the client sent them); returns once the answer's status and headers
        arrived. ``headers`` hold no host or framing headers. ``timeout`` (seconds) bounds
        the wait for a slot, the connect, the wait for the head and each gap in the body.
        Raises ``UpstreamError``; only an idempotent request whose reused connection
        closed before any byte of an answer is sent again (RFC 9112 §9.3.1)."""
        ...

    async def close(self) -> None:
        """Close every connection; the pool is not used afterwards."""
        ...
