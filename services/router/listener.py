"""The router's HTTP listener: uvicorn's httptools protocol with the router's own bounds.

uvicorn sets no limit on a request's head, so one 200 MiB header was buffered whole (and
concatenated piece by piece by the parser, in super-linear time) before the router could
answer 431; it has no timeout for a client that trickles its head or body, none for a
fresh connection that never sends a byte, and it appends request *trailers* to the very
header list the application reads. This protocol, used for every connection:

- feeds the parser at most ``max_header_bytes`` of a request's head (request line and
  headers), then answers 431 and closes: memory stays flat whatever the client sends;
- gives the head ``header_timeout_seconds`` from its first byte and the body
  ``body_timeout_seconds`` from the end of the head (totals, not gaps: a client sending
  one byte a second does not keep the connection), then answers 408 and closes;
- closes a connection that sends nothing for ``idle_timeout_seconds`` (fresh or between
  two requests);
- refuses connections beyond ``max_connections`` with a 503;
- drops request trailers (counted): a trailer never becomes a header, so it cannot pick
  the variant nor reach an upstream as ``Authorization`` or ``X-Forwarded-For``.

The limits are read from ``limits()`` on each use, so a reloaded config applies to the
next connection or request. Everything here leans on ``HttpToolsProtocol``'s parser
callbacks (uvicorn is pinned in ``pyproject.toml``; the tests drive a real socket).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from canaria.contracts.logs import get_logger

from .config import RouterConfig

log = get_logger("router.listener")

# After a 431 the rest of the client's head is read and thrown away for this long, so
# that the client can read the answer (closing with unread input would reset it).
LINGER_SECONDS = 0.5


@dataclass(frozen=True)
class ListenerLimits:
    """Bounds of one listener; sizes in bytes, times in seconds."""

    max_header_bytes: int = 64 << 10
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    idle_timeout_seconds: float = 5.0
    max_connections: int = 1000
    uncapped_port: int | None = None  # the admin listener: a flood elsewhere cannot lock it


@dataclass
class ListenerCounters:
    """What the listener refused, for the router's metrics (read at scrape time)."""

    header_too_large: int = 0
    header_timeout: int = 0
    body_timeout: int = 0
    over_capacity: int = 0
    trailers_dropped: int = 0


def listener_limits(config: RouterConfig, *, uncapped_port: int | None) -> ListenerLimits:
    """The bounds ``config`` sets (pure); ``uncapped_port`` is exempt from the cap."""
    connections = config.connections
    return ListenerLimits(
        max_header_bytes=config.max_header_bytes,
        header_timeout_seconds=connections.header_timeout_seconds,
        body_timeout_seconds=connections.body_timeout_seconds,
        idle_timeout_seconds=connections.idle_timeout_seconds,
        max_connections=connections.max_connections,
        uncapped_port=uncapped_port,
    )


def refusal(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 answer with a JSON error body that closes the connection."""
    body = json.dumps({"error": message}, separators=(",", ":")).encode()
    head = [
        STATUS_LINE[status],
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head) + body


class BoundedHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with head size, timeouts, a connection cap and no trailers."""

    limits: Callable[[], ListenerLimits] = ListenerLimits
    counters: ListenerCounters = ListenerCounters()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the parser is inside a request line or header block
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._discarding = False
        self._limits = ListenerLimits()

    # --- connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._limits = limits = type(self).limits()
        self.timeout_keep_alive = int(max(1, round(limits.idle_timeout_seconds)))
        local = transport.get_extra_info("sockname")
        uncapped = isinstance(local, tuple) and local[1] == limits.uncapped_port
        over = not uncapped and len(self.connections) >= limits.max_connections
        super().connection_made(transport)
        if over:
            self.counters.over_capacity += 1
            message = f"too many connections (max_connections {limits.max_connections})"
            self._refuse(503, message)
            return
        self._arm(limits.idle_timeout_seconds, self._idle_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        while data and not self.transport.is_closing():
            if not self._in_head:
                super().data_received(data)
                return
            if self._head_bytes == 0:  # the first byte of a head: its clock starts
                self._arm(self._limits.header_timeout_seconds, self._head_expired)
            room = self._limits.max_header_bytes - self._head_bytes
            if room <= 0:
                self.counters.header_too_large += 1
                limit = self._limits.max_header_bytes
                self._refuse(431, f"request headers larger than max_header_bytes ({limit})")
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)

    # --- parser callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:  # a trailer, after a chunked body: never a header
            self.counters.trailers_dropped += 1
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self.scope["headers"] = list(self.headers)  # later additions cannot reach the app
        self._arm(self._limits.body_timeout_seconds, self._body_expired)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    # --- deadlines ----------------------------------------------------------------------

    def _arm(self, seconds: float, expired: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _idle_expired(self) -> None:
        if self._head_bytes == 0 and not self.transport.is_closing():
            self.transport.close()

    def _head_expired(self) -> None:
        self.counters.header_timeout += 1
        seconds = self._limits.header_timeout_seconds
        self._refuse(408, f"request head not received within header_timeout_seconds ({seconds:g})")

    def _body_expired(self) -> None:
        if self.cycle is None or self.cycle.response_started:
            return  # the answer has begun: the application decides
        self.counters.body_timeout += 1
        seconds = self._limits.body_timeout_seconds
        self._refuse(408, f"request body not received within body_timeout_seconds ({seconds:g})")

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` (unless an answer is under way), then close the connection."""
        self._disarm()
        transport = self.transport
        if transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            if cycle is not None:
                cycle.response_started = cycle.response_complete = True  # the app writes no more
            transport.write(refusal(status, message))
        log.warning("connection refused", extra={"status": status, "reason": message})
        self._discarding = True
        self.loop.call_later(LINGER_SECONDS, transport.close)


def bound_protocol(
    limits: Callable[[], ListenerLimits], counters: ListenerCounters
) -> type[BoundedHttpProtocol]:
    """A protocol class for uvicorn's ``http=`` option whose limits come from ``limits``."""
    return type(
        "RouterHttpProtocol",
        (BoundedHttpProtocol,),
        {"limits": staticmethod(limits), "counters": counters},
    )
