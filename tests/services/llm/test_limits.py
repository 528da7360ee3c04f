"""The LLM service's input limits and decoding refusals (pure), at both sides of each bound."""

from __future__ import annotations

import math
from typing import Any

import pytest

from services.llm.config import LLMServiceConfig
from services.llm.loader import hub_version
from services.llm.protocol import (
    MAX_STOP_SEQUENCES,
    CompletionRequest,
    OpenAIError,
    decode_json,
    parse_request,
    prompt_bytes,
    resolve_max_tokens,
)


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000, b'{"prompt": ' + b"[" * 100_000, b"{" * 5_000, b'{"a":' * 50_000],
    ids=["brackets", "nested-prompt", "braces", "objects"],
)
def test_any_nesting_depth_is_a_400_not_a_recursion_error(raw: bytes) -> None:
    with pytest.raises(OpenAIError) as refused:
        decode_json(raw)
    assert (refused.value.status, refused.value.code) == (400, "invalid_json")
    assert refused.value.body()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "raw", [b"\xff\xfe", b'{"prompt": "\xc3"}', b"NaN", b'{"t": Infinity}', b"", b"{"]
)
def test_every_decoding_error_is_a_400(raw: bytes) -> None:
    with pytest.raises(OpenAIError) as refused:
        decode_json(raw)
    assert refused.value.status == 400


def test_nesting_within_the_limit_still_decodes() -> None:
    assert decode_json(b"[" * 500 + b"]" * 500) is not None


def test_a_prompt_of_exactly_the_byte_limit_passes_one_byte_more_is_refused() -> None:
    assert prompt_bytes("é" * 50, param="prompt", limit=100, context_length=10) == 100
    with pytest.raises(OpenAIError) as refused:
        prompt_bytes("é" * 50 + "x", param="prompt", limit=100, context_length=10)
    error = refused.value
    assert (error.status, error.param, error.code) == (400, "prompt", "context_length_exceeded")
    assert error.message == (
        "Invalid 'prompt': it is 101 bytes; at most 100 bytes can fit the model's context "
        "of 10 tokens."
    )


def test_bytes_not_characters_are_counted() -> None:
    """50 two-byte characters are 100 bytes: over a 99-byte limit though only 50 long."""
    with pytest.raises(OpenAIError):
        prompt_bytes("é" * 50, param="messages", limit=99, context_length=10)


def test_a_lone_surrogate_is_refused_as_not_unicode() -> None:
    with pytest.raises(OpenAIError) as refused:
        prompt_bytes("hi \ud800", param="messages", limit=100, context_length=10)
    assert (refused.value.status, refused.value.param) == (400, "messages")
    assert "not valid Unicode" in refused.value.message


def test_a_revision_is_read_and_a_malformed_one_refused() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    assert LLMServiceConfig.from_env({"CANARIA_LLM_REVISION": f" {commit} "}).revision == commit
    assert LLMServiceConfig.from_env({}).revision is None
    with pytest.raises(ValueError, match="CANARIA_LLM_REVISION='main branch': must be a hub"):
        LLMServiceConfig.from_env({"CANARIA_LLM_REVISION": "main branch"})
    with pytest.raises(ValueError, match=r"CANARIA_LLM_REVISION='x{256}': must be a hub"):
        LLMServiceConfig.from_env({"CANARIA_LLM_REVISION": "x" * 256})


def test_a_hub_model_is_versioned_by_its_revision_else_the_resolved_commit() -> None:
    assert hub_version("v1.2", "abc") == "v1.2"
    assert hub_version(None, "abc") == "abc"
    assert hub_version(None, None) == "hub"
    assert hub_version("", "") == "hub"


@pytest.mark.parametrize(
    ("field", "accepted", "refused"),
    [
        ("temperature", [0.0, 2.0], [math.nextafter(0.0, -1.0), math.nextafter(2.0, 3.0)]),
        ("top_p", [math.nextafter(0.0, 1.0), 1.0], [0.0, math.nextafter(1.0, 2.0)]),
        ("stop", [["s"] * MAX_STOP_SEQUENCES], [["s"] * (MAX_STOP_SEQUENCES + 1)]),
        ("n", [1], [0, 2]),
    ],
)
def test_sampling_ranges_on_both_sides(field: str, accepted: list[Any], refused: list[Any]) -> None:
    for value in accepted:
        assert (
            getattr(parse_request(CompletionRequest, {"prompt": "x", field: value}), field) == value
        )
    for value in refused:
        with pytest.raises(OpenAIError) as error:
            parse_request(CompletionRequest, {"prompt": "x", field: value})
        assert (error.value.status, error.value.param) == (400, field)


def test_max_tokens_bounds_on_both_sides() -> None:
    limits = {"limit": 50, "default": 16, "prompt_param": "prompt"}
    assert resolve_max_tokens(1, room=50, **limits) == 1
    assert resolve_max_tokens(50, room=50, **limits) == 50
    for requested in (0, 51):
        with pytest.raises(OpenAIError, match=f"{requested} is not in 1..50"):
            resolve_max_tokens(requested, room=100, **limits)
    # The room left by the prompt: exactly filled is fine, one more token is not.
    assert resolve_max_tokens(30, room=30, **limits) == 30
    with pytest.raises(OpenAIError, match="at most 30 completion tokens fit") as error:
        resolve_max_tokens(31, room=30, **limits)
    assert error.value.code == "context_length_exceeded"
    assert resolve_max_tokens(None, room=1, **limits) == 1
    with pytest.raises(OpenAIError, match="fills the whole context"):
        resolve_max_tokens(None, room=0, **limits)
