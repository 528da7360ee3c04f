"""The shadow: after the primary answered, send the same request to the shadow and compare.

The primary's answer has already been sent when ``offer`` is called, so nothing here can
delay or change it. At most ``max_in_flight`` shadow requests run at once; past that a
sampled request is dropped and counted. Every failure is counted by reason and never
raised: a slow, down or broken shadow only shows up in the metrics.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from canaria.contracts.logs import digest, get_logger, redact
from canaria.contracts.metrics import Variant

from .answers import AnswerError
from .client import UpstreamError, UpstreamPool
from .compare import Answer, Comparator, Comparison
from .config import ShadowSettings, UpstreamSettings
from .encoding import UnsupportedEncoding, decode
from .metrics import RouterMetrics
from .proxy import header_value

log = get_logger("router.shadow")

SHADOW_HEADER = (b"x-canaria-shadow", b"1")


@dataclass(frozen=True)
class ShadowRequest:
    """A copy of a request the primary answered, with the primary's answer."""

    request_id: str
    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    primary_variant: Variant
    primary: Answer


@dataclass(frozen=True)
class ShadowPlan:
    """Where and how copies go under the current config (rebuilt on every change)."""

    upstream: UpstreamSettings
    settings: ShadowSettings
    comparator: Comparator
    never_log: frozenset[str]


class ShadowMirror:
    """Sends copies of primary requests to the shadow upstream in the background and
    compares its answers with the primary's.

    ``offer`` never waits: beyond ``max_in_flight`` copies running, a copy is dropped and
    counted. Shadow failures (connect, timeout, status, invalid) are counted and logged
    without personal data; they never touch the primary's answer.
    """

    def __init__(
        self,
        *,
        metrics: RouterMetrics,
        pool: UpstreamPool,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._metrics = metrics
        self._pool = pool
        self._draw = draw
        self._tasks: set[asyncio.Task[None]] = set()

    def offer(self, request: ShadowRequest, plan: ShadowPlan) -> None:
        """Start the shadow request in the background, or drop it if too many are running."""
        if len(self._tasks) >= plan.settings.max_in_flight:
            self._metrics.shadow_dropped.inc()
            return
        task = asyncio.get_running_loop().create_task(self._run(request, plan))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, request: ShadowRequest, plan: ShadowPlan) -> None:
        try:
            answer = await self._ask(request, plan)
            if answer is None:
                return
            limit = plan.settings.max_answer_bytes
            try:
                primary, shadow = _decoded(request.primary, limit), _decoded(answer, limit)
                comparison = await plan.comparator.compare(primary, shadow)
            except UnsupportedEncoding:
                self._metrics.shadow_failed("encoding")
                return
            except AnswerError:
                self._metrics.shadow_failed("invalid")
                return
            self._metrics.compared(
                plan.comparator.kind.value,
                agree=comparison.agree,
                difference=comparison.difference,
            )
            if not comparison.agree and self._draw() < plan.settings.disagreement_log_rate:
                self._log_disagreement(request, plan, comparison)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the shadow must never take the router down
            self._metrics.shadow_failed("error")
            log.error(
                "shadow comparison failed",
                extra={"request_id": request.request_id, "error_type": type(error).__name__},
            )

    async def _ask(self, request: ShadowRequest, plan: ShadowPlan) -> Answer | None:
        """The shadow's answer, or ``None`` after counting why there is none."""
        limit = plan.settings.max_answer_bytes
        seconds = plan.upstream.timeout_seconds
        try:
            async with asyncio.timeout(seconds):  # the whole exchange, start to end
                response = await self._pool.request(
                    plan.upstream.url,
                    method=request.method,
                    target=request.target,
                    headers=[*request.headers, SHADOW_HEADER],
                    body=request.body,
                    timeout=seconds,
                )
                async with response:
                    if not 200 <= response.status < 300:
                        self._metrics.shadow_failed("status")
                        return None
                    body = await response.read(limit)
        except TimeoutError:
            self._metrics.shadow_failed("timeout")
            return None
        except UpstreamError as error:
            self._metrics.shadow_failed(error.reason)
            return None
        if len(body) > limit:
            self._metrics.shadow_failed("invalid")
            return None
        encoding = header_value(response.raw_headers, b"content-encoding")
        return Answer(body, response.content_type, encoding)

    def _log_disagreement(
        self, request: ShadowRequest, plan: ShadowPlan, comparison: Comparison
    ) -> None:
        """An allowlist: ids, variant, comparator, difference, the names of the answer
        fields that differed, each side's result (classic) or digest (text), and the
        request's size and digest. No request field and no generated text is written."""
        record = {
            "request_id": request.request_id,
            "comparator": plan.comparator.kind.value,
            "difference": round(comparison.difference, 6),
            "primary_variant": request.primary_variant.value,
            "differed": list(comparison.differed),
            "primary": comparison.primary,
            "shadow": comparison.shadow,
            "request": digest(request.body),
        }
        log.warning("shadow disagreement", extra=redact(record, plan.never_log))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _decoded(answer: Answer, limit: int) -> Answer:
    """``answer`` with its content coding undone (gzip'd answers compare like plain ones)."""
    if not answer.content_encoding:
        return answer
    return Answer(decode(answer.body, answer.content_encoding, limit=limit), answer.content_type)
