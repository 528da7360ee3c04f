"""A local stand-in for the Kubernetes API server, at the HTTP boundary only.

Nothing here imitates Kubernetes semantics beyond what a test asks for: the stub records every
request the real client library sends (method, path, query, headers, JSON body) and answers
with canned responses chosen by ``(method, path regex)``. Tests then assert the exact bytes a
real ``kubernetes`` client (or kopf) put on the wire.

    with KubeStub() as kube:
        kube.on("GET", r"/apis/gateway.networking.k8s.io/v1/namespaces/ml/httproutes/churn",
                StubResponse(body=route))
        api = kube.api_client()
        ...
        assert kube.requests_matching("PATCH")[0].body == {...}

``serve_object`` makes one path behave like a stored object (GET returns it, PATCH merges
into it, PUT replaces it), which is enough for get-then-patch round trips.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import yaml

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

DEFAULT_TOKEN = "stub-token"  # nosec B105 # the local test stub's fake bearer token


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stub received it. Header names are lower-cased."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    raw_body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def body(self) -> Any:
        """The body parsed as JSON; ``None`` when empty; the raw text when not JSON."""
        if not self.raw_body:
            return None
        try:
            return json.loads(self.raw_body)
        except ValueError:
            return self.raw_body.decode(errors="replace")


@dataclass(frozen=True)
class StubResponse:
    """A canned answer.

    ``body`` is sent as JSON (``bytes`` and ``str`` as they are). ``stream`` sends each item
    as one JSON line, as a Kubernetes watch does, then keeps the connection open for
    ``hold_open`` seconds (or until the stub stops) before closing it.
    """

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: Sequence[Any] | None = None
    hold_open: float = 0.0


Responder = StubResponse | Callable[[RecordedRequest], StubResponse]


def status_response(code: int, reason: str, message: str) -> StubResponse:
    """A Kubernetes ``Status`` error body, as the API server sends with 4xx/5xx answers."""
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return StubResponse(status=code, body=body)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (pure): ``None`` deletes a key, objects merge, the rest
    (lists included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


class KubeStub:
    """A threaded HTTP server on a free loopback port that records and answers requests.

    Responders registered later win over earlier ones for the same request; a request no
    responder matches gets a 404 ``Status``.
    """

    def __init__(self, *, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._responders: list[tuple[str, re.Pattern[str], Responder]] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> KubeStub:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KubeStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("stub not started: call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- responses -------------------------------------------------------------------------

    def on(self, method: str, path_regex: str, response: Responder) -> None:
        """Answer ``method`` requests whose path (no query) fully matches ``path_regex``."""
        with self._lock:
            self._responders.append((method.upper(), re.compile(path_regex), response))

    def serve_object(self, path: str, obj: Mapping[str, Any]) -> Callable[[], dict[str, Any]]:
        """Make ``path`` hold ``obj``: GET returns it, PATCH merges the body into it (as a
        JSON merge patch), PUT replaces it. Returns a getter for the current object."""
        state = {"obj": copy.deepcopy(dict(obj))}

        def respond(request: RecordedRequest) -> StubResponse:
            if request.method == "PATCH":
                state["obj"] = merge_patch(state["obj"], request.body)
            elif request.method == "PUT":
                state["obj"] = request.body
            return StubResponse(body=state["obj"])

        for method in ("GET", "PATCH", "PUT"):
            self.on(method, re.escape(path), respond)
        return lambda: copy.deepcopy(state["obj"])

    def _respond(self, request: RecordedRequest) -> StubResponse:
        with self._lock:
            responders = list(reversed(self._responders))
        for method, pattern, responder in responders:
            if method == request.method and pattern.fullmatch(request.path):
                return responder(request) if callable(responder) else responder
        return status_response(
            404, "NotFound", f"stub: no response for {request.method} {request.path}"
        )

    # --- recorded requests -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_matching(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RecordedRequest]:
        pattern = re.compile(path_regex) if path_regex else None
        return [
            request
            for request in self.requests
            if (method is None or request.method == method.upper())
            and (pattern is None or pattern.fullmatch(request.path))
        ]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # --- clients ---------------------------------------------------------------------------

    def api_client(self) -> ApiClient:
        """A real ``kubernetes.client.ApiClient`` that talks to this stub with its token."""
        from kubernetes import client

        configuration = client.Configuration(
            host=self.url,
            api_key={"BearerToken": self.token},
            api_key_prefix={"BearerToken": "Bearer"},
        )
        return client.ApiClient(configuration)

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        """A kubeconfig file for this stub (for kopf, kubectl-style loaders, subprocesses)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "stub", "cluster": {"server": self.url}}],
            "users": [{"name": "stub", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "stub",
                    "context": {"cluster": "stub", "user": "stub", "namespace": namespace},
                }
            ],
            "current-context": "stub",
        }
        path.write_text(yaml.safe_dump(config))
        return path


def _handler_for(stub: KubeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``stub.requests`` instead."""

        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                raw_body=self.rfile.read(length) if length else b"",
            )
            stub._record(request)
            response = stub._respond(request)
            if response.stream is not None:
                self._send_stream(response)
            else:
                self._send(response)

        def _send(self, response: StubResponse) -> None:
            payload = _encode(response.body)
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _send_stream(self, response: StubResponse) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            for item in response.stream or ():
                self.wfile.write(json.dumps(item).encode() + b"\n")
                self.wfile.flush()
            deadline = time.monotonic() + response.hold_open
            while time.monotonic() < deadline and not stub._stopping.is_set():
                time.sleep(0.05)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()
