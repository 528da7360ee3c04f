"""BentoML's own error answers on the scoring routes, in the documented shape.

The descriptors in ``io_descriptors.py`` answer 200, 400, 413 and 422 themselves, with an
``x-request-id`` header. Other errors come from BentoML: 503 when its batching queue sheds
a request (it would wait longer than ``max_latency_ms``), 500 when the model raises, 415 for
its pickle content type. BentoML answers those with ``{"error": ...}`` bodies that say
"please check the server log" (503 included), no ``Retry-After``, and a traceback in the
log for every shed or 415 request. ``ErrorAnswers`` (an ASGI middleware) replaces such
answers with ``{"error", "request_id"}``, adds ``Retry-After`` to a 503 and logs one JSON
line per failed request; ``quiet_expected_errors`` drops BentoML's traceback of a 4xx or
shed request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from http import HTTPStatus
from typing import Any

from bentoml.exceptions import BentoMLException, ServiceUnavailable
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from canaria.contracts.logs import get_logger
from services.classic.io_descriptors import REQUEST_ID_HEADER, request_id_from
from services.classic.openapi import RETRY_AFTER_SECONDS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCORING_ROUTES = ("/predict", "/predict_batch")
# BentoML logs a request's exception here (bentoml._internal.server.http_app.log_exception).
BENTOML_REQUEST_LOGGER = "bentoml._internal.server.http_app"

logger = get_logger("classic.http")

_MESSAGES = {
    415: "unsupported content type: send application/json",
    500: "the model failed to score the request; the service log has the details",
    503: "overloaded: the request would wait in the batching queue longer than its latency "
    "bound (CANARIA_CLASSIC_BATCH_LATENCY_MS); retry after the Retry-After seconds",
}


def error_body(status: int, request_id: str) -> dict[str, str]:
    """The documented body of a BentoML error answer with ``status`` (pure)."""
    message = _MESSAGES.get(status) or HTTPStatus(status).phrase.lower()
    return {"error": message, "request_id": request_id}


def error_headers(status: int, request_id: str) -> dict[str, str]:
    """Its headers: the request id, and ``Retry-After`` on 503 (pure)."""
    headers = {REQUEST_ID_HEADER: request_id}
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return headers


class ErrorAnswers:
    """ASGI middleware: on ``routes``, an error answer without ``x-request-id`` (so not one
    of ours) is replaced by ``error_body``/``error_headers`` and logged."""

    def __init__(self, app: ASGIApp, routes: Collection[str] = SCORING_ROUTES) -> None:
        self.app = app
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.routes:
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope))
        replaced: list[int] = []

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status >= 400 and REQUEST_ID_HEADER not in Headers(raw=message["headers"]):
                    replaced.append(status)
                    return
            elif replaced and message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await self._replace(replaced[0], request_id, scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, answer)

    @staticmethod
    async def _replace(
        status: int, request_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        logger.warning(
            "request failed",
            extra={"route": scope["path"].lstrip("/"), "request_id": request_id, "status": status},
        )
        response = JSONResponse(
            error_body(status, request_id),
            status_code=status,
            headers=error_headers(status, request_id),
        )
        await response(scope, receive, send)


def is_expected(error: BaseException | None) -> bool:
    """Whether BentoML raised ``error`` for a client error (4xx) or shedding (503) rather
    than a failure worth a traceback (pure)."""
    if isinstance(error, ServiceUnavailable):
        return True
    return isinstance(error, BentoMLException) and int(error.error_code) < 500


class _NoExpectedTracebacks(logging.Filter):
    """Drops BentoML's "Exception on /predict" record of an expected error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not is_expected(record.exc_info[1] if record.exc_info else None)


def quiet_expected_errors() -> None:
    """Keep the tracebacks of 4xx and shed (503) requests out of the log; ``ErrorAnswers``
    logs one line for each instead. A 500 keeps its traceback."""
    bentoml_logger = logging.getLogger(BENTOML_REQUEST_LOGGER)
    if not any(isinstance(f, _NoExpectedTracebacks) for f in bentoml_logger.filters):
        bentoml_logger.addFilter(_NoExpectedTracebacks())
