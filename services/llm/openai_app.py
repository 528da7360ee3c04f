"""The OpenAI-compatible HTTP routes, as a Starlette app the BentoML service mounts at /v1.

``POST /v1/completions`` and ``POST /v1/chat/completions`` answer in one JSON body, or with
``"stream": true`` as server-sent events (``data: {...}`` chunks in OpenAI's chunk format,
then ``data: [DONE]``). ``GET /v1/models`` lists the served model. Bad input gets a 4xx in
OpenAI's error shape naming the parameter. Each request gets an ``x-request-id`` (the
caller's, or a new one), echoed in the response and carried by its JSON log lines: one
per refusal and one per finished generation, with token counts and latencies; prompts and
answers are never logged (they may carry personal data).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from canaria.contracts.logs import get_logger
from canaria.contracts.request_id import REQUEST_ID_HEADER, request_id
from services.llm.engine import Finished, LLMEngine, SamplingParams, TextDelta
from services.llm.metrics import GenerationStats, LLMMetrics
from services.llm.protocol import (
    DEFAULT_CHAT_MAX_TOKENS,
    DEFAULT_COMPLETION_MAX_TOKENS,
    SSE_DONE,
    ChatCompletionRequest,
    CompletionRequest,
    ErrorType,
    OpenAIError,
    ResponseIdentity,
    chat_chunk,
    chat_response,
    check_model,
    completion_chunk,
    completion_response,
    decode_json,
    parse_request,
    resolve_max_tokens,
    sse,
    usage,
    usage_chunk,
)

logger = get_logger("llm.requests")

MAX_BODY_BYTES = 1 << 20
# nginx's code for "client closed the request": counted when a stream is abandoned.
CLIENT_CLOSED_STATUS = 499
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Endpoint(StrEnum):
    COMPLETIONS = "completions"
    CHAT = "chat_completions"


def request_id_from(headers: Mapping[str, str]) -> str:
    """The request id for a request with ``headers`` (``canaria.contracts.request_id``)."""
    return request_id(headers.get(REQUEST_ID_HEADER))


@dataclass(frozen=True)
class RequestLog:
    """What every log line of one request carries: its id, endpoint and age; no content."""

    request_id: str
    endpoint: Endpoint
    started: float

    def fields(self, **more: Any) -> dict[str, Any]:
        elapsed_ms = round((time.monotonic() - self.started) * 1000, 2)
        return {
            "request_id": self.request_id,
            "endpoint": self.endpoint.value,
            "latency_ms": elapsed_ms,
            **more,
        }


@dataclass(frozen=True)
class OpenAIBackend:
    """What the routes need: the engine, the metrics and the service's limits."""

    engine: LLMEngine
    metrics: LLMMetrics
    max_tokens_limit: int

    def count(self, endpoint: Endpoint, status: int) -> None:
        self.metrics.count_request(
            model=self.engine.name,
            version=self.engine.version,
            endpoint=endpoint.value,
            status=status,
        )


@dataclass(frozen=True)
class _Prepared:
    """A validated request, ready to generate."""

    identity: ResponseIdentity
    prompt_ids: list[int]
    params: SamplingParams
    stream: bool
    include_usage: bool


