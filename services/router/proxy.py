"""Forwarding one request to one upstream and relaying the answer, streamed when it is long.

Nothing here retries: a prediction POST may not be idempotent, so an upstream that fails
is reported to the client (503 unreachable, 502 broken answer, 504 timeout) with the
variant named. (The client only re-sends an idempotent request whose reused keep-alive
connection the upstream had closed, which is safe.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from canaria.contracts.metrics import Variant

from .client import UpstreamError, UpstreamFailure, UpstreamPool, UpstreamResponse
from .config import UpstreamSettings

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]

# Hop-by-hop headers (RFC 9110 §7.6.1) plus those the client library sets itself.
REQUEST_SKIP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"expect",
        b"x-request-id",
    }
)
RESPONSE_SKIP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"x-request-id",
    }
)


def connection_named(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The header names a ``Connection`` header lists (lower case): hop-by-hop too, never
    forwarded in either direction (RFC 9110 §7.6.1) (pure)."""
    named: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            named.update(token.strip().lower() for token in value.split(b",") if token.strip())
    return frozenset(named)


def header_value(headers: Iterable[tuple[bytes, bytes]], wanted: bytes) -> str:
    """The last value of header ``wanted`` (lower case), or "" (pure)."""
    found = b""
    for name, value in headers:
        if name.lower() == wanted:
            found = value
    return found.decode("latin-1")


# Answers up to this size with a known length are read whole and sent in one write.
BUFFERED_ANSWER_BYTES = 256 * 1024
ERROR_STATUS = {
    UpstreamFailure.CONNECT: 503,
    UpstreamFailure.POOL_FULL: 503,
    UpstreamFailure.TIMEOUT: 504,
}
# Outcome.error when the client left mid-stream: not the upstream's fault, so not counted
# in canaria_router_upstream_errors_total.
CLIENT_DISCONNECT = "client_disconnect"
JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class Outcome:
    """What became of a forwarded request."""

    status: int | None  # the upstream's status; None when no answer came back
    error: str | None  # connect, timeout, disconnect, protocol; None when all went well
    body: bytes | None  # the answer as the client got it, when captured for the shadow
    content_type: str = ""
    content_encoding: str = ""

    @property
    def shadowable(self) -> bool:
        """A whole, successful, captured answer: something to compare a shadow's with."""
        ok = self.status is not None and 200 <= self.status < 300
        return ok and self.error is None and self.body is not None


def error_message(variant: Variant, upstream: UpstreamSettings, error: UpstreamError) -> str:
    """What a 502/503/504 answer says: the variant, its URL and what went wrong (pure)."""
    what = {
        UpstreamFailure.CONNECT: "is unreachable",
        UpstreamFailure.TIMEOUT: f"did not answer within {upstream.timeout_seconds:g}s",
        UpstreamFailure.DISCONNECT: "closed the connection",
        UpstreamFailure.TLS: f"failed TLS verification ({error.detail})",
        UpstreamFailure.POOL_FULL: f"is busy: {error.detail}",
    }.get(error.reason, "sent an invalid answer")
    return f"upstream {variant.value} ({upstream.url}) {what}"


async def send_json(
    send: Send,
    status: int,
    payload: Any,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*JSON_HEADERS, *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _watch_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def forward(
    *,
    pool: UpstreamPool,
    upstream: UpstreamSettings,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    send: Send,
    receive: Receive,
    extra_headers: list[tuple[bytes, bytes]],
    capture_limit: int,
) -> Outcome:
    """Send the request upstream and relay the answer to ``send``.

    An ``UpstreamError`` before the answer started is raised, for the caller to answer
    with a JSON error; one while streaming can only cut the connection, and is reported
    in the ``Outcome``. ``capture_limit`` > 0 keeps up to that many bytes of the answer
    for the shadow.
    """
    response = await pool.request(
        upstream.url,
        method=method,
        target=target,
        headers=headers,
        body=body,
        timeout=upstream.timeout_seconds,
    )
    async with response:
        relayed = []
        skip = RESPONSE_SKIP | connection_named(response.raw_headers)
        for name, value in response.raw_headers:
            lowered = name.lower()
            if lowered not in skip:
                relayed.append((lowered, value))
        encoding = header_value(response.raw_headers, b"content-encoding")
        start = {
            "type": "http.response.start",
            "status": response.status,
            "headers": relayed + extra_headers,
        }
        length, content_type = response.content_length, response.content_type
        if (
            length is not None
            and length <= BUFFERED_ANSWER_BYTES
            and not content_type.startswith("text/event-stream")
        ):
            data = await response.read()
            await send(start)
            await send({"type": "http.response.body", "body": data})
            captured = data if capture_limit > 0 and len(data) <= capture_limit else None
            return Outcome(response.status, None, captured, content_type, encoding)
        await send(start)
        outcome = await _stream(response, send, receive, capture_limit)
        return Outcome(outcome.status, outcome.error, outcome.body, content_type, encoding)


async def _stream(
    response: UpstreamResponse, send: Send, receive: Receive, capture_limit: int
) -> Outcome:
    """Relay each chunk as it arrives (SSE tokens reach the client one by one)."""
    captured: bytearray | None = bytearray() if capture_limit > 0 else None
    status, content_type = response.status, response.content_type
    watcher = asyncio.ensure_future(_watch_disconnect(receive))
    try:
        async for chunk in response.chunks():
            if watcher.done():  # the client left: stop reading a long generation
                return Outcome(status, CLIENT_DISCONNECT, None, content_type)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if captured is not None:
                captured += chunk
                if len(captured) > capture_limit:
                    captured = None
        await send({"type": "http.response.body", "body": b""})
    except UpstreamError as error:
        return Outcome(status, error.reason, None, content_type)
    finally:
        watcher.cancel()
    return Outcome(status, None, bytes(captured) if captured is not None else None, content_type)
