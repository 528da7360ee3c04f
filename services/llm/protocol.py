"""The OpenAI completions and chat-completions wire format: requests, errors, responses.

Requests are pydantic models in strict mode, so ``"max_tokens": "10"`` or
``"stream": "yes"`` is refused the way OpenAI refuses it, instead of being coerced. Every
refusal is an ``OpenAIError`` that renders as OpenAI's error body and names the parameter.
Unknown fields are ignored, as OpenAI-compatible servers do, so that clients sending
newer or vendor-specific options still work.

Everything here is pure: no model, no I/O.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_STOP_SEQUENCES = 4
DEFAULT_COMPLETION_MAX_TOKENS = 16  # OpenAI's default for /v1/completions
DEFAULT_CHAT_MAX_TOKENS = 128

SSE_DONE = b"data: [DONE]\n\n"

RequestT = TypeVar("RequestT", bound=BaseModel)


class ErrorType(StrEnum):
    INVALID_REQUEST = "invalid_request_error"
    NOT_FOUND = "not_found_error"
    SERVER = "server_error"


class OpenAIError(Exception):
    """A request the service refuses, rendered as ``{"error": {...}}`` with its status."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = "invalid_value",
        status: int = 400,
        error_type: ErrorType = ErrorType.INVALID_REQUEST,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type.value,
                "param": self.param,
                "code": self.code,
            }
        }


_Temperature = Annotated[float, Field(ge=0.0, le=2.0, allow_inf_nan=False)]
_TopP = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    include_usage: bool = False


class _SamplingRequest(BaseModel):
    """Fields shared by both endpoints."""

    model_config = ConfigDict(extra="ignore", strict=True)

    model: str | None = None
    max_tokens: int | None = None
    temperature: _Temperature = 1.0
    top_p: _TopP = 1.0
    n: int = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    # vLLM's extension: generate exactly max_tokens (benchmarks want fixed lengths).
    ignore_eos: bool = False

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only n=1 is supported")
        return value

    @field_validator("stop")
    @classmethod
    def _stop_sequences(cls, value: str | list[str] | None) -> str | list[str] | None:
        sequences = [value] if isinstance(value, str) else (value or [])
        if len(sequences) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed")
        if any(not sequence for sequence in sequences):
            raise ValueError("stop sequences must not be empty")
        return value

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


class CompletionRequest(_SamplingRequest):
    """``POST /v1/completions``: one text prompt."""

    prompt: Annotated[str, Field(min_length=1)]


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class ChatCompletionRequest(_SamplingRequest):
    """``POST /v1/chat/completions``: a conversation of at least one message."""

    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    # OpenAI's newer name for max_tokens on this endpoint.
    max_completion_tokens: int | None = None

    def plain_messages(self) -> list[dict[str, str]]:
        """The messages as ``{"role", "content"}`` dicts for a chat template."""
        return [{"role": message.role, "content": message.text} for message in self.messages]


# Pydantic puts the union member that failed into an error's location; these are not fields.
_UNION_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict"})


def error_param(location: Sequence[int | str]) -> str:
    """OpenAI's spelling of a field path: ``messages[0].role`` (pure)."""
    param = ""
    for part in location:
        if isinstance(part, int):
            param += f"[{part}]"
        elif part.isidentifier() and part not in _UNION_TAGS:
            param += f".{part}" if param else part
    return param


def _error_code(pydantic_type: str) -> str:
    if pydantic_type == "missing":
        return "missing_required_parameter"
    if pydantic_type.endswith("_type"):
        return "invalid_type"
    return "invalid_value"


def describe_validation_error(error: ValidationError) -> OpenAIError:
    """The most specific problem in ``error`` as an ``OpenAIError`` (pure).

    The deepest location wins (a bad ``messages[0].content[0].type`` rather than "content is
    not a string"); when every member of a union failed on type, their expectations are
    joined ("a valid string or a valid list").
    """
    problems = error.errors(include_url=False)
    deepest = max(problems, key=lambda problem: len(problem["loc"]))
    param = error_param(deepest["loc"])
    same_field = [problem for problem in problems if error_param(problem["loc"]) == param]
    if len(same_field) > 1 and all(p["type"].endswith("_type") for p in same_field):
        expected = " or ".join(p["msg"].removeprefix("Input should be ") for p in same_field)
        message = f"Input should be {expected}"
    elif deepest["type"] == "model_type":
        message = "Input should be a JSON object"  # pydantic would name our class
    else:
        message = str(deepest["msg"]).removeprefix("Value error, ")
    return OpenAIError(
        f"Invalid '{param}': {message}." if param else f"{message}.",
        param=param or None,
        code=_error_code(str(deepest["type"])),
    )


