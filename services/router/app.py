"""The router as a raw ASGI application: its own endpoints, then the proxy for the rest.

The router's own paths are ``/healthz``, ``/readyz``, ``/metrics`` and ``/admin/*``;
every other request is routed to a variant and forwarded. The config in force is one
reference (``self.config``) read once per request, so a weight change applies atomically
to the requests that arrive after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from canaria.contracts.logs import get_logger
from canaria.contracts.metrics import Variant
from canaria.contracts.request_id import REQUEST_ID_HEADER, request_id

from .admin import handle_admin
from .compare import Answer, ClassicComparator, TextComparator, build_comparator
from .config import ConfigError, RouterConfig, UpstreamSettings
from .metrics import CONTENT_TYPE, RouterMetrics
from .proxy import (
    CLIENT_DISCONNECT,
    ERROR_STATUS,
    REQUEST_SKIP,
    Message,
    Receive,
    Send,
    error_message,
    forward,
    send_json,
)
from .ratelimit import RateLimiter
from .reload import ConfigWatcher
from .routing import RoutingError, choose_variant
from .shadow import ShadowMirror, ShadowPlan, ShadowRequest
from .upstream import UpstreamError, UpstreamPool

log = get_logger("router")

_SKIP_FORWARDED = REQUEST_SKIP | {b"x-forwarded-for"}
VARIANT_HEADER = b"x-canaria-variant"


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks) if len(chunks) != 1 else chunk


def header_bytes(scope: Message) -> int:
    """The size of the request's header block as sent (names, values, ": " and CRLF)."""
    return sum(len(name) + len(value) + 4 for name, value in scope["headers"])


