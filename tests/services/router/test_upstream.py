"""The router's upstream HTTP clients (each test runs with both: ``custom`` and ``aiohttp``)
against raw TCP servers on loopback that answer by script."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from services.router.client import UpstreamError, UpstreamPool, parse_origin
from services.router.config import UpstreamClientKind, UpstreamClientSettings
from services.router.pools import build_pool
from services.router.upstream import serialize

PoolFactory = Callable[[], UpstreamPool]

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request's head and body, or ``None`` when the client closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


def run(scenario: Callable[[str, dict[str, Any]], Awaitable[None]], handler: Handler) -> dict:
    """Serve ``handler`` on a free port and run ``scenario(url, stats)`` against it."""
    stats: dict[str, Any] = {"connections": 0}

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["connections"] += 1
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(counted, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await scenario(f"http://127.0.0.1:{port}", stats)

    asyncio.run(main())
    return stats


@pytest.fixture(params=[kind.value for kind in UpstreamClientKind])
def new_pool(request: pytest.FixtureRequest) -> PoolFactory:
    """Makes a pool of the client under test (default settings)."""
    kind = UpstreamClientKind(request.param)

    def factory() -> UpstreamPool:
        return build_pool(UpstreamClientSettings(implementation=kind))

    factory.kind = kind  # type: ignore[attr-defined]
    return factory


def answering(*answers: bytes) -> Handler:
    """A server that answers each request on a connection with the next of ``answers``."""
    queue = list(answers)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            request = await read_request(reader)
            if request is None:
                return
            writer.write(queue.pop(0))
            await writer.drain()

    return handler


async def get(pool: UpstreamPool, url: str, method: str = "GET", **kwargs: Any) -> Any:
    response = await pool.request(
        url,
        method=method,
        target=kwargs.pop("target", b"/x"),
        headers=kwargs.pop("headers", []),
        body=kwargs.pop("body", b""),
        timeout=kwargs.pop("timeout", 5.0),
    )
    async with response:
        return response.status, await response.read()


def test_requests_are_serialized_in_one_piece() -> None:
    origin = parse_origin("http://model:3000/base/")
    data = serialize(origin, "POST", b"/predict?a=1", [(b"x-request-id", b"r1")], b"{}")
    assert data == (
        b"POST /base/predict?a=1 HTTP/1.1\r\nhost: model:3000\r\nx-request-id: r1\r\n"
        b"content-length: 2\r\n\r\n{}"
    )
    assert parse_origin("https://model").host_header == b"model"
    assert serialize(parse_origin("http://m"), "GET", b"/", [], b"").endswith(b"host: m\r\n\r\n")


def test_a_keep_alive_connection_is_reused(new_pool: PoolFactory) -> None:
    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        assert await get(pool, url) == (200, b"{}")
        assert await get(pool, url, "POST", body=b"{}") == (200, b"{}")
        await pool.close()

    stats = run(scenario, answering(OK, OK))
    assert stats["connections"] == 1


def test_chunked_answers_arrive_piece_by_piece(new_pool: PoolFactory) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/event-stream\r\n"
        b"\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )

    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        response = await pool.request(
            url, method="GET", target=b"/", headers=[], body=b"", timeout=5
        )
        assert response.content_type == "text/event-stream" and response.content_length is None
        async with response:
            # Pieces as they arrived (aiohttp joins those that came in one read).
            pieces = [chunk async for chunk in response.chunks()]
            assert b"".join(pieces) == b"hello world" and all(pieces)
            if new_pool.kind is UpstreamClientKind.CUSTOM:  # type: ignore[attr-defined]
                assert pieces == [b"hello", b" world"]  # one piece per HTTP chunk
        assert await get(pool, url) == (200, b"{}")  # the same connection, reused
        await pool.close()

    assert run(scenario, answering(chunked, OK))["connections"] == 1


def test_an_answer_without_length_ends_with_the_connection(new_pool: PoolFactory) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        assert await get(pool, url) == (200, b"all of it")
        assert await get(pool, url) == (200, b"all of it")
        await pool.close()

    assert run(scenario, until_close)["connections"] == 2


def test_head_no_content_and_informational_answers(new_pool: PoolFactory) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n"
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    continued = b"HTTP/1.1 100 Continue\r\n\r\n" + OK

    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        assert await get(pool, url, "DELETE") == (204, b"")
        assert await get(pool, url, "POST") == (200, b"{}")
        assert await get(pool, url, "HEAD") == (200, b"")
        await pool.close()

    run(scenario, answering(no_content, continued, head))


def _closes_after_first() -> Handler:
    """Answers one request, then reads the next one and closes without answering."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await read_request(reader)

    return handler


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("POST", False)])
def test_only_idempotent_requests_are_resent_after_a_stale_connection(
    method: str, retried: bool, new_pool: PoolFactory
) -> None:
    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        assert await get(pool, url) == (200, b"{}")
        if retried:
            assert await get(pool, url, method) == (200, b"{}")
        else:
            with pytest.raises(UpstreamError) as failure:
                await get(pool, url, method, body=b"{}")
            assert failure.value.reason == "disconnect"
        await pool.close()

    stats = run(scenario, _closes_after_first())
    assert stats["connections"] == (2 if retried else 1)


def test_timeouts_refusals_and_garbage_are_named(new_pool: PoolFactory) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async def expect(url: str, reason: str, timeout: float = 5.0) -> None:
        pool = new_pool()
        with pytest.raises(UpstreamError) as failure:
            await get(pool, url, timeout=timeout)
        await pool.close()
        assert failure.value.reason == reason

    async def timed_out(url: str, stats: dict[str, Any]) -> None:
        started = asyncio.get_running_loop().time()
        await expect(url, "timeout", timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 1.5

    async def refused(url: str, stats: dict[str, Any]) -> None:
        await expect("http://127.0.0.1:1", "connect")

    async def protocol(url: str, stats: dict[str, Any]) -> None:
        await expect(url, "protocol")

    run(timed_out, silent)
    run(refused, silent)
    run(protocol, garbage)


def test_a_large_answer_is_relayed_whole_with_flow_control(new_pool: PoolFactory) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB, well past the high-water mark
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body

    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        response = await pool.request(
            url, method="GET", target=b"/", headers=[], body=b"", timeout=5
        )
        async with response:
            received = bytearray()
            async for chunk in response.chunks():
                received += chunk
                await asyncio.sleep(0)  # a slow reader
        assert bytes(received) == body
        await pool.close()

    run(scenario, answering(answer))


def test_a_fresh_connection_that_hangs_up_is_not_sent_again(new_pool: PoolFactory) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async def scenario(url: str, stats: dict[str, Any]) -> None:
        pool = new_pool()
        with pytest.raises(UpstreamError) as failure:
            await get(pool, url, "GET")
        assert failure.value.reason == "disconnect"
        await pool.close()

    assert run(scenario, hang_up)["connections"] == 1