def _error_response(error: OpenAIError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise OpenAIError(
            f"The request body is larger than {MAX_BODY_BYTES} bytes.",
            code="request_too_large",
            status=413,
        )
    return decode_json(raw)


def _prepare(backend: OpenAIBackend, endpoint: Endpoint, body: Any) -> _Prepared:
    """Validate ``body`` for ``endpoint`` and tokenize its prompt; raises ``OpenAIError``."""
    engine = backend.engine
    request: CompletionRequest | ChatCompletionRequest
    if endpoint is Endpoint.COMPLETIONS:
        request = parse_request(CompletionRequest, body)
        prompt_text, prompt_param = request.prompt, "prompt"
        requested, default = request.max_tokens, DEFAULT_COMPLETION_MAX_TOKENS
        tokens_param = "max_tokens"
    else:
        request = parse_request(ChatCompletionRequest, body)
        prompt_param = "messages"
        default = DEFAULT_CHAT_MAX_TOKENS
        if request.max_completion_tokens is not None:
            requested, tokens_param = request.max_completion_tokens, "max_completion_tokens"
        else:
            requested, tokens_param = request.max_tokens, "max_tokens"
        try:
            prompt_text = engine.render_chat(request.plain_messages())
        except Exception as error:  # a hub model's template may refuse a conversation
            raise OpenAIError(f"Invalid 'messages': {error}", param="messages") from None
    check_model(request.model, name=engine.name, version=engine.version)
    prompt_ids = engine.encode(prompt_text)
    if not prompt_ids:
        raise OpenAIError(f"Invalid '{prompt_param}': it encodes to no tokens.", param=prompt_param)
    max_tokens = resolve_max_tokens(
        requested,
        limit=min(backend.max_tokens_limit, engine.context_length - 1),
        default=default,
        room=engine.context_length - len(prompt_ids),
        prompt_param=prompt_param,
        tokens_param=tokens_param,
    )
    prefix = "cmpl" if endpoint is Endpoint.COMPLETIONS else "chatcmpl"
    return _Prepared(
        identity=ResponseIdentity.new(prefix=prefix, model=engine.name),
        prompt_ids=prompt_ids,
        params=SamplingParams(
            max_tokens=max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=request.stop_sequences,
            ignore_eos=request.ignore_eos,
        ),
        stream=request.stream,
        include_usage=request.include_usage,
    )


async def _complete(
    backend: OpenAIBackend, endpoint: Endpoint, prepared: _Prepared, log: RequestLog
) -> Response:
    """Generate the whole answer, then send it as one JSON body.

    A chat answer loses its leading whitespace: prompts rendered in the dialogue format end
    with "Agent:", and byte-level BPE puts the space before the answer's first word.
    """
    parts: list[str] = []
    finished: Finished | None = None
    events = backend.engine.stream(
        prepared.prompt_ids, prepared.params, on_done=partial(_observe, backend, log)
    )
    async with aclosing(events):
        async for event in events:
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                finished = event
    if finished is None:
        raise RuntimeError("the generation stream ended without its Finished event")
    build = completion_response if endpoint is Endpoint.COMPLETIONS else chat_response
    text = "".join(parts)
    stats = finished.stats
    body = build(
        prepared.identity,
        text=text.lstrip() if endpoint is Endpoint.CHAT else text,
        finish_reason=finished.finish_reason.value,
        usage_=usage(stats.prompt_tokens, stats.completion_tokens),
    )
    return JSONResponse(body, headers={REQUEST_ID_HEADER: log.request_id})


async def _events(
    backend: OpenAIBackend, endpoint: Endpoint, prepared: _Prepared, log: RequestLog
) -> AsyncIterator[bytes]:
    """The server-sent events of one streamed answer, one chunk per text delta."""
    identity, chat = prepared.identity, endpoint is Endpoint.CHAT
    answer_started = not chat  # chat answers drop leading whitespace, as in _complete
    status = 200
    try:
        if chat:
            yield sse(chat_chunk(identity, delta={"role": "assistant", "content": ""}))
        events = backend.engine.stream(
            prepared.prompt_ids, prepared.params, on_done=partial(_observe, backend, log)
        )
        async with aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    text = event.text if answer_started else event.text.lstrip()
                    if text:
                        answer_started = True
                        yield sse(
                            chat_chunk(identity, delta={"content": text})
                            if chat
                            else completion_chunk(identity, text=text)
                        )
                    continue
                reason = event.finish_reason.value
                yield sse(
                    chat_chunk(identity, delta={}, finish_reason=reason)
                    if chat
                    else completion_chunk(identity, text="", finish_reason=reason)
                )
                if prepared.include_usage:
                    obj = "chat.completion.chunk" if chat else "text_completion"
                    tokens = usage(event.stats.prompt_tokens, event.stats.completion_tokens)
                    yield sse(usage_chunk(identity, obj=obj, usage_=tokens))
        yield SSE_DONE
    except (asyncio.CancelledError, GeneratorExit):
        status = CLIENT_CLOSED_STATUS
        raise
    except Exception:
        # Headers are sent already: report the failure in-band, as OpenAI does.
        status = 500
        logger.exception("generation failed", extra=log.fields())
        yield sse(_server_error().body())
        yield SSE_DONE
    finally:
        backend.count(endpoint, status)


def _observe(backend: OpenAIBackend, log: RequestLog, stats: GenerationStats) -> None:
    engine = backend.engine
    backend.metrics.observe(stats, model=engine.name, version=engine.version)
    first_token = stats.time_to_first_token_s
    logger.info(
        "generation finished",
        extra=log.fields(
            model=engine.name,
            version=engine.version,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            time_to_first_token_ms=None if first_token is None else round(first_token * 1000, 2),
        ),
    )


def _server_error() -> OpenAIError:
    return OpenAIError(
        "The model failed to generate a completion.",
        code=None,
        status=500,
        error_type=ErrorType.SERVER,
    )


def _route(get_backend: Callable[[], OpenAIBackend], endpoint: Endpoint) -> Route:
    async def handle(request: Request) -> Response:
        backend = get_backend()
        log = RequestLog(request_id_from(request.headers), endpoint, time.monotonic())
        headers = {REQUEST_ID_HEADER: log.request_id}
        try:
            prepared = _prepare(backend, endpoint, await _read_json(request))
        except OpenAIError as error:
            backend.count(endpoint, error.status)
            logger.info("request refused", extra=log.fields(status=error.status, param=error.param))
            return _error_response(error, headers)
        if prepared.stream:
            return StreamingResponse(
                _events(backend, endpoint, prepared, log),
                media_type="text/event-stream",
                headers={**_SSE_HEADERS, **headers},
            )
        try:
            response = await _complete(backend, endpoint, prepared, log)
        except Exception:
            logger.exception("generation failed", extra=log.fields())
            backend.count(endpoint, 500)
            return _error_response(_server_error(), headers)
        backend.count(endpoint, 200)
        return response

    path = "/completions" if endpoint is Endpoint.COMPLETIONS else "/chat/completions"
    return Route(path, handle, methods=["POST"])


def build_openai_app(get_backend: Callable[[], OpenAIBackend]) -> Starlette:
    """The routes, relative to the mount point (``/v1``); ``get_backend`` is called per request.

    A callable rather than a backend, because the app is created when the service class is
    defined and the model is loaded later, in the service's ``__init__``.
    """

    async def models(_: Request) -> Response:
        engine = get_backend().engine
        entry = {
            "id": engine.name,
            "object": "model",
            "created": int(time.time()),
            "owned_by": "canaria",
            # Extensions: what a rollout compares between variants.
            "version": engine.version,
            "context_length": engine.context_length,
            "metrics": engine.loaded.metadata.get("metrics", {}),
        }
        return JSONResponse({"object": "list", "data": [entry]})

    async def http_error(_: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        code = {404: "unknown_url", 405: "method_not_allowed"}.get(status)
        return _error_response(
            OpenAIError(
                str(getattr(error, "detail", "")) or "Request failed.",
                code=code,
                status=status,
                error_type=ErrorType.NOT_FOUND if status == 404 else ErrorType.INVALID_REQUEST,
            )
        )

    return Starlette(
        routes=[
            _route(get_backend, Endpoint.COMPLETIONS),
            _route(get_backend, Endpoint.CHAT),
            Route("/models", models, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )
