"""A lean HTTP/1.1 client for the upstreams: pooled keep-alive connections, httptools parsing.

Why not aiohttp's client: the same minimal proxy in front of a trivial upstream served
2-3x more requests per second with this client (4,900-5,500 vs 1,600-2,800 at 16
connections, same run) and halved the added p50 at one connection; the proxy spends most
of its time in its HTTP client. It does only what the router needs: one request per
connection at a time, the whole request in one write, the answer's body relayed chunk by
chunk with flow control (``connection.py``), and no retries except what RFC 9112 §9.3.1
allows (an idempotent request whose reused connection closed before any byte of an answer).

Errors are ``UpstreamError`` with a short ``reason``: connect, timeout, disconnect, protocol.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .connection import UpstreamConnection, UpstreamError, UpstreamFailure

__all__ = [
    "IDEMPOTENT",
    "Origin",
    "UpstreamError",
    "UpstreamFailure",
    "UpstreamPool",
    "UpstreamResponse",
    "parse_origin",
    "serialize",
]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})


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


def serialize(
    origin: Origin,
    method: str,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
) -> bytes:
    """The request's bytes (pure). ``headers`` must not hold host or framing headers."""
    parts = [
        method.encode("ascii"),
        b" ",
        origin.base_path,
        target,
        b" HTTP/1.1\r\nhost: ",
        origin.host_header,
        b"\r\n",
    ]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    if body or method not in _NO_BODY_METHODS:
        parts.append(b"content-length: %d\r\n" % len(body))
    parts += (b"\r\n", body)
    return b"".join(parts)


class UpstreamResponse:
    """An answer whose head has arrived; read its body, then release it (or use ``async with``)."""

    def __init__(self, pool: UpstreamPool, origin: Origin, connection: UpstreamConnection) -> None:
        self._pool = pool
        self._origin = origin
        self._connection = connection
        self.status = connection.status
        self.raw_headers = connection.headers
        self.content_length: int | None = None
        self.content_type = ""
        for name, value in self.raw_headers:
            lowered = name.lower()
            if lowered == b"content-length" and value.strip().isdigit():
                self.content_length = int(value)
            elif lowered == b"content-type":
                self.content_type = value.decode("latin-1")

    async def chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._connection.next_chunk()) is not None:
            yield chunk

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; with ``limit``, stops once more than ``limit`` bytes arrived."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
        return b"".join(parts)

    def release(self) -> None:
        """Give the connection back for reuse when the answer was read whole, else close it."""
        connection = self._connection
        if connection.reusable:
            self._pool.put(self._origin, connection)
        else:
            connection.close()

    async def __aenter__(self) -> UpstreamResponse:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


class UpstreamPool:
    """Keep-alive connections per origin; idle ones are dropped after ``idle_seconds``.

    ``idle_seconds`` stays below the usual upstream keep-alive (uvicorn: 5 s), so that a
    request is not sent on a connection the upstream is about to close.
    """

    def __init__(self, *, idle_seconds: float = 3.0, max_idle_per_origin: int = 256) -> None:
        self.idle_seconds = idle_seconds
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[Origin, deque[UpstreamConnection]] = {}
        self._tls: ssl.SSLContext | None = None

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
        """Send one request; returns once the answer's status and headers arrived.

        ``timeout`` bounds the connect, the wait for the head and each gap in the body.
        """
        origin = parse_origin(url)
        data = serialize(origin, method, target, headers, body)
        for attempt in (1, 2):
            connection, reused = await self._acquire(origin, timeout)
            connection.send(data, head_only=method == "HEAD", timeout=timeout)
            try:
                await connection.wait_head()
            except UpstreamError as error:
                connection.close()
                stale = (
                    reused
                    and error.reason is UpstreamFailure.DISCONNECT
                    and not connection.received_any
                )
                if attempt == 1 and stale and method in IDEMPOTENT:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            return UpstreamResponse(self, origin, connection)
        raise AssertionError("unreachable")

    async def _acquire(self, origin: Origin, timeout: float) -> tuple[UpstreamConnection, bool]:
        loop = asyncio.get_running_loop()
        idle = self._idle.get(origin)
        now = loop.time()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self.idle_seconds:
                return connection, True
            connection.close()
        kwargs: dict[str, Any] = {}
        if origin.tls:
            self._tls = self._tls or ssl.create_default_context()
            kwargs = {"ssl": self._tls, "server_hostname": origin.host}
        try:
            async with asyncio.timeout(timeout):
                _, protocol = await loop.create_connection(
                    lambda: UpstreamConnection(loop), origin.host, origin.port, **kwargs
                )
        except TimeoutError:
            raise UpstreamError(
                UpstreamFailure.TIMEOUT, f"connect took over {timeout:g}s"
            ) from None
        except OSError as error:
            raise UpstreamError(UpstreamFailure.CONNECT, error.strerror or str(error)) from None
        return protocol, False

    def put(self, origin: Origin, connection: UpstreamConnection) -> None:
        connection.idle_since = asyncio.get_running_loop().time()
        idle = self._idle.setdefault(origin, deque())
        idle.append(connection)
        if len(idle) > self.max_idle_per_origin:
            idle.popleft().close()

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
