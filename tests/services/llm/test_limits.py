"""The LLM service's input limits and decoding refusals (pure), at both sides of each bound."""

from __future__ import annotations

import pytest

from services.llm.config import LLMServiceConfig
from services.llm.loader import hub_version
from services.llm.protocol import OpenAIError, decode_json, prompt_bytes


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
    with pytest.raises(ValueError, match="CANARIA_LLM_REVISION"):
        LLMServiceConfig.from_env({"CANARIA_LLM_REVISION": "main branch"})


def test_a_hub_model_is_versioned_by_its_revision_else_the_resolved_commit() -> None:
    assert hub_version("v1.2", "abc") == "v1.2"
    assert hub_version(None, "abc") == "abc"
    assert hub_version(None, None) == "hub"
    assert hub_version("", "") == "hub"
