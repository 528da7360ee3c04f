"""The pure parts of the LLM service: request validation, limits, stop sequences, config."""

from __future__ import annotations

from typing import Any

import pytest

from services.llm.config import Device, DType, LLMServiceConfig
from services.llm.engine import StopMatcher
from services.llm.loader import SourceKind, classify_source, pick_device
from services.llm.metrics import GenerationStats
from services.llm.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    OpenAIError,
    decode_json,
    error_param,
    parse_request,
    resolve_max_tokens,
)


@pytest.mark.parametrize(
    ("model", "body", "param"),
    [
        (CompletionRequest, {}, "prompt"),
        (CompletionRequest, {"prompt": ""}, "prompt"),
        (CompletionRequest, {"prompt": ["a"]}, "prompt"),
        (CompletionRequest, {"prompt": "x", "max_tokens": "10"}, "max_tokens"),
        (CompletionRequest, {"prompt": "x", "max_tokens": True}, "max_tokens"),
        (CompletionRequest, {"prompt": "x", "temperature": 2.5}, "temperature"),
        (CompletionRequest, {"prompt": "x", "temperature": -0.1}, "temperature"),
        (CompletionRequest, {"prompt": "x", "top_p": 0}, "top_p"),
        (CompletionRequest, {"prompt": "x", "stream": "yes"}, "stream"),
        (CompletionRequest, {"prompt": "x", "stop": 5}, "stop"),
        (CompletionRequest, {"prompt": "x", "stop": ["a"] * 5}, "stop"),
        (CompletionRequest, {"prompt": "x", "n": 2}, "n"),
        (
            CompletionRequest,
            {"prompt": "x", "stream_options": {"include_usage": 1}},
            "stream_options.include_usage",
        ),
        (ChatCompletionRequest, {"messages": []}, "messages"),
        (ChatCompletionRequest, {"messages": "hi"}, "messages"),
        (ChatCompletionRequest, {"messages": ["hi"]}, "messages[0]"),
        (
            ChatCompletionRequest,
            {"messages": [{"role": "bot", "content": "x"}]},
            "messages[0].role",
        ),
        (ChatCompletionRequest, {"messages": [{"role": "user"}]}, "messages[0].content"),
        (
            ChatCompletionRequest,
            {"messages": [{"role": "user", "content": 5}]},
            "messages[0].content",
        ),
        (
            ChatCompletionRequest,
            {"messages": [{"role": "user", "content": [{"type": "image_url", "text": "x"}]}]},
            "messages[0].content[0].type",
        ),
    ],
)
def test_bad_requests_name_the_parameter(model: Any, body: dict[str, Any], param: str) -> None:
    with pytest.raises(OpenAIError) as caught:
        parse_request(model, body)
    error = caught.value.body()["error"]
    assert caught.value.status == 400
    assert error["param"] == param
    assert f"'{param}'" in error["message"]
    assert error["type"] == "invalid_request_error"
    assert "ChatMessage" not in error["message"]  # no internal class names


def test_valid_requests_keep_openai_defaults_and_ignore_unknown_fields() -> None:
    request = parse_request(
        ChatCompletionRequest,
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}],
                },
            ],
            "temperature": 0,
            "stop": "\n",
            "presence_penalty": 0.5,
        },
    )
    assert request.temperature == 0.0 and request.top_p == 1.0 and request.stream is False
    assert request.stop_sequences == ("\n",)
    assert request.plain_messages()[1] == {"role": "user", "content": "Hi there"}


@pytest.mark.parametrize("raw", [b"{", b"nope", b'{"prompt": NaN}', b"\xff\xfe"])
def test_bodies_that_are_not_json_are_refused(raw: bytes) -> None:
    with pytest.raises(OpenAIError) as caught:
        decode_json(raw)
    assert caught.value.status == 400 and caught.value.code == "invalid_json"


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(OpenAIError, match="JSON object"):
        parse_request(CompletionRequest, [1, 2])


def test_error_param_spells_paths_like_openai() -> None:
    assert error_param(("messages", 0, "content", "list[TextPart]", 1, "type")) == (
        "messages[0].content[1].type"
    )
    assert error_param(("stop", "str")) == "stop"


