"""The router's listener against raw sockets: head size while parsing, timeouts, the
connection cap, and trailers that never become headers."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from canaria.contracts import metrics as catalog

from .conftest import Router

pytestmark = pytest.mark.slow

MiB = 1 << 20


@pytest.fixture(scope="module")
def router(upstreams: dict[str, str], start_routers: Callable[..., dict[str, Router]]) -> Router:
    return start_routers(
        {
            "bounded": {
                "upstreams": {
                    "stable": {"url": upstreams["stable"]},
                    "canary": {"url": upstreams["canary"]},
                },
                "canary_weight": 0,
                "connections": {
                    "max_connections": 6,
                    "idle_timeout_seconds": 1.0,
                    "header_timeout_seconds": 1.0,
                    "body_timeout_seconds": 1.0,
                },
            }
        }
    )["bounded"]


@contextlib.contextmanager
def connect(router: Router, timeout: float = 10.0) -> Iterator[socket.socket]:
    host, port = router.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        yield sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the router closes (a reset after an answer counts as a close)."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 answer (Content-Length or chunked), however it is segmented."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the head ended: {received[:200]!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            assert chunk, f"closed inside a chunked body: {body[:200]!r}"
            body += chunk
    else:
        length = next(
            (int(line.split(b":")[1]) for line in lowered.split(b"\r\n")
             if line.startswith(b"content-length:")),
            0,
        )  # fmt: skip
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "closed inside the body"
            body += chunk
    return head + b"\r\n\r\n" + body


def rss_bytes(router: Router) -> int:
    status = open(f"/proc/{router.process.popen.pid}/status").read()  # noqa: SIM115
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) * 1024


def test_a_200_mib_header_is_refused_without_being_buffered(router: Router) -> None:
    before = rss_bytes(router)
    sent = 0
    answer = b""
    with connect(router, timeout=30) as sock:
        sock.sendall(b"GET /predict HTTP/1.1\r\nhost: r\r\nx-big: ")
        piece = b"a" * MiB
        try:
            while sent < 200 * MiB:
                sock.sendall(piece)
                sent += len(piece)
        except OSError:  # the router closed after its answer: expected
            pass
        answer = read_all(sock)
    grown = rss_bytes(router) - before
    # Today's uvicorn buffered all of it (RSS +300 MB); the bound reads 64 KiB.
    assert grown < 32 * MiB, f"RSS grew by {grown / MiB:.0f} MiB"
    if answer:  # a reset may swallow the answer when the client kept sending
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert router.series(catalog.ROUTER_LISTENER_REFUSALS_TOTAL, reason="header_too_large") >= 1


def test_a_head_trickled_byte_by_byte_is_cut_off(router: Router) -> None:
    started = time.monotonic()
    with connect(router) as sock:
        sock.sendall(b"GET /predict HTTP/1.1\r\n")
        with contextlib.suppress(OSError):
            for _ in range(40):  # 8 s of trickling if nothing cut it
                sock.sendall(b"x")
                time.sleep(0.2)
        answer = read_all(sock)
    assert time.monotonic() - started < 4
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"header_timeout_seconds" in answer


def test_a_body_trickled_byte_by_byte_is_cut_off(router: Router) -> None:
    started = time.monotonic()
    with connect(router) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nhost: r\r\ncontent-length: 100\r\n\r\n")
        with contextlib.suppress(OSError):
            for _ in range(40):
                sock.sendall(b"{")
                time.sleep(0.2)
        answer = read_all(sock)
    assert time.monotonic() - started < 4
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"body_timeout_seconds" in answer
    assert router.series(catalog.ROUTER_LISTENER_REFUSALS_TOTAL, reason="body_timeout") >= 1


@pytest.mark.parametrize("after_a_request", [False, True])
def test_idle_connections_are_closed(router: Router, after_a_request: bool) -> None:
    with connect(router) as sock:
        if after_a_request:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: r\r\n\r\n")
            assert read_answer(sock).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert read_all(sock) == b""
    assert time.monotonic() - started < 3


def test_connections_beyond_the_cap_get_503(router: Router) -> None:
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(connect(router)) for _ in range(6)]
        time.sleep(0.1)
        with connect(router) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nhost: r\r\n\r\n")
            answer = read_all(extra)
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
        assert b"max_connections" in answer
        assert len(held) == 6
    # Once they are gone, a connection is served again (idle ones closed within 1 s).
    time.sleep(0.3)
    with connect(router) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: r\r\nconnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")


def test_trailers_never_become_headers(router: Router) -> None:
    body = json.dumps({"features": {"tenure": 3}}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n" % (len(body), body)
    trailers = (
        b"x-canaria-variant: canary\r\n"
        b"authorization: Bearer stolen\r\n"
        b"x-forwarded-for: 203.0.113.9\r\n\r\n"
    )
    head = (
        b"POST /echo HTTP/1.1\r\nhost: r\r\ntransfer-encoding: chunked\r\n"
        b"trailer: x-canaria-variant, authorization, x-forwarded-for\r\n"
        b"connection: close\r\n\r\n"
    )
    dropped = catalog.ROUTER_TRAILERS_DROPPED_TOTAL
    before = router.metric(dropped)
    with connect(router) as sock:
        sock.sendall(head + chunked + trailers)
        answer = read_all(sock)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 200 "), answer[:300]
    echoed = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert echoed["served_by"] == "stable"  # weight 0: a trailer did not choose the canary
    assert "authorization" not in echoed["headers"]
    assert echoed["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert "x-canaria-variant" not in echoed["headers"]
    assert router.series(dropped) - before == 3
