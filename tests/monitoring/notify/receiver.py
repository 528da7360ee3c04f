"""A real HTTP receiver on a free loopback port that records what it is sent.

``behaviour`` decides each answer: a status code, and seconds to wait before answering.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)


@contextlib.contextmanager
def receiving(behaviour: Callable[[int], tuple[int, float]]) -> Iterator[Receiver]:
    """Serve until the block ends; ``behaviour(n)`` for the n-th request (0-based)."""
    lock = threading.Lock()
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                index = len(receiver.requests)
                receiver.requests.append(
                    Received(self.path, dict(self.headers), body, time.monotonic())
                )
            status, delay = behaviour(index)
            time.sleep(delay)
            with contextlib.suppress(OSError):  # the client may have given up
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