def test_max_tokens_must_fit_the_limit_and_the_context() -> None:
    kwargs: dict[str, Any] = {"limit": 100, "default": 16, "prompt_param": "prompt"}
    assert resolve_max_tokens(None, room=200, **kwargs) == 16
    assert resolve_max_tokens(None, room=5, **kwargs) == 5  # the default shrinks to fit
    assert resolve_max_tokens(100, room=200, **kwargs) == 100
    for requested, param in ((0, "max_tokens"), (101, "max_tokens"), (50, "prompt")):
        with pytest.raises(OpenAIError) as caught:
            resolve_max_tokens(requested, room=40, **kwargs)
        assert caught.value.param == param
    with pytest.raises(OpenAIError) as caught:
        resolve_max_tokens(None, room=0, **kwargs)
    assert caught.value.param == "prompt" and caught.value.code == "context_length_exceeded"


def test_stop_matcher_cuts_at_the_first_stop_and_holds_back_possible_starts() -> None:
    matcher = StopMatcher(["\nCustomer:", "###"])
    assert matcher.split("Hello there", final=False) == ("Hello there", False)
    assert matcher.split("Hello there\nCust", final=False) == ("Hello there", False)
    assert matcher.split("Hello there #", final=False) == ("Hello there ", False)
    assert matcher.split("Hello there\nCustomer: hi", final=False) == ("Hello there", True)
    assert matcher.split("a ### b\nCustomer:", final=False) == ("a ", True)
    assert matcher.split("Hello there\nCust", final=True) == ("Hello there\nCust", False)
    assert StopMatcher([]).split("anything", final=False) == ("anything", False)


def test_generation_stats_derive_per_token_latency_and_throughput() -> None:
    stats = GenerationStats(
        prompt_tokens=5, completion_tokens=11, time_to_first_token_s=0.1, duration_s=1.1
    )
    assert stats.time_per_output_token_s == pytest.approx(0.1)
    assert stats.tokens_per_second == pytest.approx(10.0)
    empty = GenerationStats(
        prompt_tokens=5, completion_tokens=0, time_to_first_token_s=None, duration_s=0.2
    )
    assert empty.time_per_output_token_s is None and empty.tokens_per_second is None


def test_config_reads_the_environment_and_names_a_bad_variable() -> None:
    config = LLMServiceConfig.from_env(
        {"CANARIA_LLM_MODEL": "/models/x", "CANARIA_LLM_DEVICE": "CPU", "CANARIA_LLM_GPU": "1"}
    )
    assert config == LLMServiceConfig(model="/models/x", device=Device.CPU, gpu=True)
    assert LLMServiceConfig.from_env({}).model == "support-lm:latest"
    assert LLMServiceConfig.from_env({}).dtype is DType.AUTO
    assert LLMServiceConfig.from_env({}).torch_threads == 1
    assert LLMServiceConfig.from_env({"CANARIA_LLM_TORCH_THREADS": "0"}).torch_threads == 0
    for name, value in (
        ("CANARIA_LLM_DEVICE", "tpu"),
        ("CANARIA_LLM_GPU", "maybe"),
        ("CANARIA_LLM_MAX_TOKENS", "0"),
        ("CANARIA_LLM_DTYPE", "int4"),
        ("CANARIA_LLM_TORCH_THREADS", "-1"),
    ):
        with pytest.raises(ValueError, match=name):
            LLMServiceConfig.from_env({name: value})


@pytest.mark.parametrize(
    ("reference", "is_directory", "in_store", "kind"),
    [
        ("support-lm:latest", False, False, SourceKind.BENTOML),
        ("support-lm", False, True, SourceKind.BENTOML),
        ("./models/support-lm", True, False, SourceKind.PATH),
        ("Qwen/Qwen2.5-0.5B-Instruct", False, False, SourceKind.HUB),
        ("gpt2", False, False, SourceKind.HUB),
    ],
)
def test_model_references_are_classified(
    reference: str, is_directory: bool, in_store: bool, kind: SourceKind
) -> None:
    source = classify_source(reference, is_directory=is_directory, in_bento_store=in_store)
    assert source.kind is kind and source.reference == reference


def test_device_choice() -> None:
    assert pick_device(Device.AUTO, cuda_available=False) == "cpu"
    assert pick_device(Device.AUTO, cuda_available=True) == "cuda"
    with pytest.raises(ValueError, match="CANARIA_LLM_DEVICE"):
        pick_device(Device.CUDA, cuda_available=False)
