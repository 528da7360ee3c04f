"""One keep-alive HTTP/1.1 connection to an upstream, its answer parsed by httptools.

An ``asyncio.Protocol``: bytes arrive in ``data_received`` and the parser's callbacks
fill in the status, headers and body chunks of the exchange in progress. The body is
handed out chunk by chunk (``next_chunk``) with flow control: reading from the upstream
pauses while more than ``HIGH_WATER`` bytes wait for a slow client. ``timeout`` bounds
each wait for the upstream (the head, and every gap between two pieces of the body).

Errors are ``client.UpstreamError``: timeout, disconnect, protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from typing import cast

import httptools

from .client import UpstreamError, UpstreamFailure

# Pause reading from the upstream while this much of its answer waits for the client.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a failed future's exception as seen (nobody may be waiting any more)."""
    if not future.cancelled():
        future.exception()


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection and the exchange in progress on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._head: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._clear(head_only=False, timeout=0.0)

    def _clear(self, *, head_only: bool, timeout: float) -> None:
        """Forget the previous exchange."""
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.received_any = False
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._error: UpstreamError | None = None
        self._informational = False
        self._until_close = False
        self._head_only = head_only
        self._paused = False
        self._timeout = timeout

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        self._arm_timer()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(UpstreamError(UpstreamFailure.PROTOCOL, str(error)))
            self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport: no half-open connections

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if self._head is None or self._complete:
            return
        if self._until_close and self._head.done():
            self._complete = True  # an answer without length ends when the connection does
            self._wake()
        else:
            self._fail(UpstreamError(UpstreamFailure.DISCONNECT, "upstream closed the connection"))

    # --- httptools callbacks ------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # 100 Continue and friends: the real answer follows
            self._informational = True
            self.headers = []
            return
        self.status = status
        names = {name.lower(): value for name, value in self.headers}
        chunked = b"chunked" in names.get(b"transfer-encoding", b"").lower()
        self._until_close = (
            b"content-length" not in names
            and not chunked
            and status not in (204, 304)
            and not self._head_only
        )
        if self._head is not None and not self._head.done():
            self._head.set_result(None)
        if self._head_only:  # the parser cannot be told a HEAD answer has no body
            self._complete = True
            self.keep_alive = False
            self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self._cancel_timer()  # a slow client is not a slow upstream
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._complete = True
        self.keep_alive = self._parser.should_keep_alive()
        self._cancel_timer()
        self._wake()

    # --- the exchange -------------------------------------------------------------------

    def send(self, data: bytes, *, head_only: bool, timeout: float) -> None:
        if self.transport is None:
            raise RuntimeError("send() before the connection was made")
        self._clear(head_only=head_only, timeout=timeout)
        self._head = self._loop.create_future()
        self._head.add_done_callback(_retrieve)
        self.transport.write(data)
        self._arm_timer()

    async def wait_head(self) -> None:
        if self._head is None:
            raise RuntimeError("wait_head() before send()")
        await self._head

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body, ``None`` at its end."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered < LOW_WATER and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                    self._arm_timer()
                return chunk
            if self._error is not None:
                raise self._error
            if self._complete:
                return None
            self._waiter = self._loop.create_future()
            await self._waiter

    @property
    def reusable(self) -> bool:
        return self._complete and self.keep_alive and not self.closed and self._error is None

    def close(self) -> None:
        self.closed = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: UpstreamError) -> None:
        if self._error is None:
            self._error = error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _arm_timer(self) -> None:
        self._cancel_timer()
        if self._timeout > 0 and not self._complete:
            self._timer = self._loop.call_later(self._timeout, self._timed_out)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(UpstreamError(UpstreamFailure.TIMEOUT, f"no data for {self._timeout:g}s"))
        self.close()
