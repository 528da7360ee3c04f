"""The served LLM answers in OpenAI's shapes: completions, chat, streams, stop sequences,
the model list (one ``bentoml serve`` for the package, see ``conftest.py``)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.services.llm.served import CHAT, COMPLETIONS, QUESTION, sse_payloads

pytestmark = pytest.mark.slow  # starts real processes or trains a model


def test_completion_has_openai_shape(client: httpx.Client, llm_model_tag: str) -> None:
    response = client.post(COMPLETIONS, json={"prompt": "Customer: Hi\nAgent:", "max_tokens": 8})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["model"] == llm_model_tag.split(":")[0]
    assert isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert set(choice) == {"index", "text", "logprobs", "finish_reason"}
    assert isinstance(choice["text"], str) and choice["finish_reason"] in {"stop", "length"}
    usage = body["usage"]
    assert 1 <= usage["completion_tokens"] <= 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_completion_has_openai_shape(client: httpx.Client) -> None:
    response = client.post(CHAT, json={"messages": QUESTION, "max_tokens": 12, "temperature": 0})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert isinstance(content, str) and content and content == content.lstrip()
    assert choice["finish_reason"] in {"stop", "length"}
    assert body["usage"]["completion_tokens"] <= 12


def test_chat_stream_arrives_token_by_token_and_matches_the_whole_answer(
    client: httpx.Client,
) -> None:
    request = {"messages": QUESTION, "max_tokens": 24, "temperature": 0}
    whole = client.post(CHAT, json=request).json()

    payloads = sse_payloads(client, CHAT, {**request, "stream_options": {"include_usage": True}})

    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == whole["usage"]
    final = chunks[-2]["choices"][0]
    assert final["delta"] == {} and final["finish_reason"] == whole["choices"][0]["finish_reason"]
    deltas = [chunk["choices"][0]["delta"]["content"] for chunk in chunks[1:-2]]
    # One chunk per generated token (minus an end-of-text token, which has no text).
    assert len(deltas) >= max(3, whole["usage"]["completion_tokens"] - 2)
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-2])
    assert "".join(deltas) == whole["choices"][0]["message"]["content"]


# Greedy and past end-of-text: the same ten tokens every run (sampling once let end-of-text
# come first in about one run in five, leaving fewer than three chunks).
FIXED_STREAM = {
    "prompt": "Customer: Hello.",
    "max_tokens": 10,
    "temperature": 0,
    "ignore_eos": True,
}


def test_completion_stream_ends_with_finish_reason_and_done(client: httpx.Client) -> None:
    payloads = sse_payloads(client, COMPLETIONS, FIXED_STREAM)

    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    assert len(chunks) >= 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-1])


def test_the_fixed_stream_is_the_same_every_time(client: httpx.Client) -> None:
    """The stream above is deterministic: twenty runs give one text and enough chunks."""
    texts, counts = set(), set()
    for _ in range(20):
        chunks = [json.loads(p) for p in sse_payloads(client, COMPLETIONS, FIXED_STREAM)[:-1]]
        texts.add("".join(chunk["choices"][0]["text"] for chunk in chunks))
        counts.add(len(chunks))
    assert len(texts) == 1 and min(counts) >= 3, (texts, counts)


def test_stop_sequence_ends_the_answer_before_it(client: httpx.Client) -> None:
    request = {
        "prompt": "Customer: Can I pay by credit card?\nAgent:",
        "max_tokens": 30,
        "temperature": 0,
    }
    text = client.post(COMPLETIONS, json=request).json()["choices"][0]["text"]
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    assert stop.strip(), f"greedy answer too short to pick a stop sequence: {text!r}"

    stopped = client.post(COMPLETIONS, json={**request, "stop": [stop]}).json()["choices"][0]
    streamed = sse_payloads(client, COMPLETIONS, {**request, "stop": stop})

    assert stopped["finish_reason"] == "stop"
    assert stopped["text"] == text[: text.index(stop)]
    streamed_text = "".join(json.loads(p)["choices"][0]["text"] for p in streamed[:-1])
    assert streamed_text == stopped["text"]


def test_models_lists_the_served_model(client: httpx.Client, llm_model_tag: str) -> None:
    (entry,) = client.get("/v1/models").json()["data"]
    name, version = llm_model_tag.split(":")
    assert entry["id"] == name and entry["version"] == version
    assert entry["context_length"] == 256
    assert entry["metrics"]["perplexity"] > 0


def test_ignore_eos_generates_exactly_max_tokens(client: httpx.Client) -> None:
    body = {"prompt": "Customer: Thanks!\nAgent:", "max_tokens": 40, "ignore_eos": True}
    response = client.post(COMPLETIONS, json=body).json()
    assert response["usage"]["completion_tokens"] == 40
    assert response["choices"][0]["finish_reason"] == "length"
