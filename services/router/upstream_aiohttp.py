"""The aiohttp upstream client: ``client.UpstreamPool`` on one ``aiohttp.ClientSession``.

The session is made on first use (it needs the running loop) with a ``TCPConnector``
whose ``limit_per_host`` equals the cap (``Slots`` already keeps the count below it),
keep-alive ``IDLE_SECONDS``, and the TLS context given. It sends exactly the headers it
is handed: no ``User-Agent``, ``Accept`` or ``Accept-Encoding`` of its own, the target
untouched (``yarl.URL(..., encoded=True)``), and it does not undo content codings (the
answer is relayed as it came). Like the custom client, it re-sends an idempotent request
only when a *reused* connection closed before any answer (RFC 9112 §9.3.1): aiohttp's own
retry, which also re-sends after a fresh connection closed, is off, and ``_Connector``
notes whether the connection a request got had been used before. Its exceptions become
``UpstreamError`` with the reasons the custom client gives (``_failure``).
"""

from __future__ import annotations

import asyncio
import contextvars
import ssl
import weakref
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

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

# What aiohttp would add on its own; a proxy forwards the client's headers only.
_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
# Upstream answers may carry long headers (the router accepts 64 KiB heads from clients).
_MAX_HEADER_BYTES = 64 * 1024


# Set per request: whether the connection it got had carried an exchange before.
_REUSED: contextvars.ContextVar[list[bool]] = contextvars.ContextVar("reused")


class _Connector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that tells the request in progress whether its connection is a
    reused one (``_REUSED``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen: weakref.WeakSet[Any] = weakref.WeakSet()

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        connection = await super().connect(req, traces, timeout)
        protocol = connection.protocol
        reused = protocol in self._seen
        self._seen.add(protocol)
        state = _REUSED.get(None)
        if state is not None:
            state[0] = reused
        return connection


def _failure(error: BaseException) -> UpstreamError:
    """The ``UpstreamError`` for an aiohttp (or asyncio) exception (pure)."""
    if isinstance(error, TimeoutError):  # aiohttp's ServerTimeoutError is one
        return UpstreamError(UpstreamFailure.TIMEOUT, str(error) or "no answer in time")
    if isinstance(error, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return UpstreamError(UpstreamFailure.TLS, str(error.os_error))
    if isinstance(error, aiohttp.ClientConnectorError):
        return UpstreamError(UpstreamFailure.CONNECT, error.os_error.strerror or str(error))
    if isinstance(error, aiohttp.ClientResponseError):  # an unparsable answer
        return UpstreamError(UpstreamFailure.PROTOCOL, error.message)
    if isinstance(error, aiohttp.ClientPayloadError) and "transfer" in str(error).lower():
        return UpstreamError(UpstreamFailure.PROTOCOL, str(error))
    return UpstreamError(UpstreamFailure.DISCONNECT, str(error) or type(error).__name__)


class AiohttpResponse:
    """An answer whose head has arrived (``client.UpstreamResponse``)."""

    def __init__(self, slots: Slots, origin: Origin, response: aiohttp.ClientResponse) -> None:
        self._slots = slots
        self._origin = origin
        self._response: aiohttp.ClientResponse | None = response
        self.status = response.status
        self.raw_headers = response.raw_headers
        self.content_length = response.content_length
        self.content_type = response.headers.get("Content-Type", "")

    async def chunks(self) -> AsyncIterator[bytes]:
        response = self._response
        if response is None:
            raise RuntimeError("chunks() after release()")
        try:
            # What has arrived, as soon as it has (iter_chunks spins at the end of a
            # HEAD answer in aiohttp 3.14).
            async for chunk in response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from None

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
        """Back to the pool when read whole (aiohttp closes it otherwise); frees the slot.
        A second call does nothing."""
        response, self._response = self._response, None
        if response is None:
            return
        if response.content.is_eof():
            response.release()
        else:
            response.close()
        self._slots.release(self._origin)

    async def __aenter__(self) -> AiohttpResponse:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


class AiohttpPool:
    """``client.UpstreamPool`` on aiohttp; at most ``max_connections`` per origin."""

    def __init__(self, *, max_connections: int, tls: ssl.SSLContext | None = None) -> None:
        self.slots = Slots(max_connections)
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = _Connector(
            limit=0,  # no total cap: the cap is per upstream
            limit_per_host=self.slots.limit,
            keepalive_timeout=IDLE_SECONDS,
            ssl=self._tls if self._tls is not None else True,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            max_line_size=_MAX_HEADER_BYTES,
            max_field_size=_MAX_HEADER_BYTES,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # aiohttp has no public switch for its retry (it would re-send a GET to an
        # upstream that hung up on a fresh connection): turn it off, retry in request().
        if not hasattr(session, "_retry_connection"):
            raise RuntimeError("aiohttp no longer has ClientSession._retry_connection")
        session._retry_connection = False
        return session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        """Connect and every read (the head, each gap in the body) within ``seconds``."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)
            self._timeouts[seconds] = timeout
        return timeout

    async def request(
        self,
        url: str,
        *,
        method: str,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout: float,
    ) -> AiohttpResponse:
        """See ``client.UpstreamPool.request``."""
        origin = parse_origin(url)
        session = self._session
        if session is None or session.closed:
            session = self._session = self._open()
        address = URL(url + target.decode("latin-1"), encoded=True)
        sent = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
        data = body if body or method not in NO_BODY_METHODS else None
        await self.slots.acquire(origin, timeout)
        try:
            response = await self._send(session, method, address, sent, data, timeout)
        except BaseException:
            self.slots.release(origin)
            raise
        return AiohttpResponse(self.slots, origin, response)

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        address: URL,
        headers: list[tuple[str, str]],
        data: bytes | None,
        timeout: float,
    ) -> aiohttp.ClientResponse:
        """The answer's head; an idempotent request is sent once more when a reused
        connection closed before any answer."""
        for attempt in (1, 2):
            reused = [False]
            token = _REUSED.set(reused)
            try:
                return await session.request(
                    method,
                    address,
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    timeout=self._timeout(timeout),
                )
            except aiohttp.ServerDisconnectedError as error:
                if attempt == 1 and reused[0] and method in IDEMPOTENT:
                    continue
                raise _failure(error) from None
            except (aiohttp.ClientError, TimeoutError) as error:
                raise _failure(error) from None
            finally:
                _REUSED.reset(token)
        raise RuntimeError("unreachable: the second attempt returns or raises")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await asyncio.sleep(0)  # let the transports finish closing
