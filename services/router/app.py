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

from .accesslog import AccessLog, Exchange
from .admin import AuthGuard, handle_admin
from .breaker import Breaker, resets_breaker
from .client import UpstreamError
from .compare import Answer, ClassicComparator, TextComparator, build_comparator
from .config import ConfigError, RouterConfig, UpstreamClientKind
from .endpoints import OWN_PATHS, own_endpoint
from .exchange import (
    BodyTooLarge,
    ClientGone,
    answer_upstream_error,
    forwarded_headers,
    has_dot_segments,
    header_bytes,
    header_map,
    override_allowed,
    read_request_body,
    target,
)
from .listener import ListenerCounters, ListenerLimits, listener_limits
from .metrics import RouterMetrics
from .pools import build_pool
from .proxy import CLIENT_DISCONNECT, Message, Receive, Send, forward, send_json
from .ratelimit import RateLimiter
from .reload import ConfigWatcher
from .routing import RoutingError, choose_variant
from .shadow import ShadowMirror, ShadowPlan, ShadowRequest

log = get_logger("router")

VARIANT_HEADER = b"x-canaria-variant"


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
        admin_port: int | None = None,
        upstream_client: UpstreamClientKind | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        # The admin listener's local port; None: the admin API is on the public listener.
        self.admin_port = admin_port
        self.listener_counters = ListenerCounters()
        self.metrics = RouterMetrics(self.listener_counters)
        self.ready = False
        self._draw = draw
        self.access_log = AccessLog()
        # The HTTP client: the config's, unless the command line chose one.
        self.upstream_client = upstream_client or config.upstream_client.implementation
        self._pool = build_pool(config.upstream_client, self.upstream_client)
        # Shadow copies have their own connections: they never queue behind primary ones.
        self._shadow_pool = build_pool(config.upstream_client, self.upstream_client)
        self.shadow = ShadowMirror(metrics=self.metrics, pool=self._shadow_pool, draw=draw)
        self._limiter: RateLimiter | None = None
        self._comparator: ClassicComparator | TextComparator | None = None
        self._comparator_key: tuple[Any, ...] = ()
        self._plan: ShadowPlan | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self.breaker: Breaker | None = None
        self.admin_guard = AuthGuard()
        self.apply(config, source="start")

    # --- configuration ------------------------------------------------------------------

    def limits(self) -> ListenerLimits:
        """The listener's bounds under the config in force (read per connection)."""
        return listener_limits(self.config, uncapped_port=self.admin_port)

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
        self._reset_breaker(previous, config, source)
        if source != "start" and previous.routes() != config.routes():
            log.info("routes changed", extra={"source": source, **config.routes()})

    def _reset_breaker(self, previous: RouterConfig, config: RouterConfig, source: str) -> None:
        """A fresh breaker at start, on every admin change, and on a file whose routes,
        canary or breaker settings changed: setting routes is the operator's answer."""
        if source != "start" and not resets_breaker(previous, config, source):
            return
        if self.breaker is not None and self.breaker.open:
            log.warning("breaker reset", extra={"variant": "canary", "source": source})
        self.breaker = None if config.breaker is None else Breaker(config.breaker)
        self.metrics.breaker_open.labels(variant=Variant.CANARY.value).set(0)

    def routes_view(self) -> dict[str, Any]:
        """What ``GET /admin/routes`` answers: the routes and the canary's breaker."""
        breaker = None if self.breaker is None else self.breaker.view()
        return {**self.config.routes(), "breaker": {"canary": breaker}}

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
        listener = ("listen", "host", "port")
        if [getattr(config.admin, k) for k in listener] != [
            getattr(self.config.admin, k) for k in listener
        ]:
            log.warning(
                "admin.listen/host/port changed: the listeners change at the next start",
                extra={"path": str(self.config_path)},
            )
        if config.upstream_client != self.config.upstream_client:
            log.warning(
                "upstream_client changed: it applies at the next start",
                extra={"path": str(self.config_path)},
            )
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
        admin_side = self.admin_port is None or _local_port(scope) == self.admin_port
        public_side = self.admin_port is None or not admin_side
        if path.startswith("/admin/") and admin_side:
            client = scope.get("client")
            await handle_admin(
                self,
                path=path,
                method=scope["method"],
                headers=header_map(scope["headers"]),
                receive=receive,
                send=send,
                caller=client[0] if client else "unknown",
            )
        elif path in OWN_PATHS:
            await own_endpoint(path, send, metrics=self.metrics, ready=self.ready)
        elif path.startswith("/admin/") or not public_side:
            where = "the admin listener" if path.startswith("/admin/") else "the public listener"
            await send_json(send, 404, {"error": f"{path}: served on {where} only"})
        elif has_dot_segments(path):
            message = "path: dot segments ('.' or '..') are not allowed"
            await send_json(send, 400, {"error": message})
        else:
            await self._proxy(scope, receive, send)

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
        await self._pool.close()
        await self._shadow_pool.close()

    # --- the proxy ----------------------------------------------------------------------

    async def _proxy(self, scope: Message, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        config, shadow_plan = self.config, self._plan  # one snapshot for this request
        # The head as it arrived, taken before the body is read: nothing that comes with
        # or after the body (a trailer) can choose the variant or be forwarded.
        raw_headers = list(scope["headers"])
        headers = header_map(raw_headers)
        rid = request_id(headers.get(REQUEST_ID_HEADER))
        reply_headers = [(REQUEST_ID_HEADER.encode(), rid.encode())]
        client = scope.get("client")
        address = client[0] if client else "unknown"
        admitted = await self._admit(config, headers, address, rid, reply_headers, receive, send)
        if admitted is None:
            return
        variant, body = admitted
        upstream = config.upstream(variant)
        if upstream is None:  # the config validation guarantees one for a routable variant
            raise RuntimeError(f"no upstream for the routable variant {variant}")
        # With mirror on, the canary is the shadow: only stable answers are copied to it.
        plan = shadow_plan if variant is Variant.STABLE or not config.mirror else None
        shadowed = plan is not None and self._draw() < plan.settings.sample_rate
        forwarded = forwarded_headers(raw_headers, rid, address, decodable_only=shadowed)
        reply_headers.append((VARIANT_HEADER, variant.value.encode()))
        exchange = Exchange(rid, scope["method"], scope["path"], variant, upstream, started)
        try:
            outcome = await forward(
                pool=self._pool,
                upstream=upstream,
                method=scope["method"],
                target=target(scope),
                headers=forwarded,
                body=body,
                send=send,
                receive=receive,
                extra_headers=reply_headers,
                capture_limit=plan.settings.max_answer_bytes if shadowed and plan else 0,
            )
        except UpstreamError as error:
            self._finished(config, exchange, None, error.reason)
            await answer_upstream_error(send, error, variant, upstream, rid, reply_headers)
            return
        self._finished(config, exchange, outcome.status, outcome.error)
        if plan is not None and outcome.shadowable:
            if outcome.body is None:  # a shadowable outcome keeps its body
                raise RuntimeError("a shadowable answer without its body")
            request = ShadowRequest(
                request_id=rid,
                method=scope["method"],
                target=target(scope),
                headers=forwarded,
                body=body,
                primary_variant=variant,
                primary=Answer(outcome.body, outcome.content_type, outcome.content_encoding),
            )
            self.shadow.offer(request, plan)

    async def _admit(
        self,
        config: RouterConfig,
        headers: dict[str, str],
        address: str,
        rid: str,
        reply_headers: list[tuple[bytes, bytes]],
        receive: Receive,
        send: Send,
    ) -> tuple[Variant, bytes] | None:
        """The variant and the body; ``None`` once a refusal (429, 400, 413) was sent or
        the client left."""
        if self._limiter is not None and not await self._admitted(
            self._limiter.key(headers, address), rid, reply_headers, send
        ):
            return None
        try:
            breaker = self.breaker
            variant = choose_variant(
                config=config,
                headers=headers,
                draw=self._draw,
                canary_open=breaker is not None and breaker.open,
                override_allowed=override_allowed(config, headers),
            )
            body = await read_request_body(receive, headers, config.max_request_bytes)
        except RoutingError as error:
            payload = {"error": str(error), "request_id": rid}
            await send_json(send, 400, payload, headers=reply_headers)
            return None
        except BodyTooLarge:
            message = f"request body larger than max_request_bytes ({config.max_request_bytes})"
            await send_json(send, 413, {"error": message, "request_id": rid}, headers=reply_headers)
            return None
        except ClientGone:
            return None
        return variant, body

    def _finished(
        self, config: RouterConfig, exchange: Exchange, status: int | None, error: str | None
    ) -> None:
        """Count, log and judge one forwarded request (``status`` None: no answer came)."""
        seconds = time.perf_counter() - exchange.started
        variant = exchange.variant
        if error is not None and error != CLIENT_DISCONNECT:
            self.metrics.upstream_error(variant, error)
            log.warning(
                "upstream failed",
                extra={
                    "request_id": exchange.request_id,
                    "variant": variant.value,
                    "reason": error,
                    "upstream": exchange.upstream.url,
                    "status": status,
                },
            )
        self.metrics.request(variant, status, seconds)
        self.access_log.write(config, exchange, status, seconds)
        breaker = self.breaker
        judged = variant is Variant.CANARY and breaker is not None and error != CLIENT_DISCONNECT
        if judged and breaker is not None and breaker.record(status):
            self.metrics.breaker_open.labels(variant=variant.value).set(1)
            self.metrics.breaker_trips.labels(variant=variant.value).inc()
            log.error("breaker tripped: canary traffic goes to stable", extra=breaker.view())

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


def _local_port(scope: Message) -> int | None:
    server = scope.get("server")
    return server[1] if server else None