def parse_request(model: type[RequestT], body: Any) -> RequestT:
    """Validate a decoded JSON body; a problem becomes an ``OpenAIError`` naming its field."""
    if not isinstance(body, dict):
        raise OpenAIError("The request body must be a JSON object.", code="invalid_type")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise describe_validation_error(error) from None


def decode_json(raw: bytes) -> Any:
    """Decode a request body, refusing invalid JSON and non-finite numbers."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(raw, parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise OpenAIError(
            "The request body is not valid JSON.", code="invalid_json", param=None
        ) from None
    except RecursionError:
        raise OpenAIError(
            "The request body is nested too deeply.", code="invalid_json", param=None
        ) from None


def prompt_bytes(text: str, *, param: str, limit: int, context_length: int) -> int:
    """The UTF-8 length of a prompt, checked before it is tokenized (pure).

    Refuses text that is not valid Unicode (a lone surrogate from a ``\\ud800`` escape) and
    text longer than ``limit`` bytes, which cannot fit ``context_length`` tokens.
    """
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise OpenAIError(
            f"Invalid '{param}': it is not valid Unicode (a lone surrogate).", param=param
        ) from None
    if size > limit:
        raise OpenAIError(
            f"Invalid '{param}': it is {size} bytes; at most {limit} bytes can fit the "
            f"model's context of {context_length} tokens.",
            param=param,
            code="context_length_exceeded",
        )
    return size


def resolve_max_tokens(
    requested: int | None,
    *,
    limit: int,
    default: int,
    room: int,
    prompt_param: str,
    tokens_param: str = "max_tokens",
) -> int:
    """The completion length to generate, or an error naming what is wrong (pure).

    ``room`` is the context length minus the prompt's tokens. An explicit ``max_tokens``
    must be in 1..limit and fit the room; the default shrinks to fit it.
    """
    if room < 1:
        raise OpenAIError(
            f"Invalid '{prompt_param}': the prompt fills the whole context; "
            "shorten it to leave room for at least one completion token.",
            param=prompt_param,
            code="context_length_exceeded",
        )
    if requested is None:
        return max(1, min(default, limit, room))
    if not 1 <= requested <= limit:
        raise OpenAIError(
            f"Invalid '{tokens_param}': {requested} is not in 1..{limit}.",
            param=tokens_param,
        )
    if requested > room:
        raise OpenAIError(
            f"Invalid '{prompt_param}': the prompt plus {tokens_param} ({requested}) exceeds "
            f"the context length; at most {room} completion tokens fit after this prompt.",
            param=prompt_param,
            code="context_length_exceeded",
        )
    return requested


def check_model(requested: str | None, *, name: str, version: str) -> None:
    """Refuse a request for a model this server does not serve (pure)."""
    if requested is None or requested in {name, f"{name}:{version}"}:
        return
    raise OpenAIError(
        f"The model '{requested}' does not exist; this server serves '{name}'.",
        param="model",
        code="model_not_found",
        status=404,
        error_type=ErrorType.NOT_FOUND,
    )


@dataclass(frozen=True)
class ResponseIdentity:
    """What every response and chunk of one request repeats."""

    id: str
    created: int
    model: str

    @classmethod
    def new(cls, *, prefix: str, model: str) -> ResponseIdentity:
        return cls(id=f"{prefix}-{uuid.uuid4().hex}", created=int(time.time()), model=model)


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _envelope(identity: ResponseIdentity, obj: str) -> dict[str, Any]:
    return {"id": identity.id, "object": obj, "created": identity.created, "model": identity.model}


def completion_response(
    identity: ResponseIdentity, *, text: str, finish_reason: str, usage_: dict[str, int]
) -> dict[str, Any]:
    choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}
    return {**_envelope(identity, "text_completion"), "choices": [choice], "usage": usage_}


def completion_chunk(
    identity: ResponseIdentity, *, text: str, finish_reason: str | None = None
) -> dict[str, Any]:
    choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}
    return {**_envelope(identity, "text_completion"), "choices": [choice]}


def chat_response(
    identity: ResponseIdentity, *, text: str, finish_reason: str, usage_: dict[str, int]
) -> dict[str, Any]:
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "logprobs": None,
        "finish_reason": finish_reason,
    }
    return {**_envelope(identity, "chat.completion"), "choices": [choice], "usage": usage_}


def chat_chunk(
    identity: ResponseIdentity, *, delta: dict[str, str], finish_reason: str | None = None
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**_envelope(identity, "chat.completion.chunk"), "choices": [choice]}


def usage_chunk(identity: ResponseIdentity, *, obj: str, usage_: dict[str, int]) -> dict[str, Any]:
    """The extra last chunk sent when ``stream_options.include_usage`` is set."""
    return {**_envelope(identity, obj), "choices": [], "usage": usage_}


def sse(payload: dict[str, Any]) -> bytes:
    """One server-sent event carrying ``payload`` as JSON."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode("utf-8") + b"\n\n"
