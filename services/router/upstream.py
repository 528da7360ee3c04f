"""The custom upstream client: pooled keep-alive HTTP/1.1 connections, httptools parsing.

One request per connection at a time, the whole request in one write, the answer's body
relayed chunk by chunk with flow control (``connection.py``), and no retries except what
RFC 9112 §9.3.1 allows (an idempotent request whose reused connection closed before any
byte of an answer). Implements ``client.UpstreamPool``; errors are ``UpstreamError``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

from .client import (
    IDEMPOTENT,
    IDLE_SECONDS,
    NO_BODY_METHODS,
    Origin,
    Slots,
    UpstreamError,
    UpstreamFailure,
    parse_origin,
)
from .connection import UpstreamConnection

__all__ = ["CustomPool", "CustomResponse", "serialize"]


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
    if body or method not in NO_BODY_METHODS:
        parts.append(b"content-length: %d\r\n" % len(body))
    parts += (b"\r\n", body)
    return b"".join(parts)


class CustomResponse:
    """An answer whose head has arrived (``client.UpstreamResponse``)."""

    def __init__(self, pool: CustomPool, origin: Origin, connection: UpstreamConnection) -> None:
        self._pool = pool
        self._origin = origin
        self._connection: UpstreamConnection | None = connection
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
        connection = self._connection
        if connection is None:
            raise RuntimeError("chunks() after release()")
        while (chunk := await connection.next_chunk()) is not None:
            yield chunk

    async def read(self, limit: int | None = None) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
        return b"".join(parts)

    def release(self) -> None:
        """Give the connection back for reuse when the answer was read whole, else close
        it; then free its slot. A second call does nothing."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if connection.reusable:
            self._pool.put(self._origin, connection)
        else:
            connection.close()
        self._pool.slots.release(self._origin)

    async def __aenter__(self) -> CustomResponse:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


class CustomPool:
    """``client.UpstreamPool`` on httptools: keep-alive connections per origin, idle ones
    dropped after ``idle_seconds``; at most ``max_connections`` open per origin (an idle
    connection counts while it waits for reuse, within that cap). ``tls`` verifies https
    upstreams (default: the system CAs)."""

    def __init__(
        self,
        *,
        max_connections: int,
        tls: ssl.SSLContext | None = None,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.slots = Slots(max_connections)
        self._idle: dict[Origin, deque[UpstreamConnection]] = {}
        self._tls = tls

    async def request(
        self,
        url: str,
        *,
        method: str,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout: float,
    ) -> CustomResponse:
        """See ``client.UpstreamPool.request``."""
        origin = parse_origin(url)
        data = serialize(origin, method, target, headers, body)
        await self.slots.acquire(origin, timeout)
        try:
            return await self._exchange(origin, method, data, timeout)
        except BaseException:
            self.slots.release(origin)
            raise

    async def _exchange(
        self, origin: Origin, method: str, data: bytes, timeout: float
    ) -> CustomResponse:
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
            return CustomResponse(self, origin, connection)
        raise RuntimeError("unreachable: the second attempt returns or raises")

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
        except ssl.SSLError as error:
            raise UpstreamError(UpstreamFailure.TLS, str(error)) from None
        except OSError as error:
            raise UpstreamError(UpstreamFailure.CONNECT, error.strerror or str(error)) from None
        return protocol, False

    def put(self, origin: Origin, connection: UpstreamConnection) -> None:
        """Keep ``connection`` for reuse (its slot is freed by the caller)."""
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(origin, deque()).append(connection)

    async def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