class RouterApp:
    """The router as a raw ASGI app: each request goes to the stable or the canary upstream
    (by weight, stickiness and A/B match rules), its answer streams back, and a sampled
    share is mirrored to the shadow after the primary answered.

    Serves ``/healthz``, ``/readyz``, ``/metrics`` (Prometheus text) and ``/admin/*``
    (``handle_admin``); everything else is proxied. Client errors get a JSON 4xx naming
    the problem; an upstream that fails a 502, 503 or 504 with ``{"error", "request_id"}``. Every
    answer carries the request's ``x-request-id`` (``canaria.contracts.request_id``).
    ``config`` is replaced whole on reload or admin change, never edited in place.
    """

    def __init__(
        self,
        config: RouterConfig,
        *,
        config_path: Path | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.metrics = RouterMetrics()
        self.ready = False
        self._draw = draw
        self._pool = UpstreamPool()
        # Shadow copies have their own connections: they never queue behind primary ones.
        self._shadow_pool = UpstreamPool()
        self.shadow = ShadowMirror(metrics=self.metrics, pool=self._shadow_pool, draw=draw)
        self._limiter: RateLimiter | None = None
        self._comparator: ClassicComparator | TextComparator | None = None
        self._comparator_key: tuple[Any, ...] = ()
        self._plan: ShadowPlan | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self.apply(config, source="start")

    # --- configuration ------------------------------------------------------------------

    def apply(self, config: RouterConfig, *, source: str) -> None:
        """Put ``config`` in force. Synchronous, so no request sees a half-applied one."""
        previous = self.config
        rate_limit = config.rate_limit
        if rate_limit is None:
            self._limiter = None
        elif self._limiter is None or self._limiter.settings != rate_limit:
            self._limiter = RateLimiter(rate_limit)
        self._plan = self._shadow_plan(config)
        self.config = config
        self.metrics.set_weight(config.canary_weight)
        if source != "start" and previous.routes() != config.routes():
            log.info("routes changed", extra={"source": source, **config.routes()})

    def _shadow_plan(self, config: RouterConfig) -> ShadowPlan | None:
        upstream = config.upstream(Variant.SHADOW)
        if upstream is None:
            return None
        settings = config.shadow_settings
        comparator = self._comparator
        wanted = (settings.comparator, settings.classic, settings.text)
        if comparator is None or wanted != self._comparator_key:
            if isinstance(comparator, TextComparator):
                comparator.close()
            comparator = self._comparator = build_comparator(settings)
            self._comparator_key = wanted
        return ShadowPlan(upstream, settings, comparator, frozenset(config.never_log))

    def _reloaded(self, config: RouterConfig) -> None:
        self.apply(config, source="file")
        self.metrics.reload(ok=True)
        log.info("config reloaded", extra={"path": str(self.config_path), **config.routes()})

    def _refused(self, error: ConfigError) -> None:
        self.metrics.reload(ok=False)
        log.error(
            "config refused, keeping the last good one",
            extra={"path": str(self.config_path), "error": str(error)},
        )

    # --- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                await self._http(scope, receive, send)
            except Exception as error:  # a bug: answer JSON, log the type, keep serving
                log.error("router error", extra={"error_type": type(error).__name__})
                with contextlib.suppress(Exception):  # the answer may have started
                    await send_json(send, 500, {"error": "internal router error"})
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Message, receive: Receive, send: Send) -> None:
        limit = self.config.max_header_bytes
        if header_bytes(scope) > limit:
            message = f"request headers larger than max_header_bytes ({limit})"
            await send_json(send, 431, {"error": message})
            return
        path = scope["path"]
        if path.startswith("/admin/"):
            await handle_admin(
                self,
                path=path,
                method=scope["method"],
                headers=_header_map(scope),
                receive=receive,
                send=send,
            )
        elif path in ("/healthz", "/readyz", "/metrics"):
            await self._own_endpoint(path, send)
        else:
            await self._proxy(scope, receive, send)

    async def _own_endpoint(self, path: str, send: Send) -> None:
        if path == "/metrics":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE.encode())],
                }
            )
            await send({"type": "http.response.body", "body": self.metrics.exposition()})
        elif path == "/healthz":
            await send_json(send, 200, {"status": "ok"})
        elif self.ready:
            await send_json(send, 200, {"status": "ready"})
        else:
            await send_json(send, 503, {"status": "starting"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        if self.config_path is not None:
            watcher = ConfigWatcher(
                self.config_path,
                on_change=self._reloaded,
                on_refused=self._refused,
                interval=lambda: self.config.reload_interval_seconds,
            )
            self._watch_task = asyncio.get_running_loop().create_task(watcher.run())
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        if self._watch_task is not None:
            self._watch_task.cancel()
        await self.shadow.close()
        if isinstance(self._comparator, TextComparator):
            self._comparator.close()
        self._pool.close()
        self._shadow_pool.close()

    # --- the proxy ----------------------------------------------------------------------

    async def _proxy(self, scope: Message, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        config, shadow_plan = self.config, self._plan  # one snapshot for this request
        headers = _header_map(scope)
        rid = request_id(headers.get(REQUEST_ID_HEADER))
        reply_headers = [(b"x-request-id", rid.encode())]
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if self._limiter is not None and not await self._admitted(
            self._limiter.key(headers, address), rid, reply_headers, send
        ):
            return
        try:
            variant = choose_variant(config=config, headers=headers, draw=self._draw)
            body = await self._body(receive, headers, config.max_request_bytes)
        except RoutingError as error:
            payload = {"error": str(error), "request_id": rid}
            await send_json(send, 400, payload, headers=reply_headers)
            return
        except BodyTooLarge:
            message = f"request body larger than max_request_bytes ({config.max_request_bytes})"
            await send_json(send, 413, {"error": message, "request_id": rid}, headers=reply_headers)
            return
        except ClientGone:
            return
        upstream = config.upstream(variant)
        if upstream is None:  # the config validation guarantees one for a routable variant
            raise RuntimeError(f"no upstream for the routable variant {variant}")
        # With mirror on, the canary is the shadow: only stable answers are copied to it.
        plan = shadow_plan if variant is Variant.STABLE or not config.mirror else None
        shadowed = plan is not None and self._draw() < plan.settings.sample_rate
        forwarded = _forwarded_headers(scope, rid, address)
        reply_headers.append((VARIANT_HEADER, variant.value.encode()))
        try:
            outcome = await forward(
                pool=self._pool,
                upstream=upstream,
                method=scope["method"],
                target=_target(scope),
                headers=forwarded,
                body=body,
                send=send,
                receive=receive,
                extra_headers=reply_headers,
                capture_limit=plan.settings.max_answer_bytes if shadowed and plan else 0,
            )
        except UpstreamError as error:
            self.metrics.upstream_error(variant, error.reason)
            self.metrics.request(variant, None, time.perf_counter() - started)
            await _answer_upstream_error(send, error, variant, upstream, rid, reply_headers)
            return
        if outcome.error is not None and outcome.error != CLIENT_DISCONNECT:
            self.metrics.upstream_error(variant, outcome.error)
        self.metrics.request(variant, outcome.status, time.perf_counter() - started)
        if plan is not None and outcome.shadowable:
            if outcome.body is None:  # a shadowable outcome keeps its body
                raise RuntimeError("a shadowable answer without its body")
            request = ShadowRequest(
                request_id=rid,
                method=scope["method"],
                target=_target(scope),
                headers=forwarded,
                body=body,
                primary_variant=variant,
                primary=Answer(outcome.body, outcome.content_type),
            )
            self.shadow.offer(request, plan)

    async def _admitted(
        self, key: str, rid: str, reply_headers: list[tuple[bytes, bytes]], send: Send
    ) -> bool:
        """Spend a rate-limit token; without one, answer 429 and say when to come back."""
        if self._limiter is None:
            raise RuntimeError("rate limiting without a limiter")
        wait = self._limiter.retry_after(key)
        if wait is None:
            return True
        self.metrics.rate_limited.inc()
        await send_json(
            send,
            429,
            {"error": f"rate limit exceeded, retry in {wait}s", "request_id": rid},
            headers=[*reply_headers, (b"retry-after", str(wait).encode())],
        )
        return False

    @staticmethod
    async def _body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge
        return await read_body(receive, limit)


async def _answer_upstream_error(
    send: Send,
    error: UpstreamError,
    variant: Variant,
    upstream: UpstreamSettings,
    rid: str,
    reply_headers: list[tuple[bytes, bytes]],
) -> None:
    """503 unreachable, 504 timeout, 502 otherwise: JSON naming the variant."""
    payload = {
        "error": error_message(variant, upstream, error.reason),
        "variant": variant.value,
        "request_id": rid,
    }
    await send_json(send, ERROR_STATUS.get(error.reason, 502), payload, headers=reply_headers)


def _header_map(scope: Message) -> dict[str, str]:
    """Header names are lower case in ASGI; a repeated header keeps its last value."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _target(scope: Message) -> bytes:
    """The path and query as the client sent them."""
    query = scope.get("query_string", b"")
    path = scope.get("raw_path") or scope["path"].encode()
    return path + b"?" + query if query else path


def _forwarded_headers(scope: Message, rid: str, address: str) -> list[tuple[bytes, bytes]]:
    headers = [(name, value) for name, value in scope["headers"] if name not in _SKIP_FORWARDED]
    forwarded_for = address.encode("latin-1")
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded_for = value + b", " + forwarded_for
    headers.append((b"x-request-id", rid.encode("latin-1")))
    headers.append((b"x-forwarded-for", forwarded_for))
    return headers
