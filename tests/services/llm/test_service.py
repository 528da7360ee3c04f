"""The LLM service served for real by ``bentoml serve`` on a loopback port.

One server per module, started with the session's tiny trained model; every test talks
to it over HTTP, as an OpenAI client would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from canaria.contracts.metrics import (
    LLM_COMPLETION_TOKENS_TOTAL,
    LLM_PROMPT_TOKENS_TOTAL,
    LLM_REQUESTS_TOTAL,
    LLM_TIME_PER_OUTPUT_TOKEN,
    LLM_TIME_TO_FIRST_TOKEN,
    LLM_TOKENS_PER_SECOND,
)
from canaria.testing.metrics import MetricSamples, metric_samples, metric_value
from canaria.testing.running import RunningProcess, free_port, running

pytestmark = pytest.mark.slow  # starts real processes or trains a model

TIMEOUT = httpx.Timeout(60.0)
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
QUESTION = [{"role": "user", "content": "How do I cancel my Basic 5 plan?"}]


@pytest.fixture(scope="module")
def server(
    llm_model_tag: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("llm-serve") / "serve.log"
    command = ["bentoml", "serve", "services.llm.service:LLMService", "--host", "127.0.0.1"]
    with running(
        [*command, "--port", str(port)],
        log_path=log_path,
        port=port,
        ready_path="/readyz",
        env={"CANARIA_LLM_MODEL": llm_model_tag, "CANARIA_LLM_DEVICE": "cpu"},
        timeout=180,
    ) as process:
        yield process


@pytest.fixture(scope="module")
def client(server: RunningProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as http:
        yield http


def sse_payloads(client: httpx.Client, path: str, body: dict[str, Any]) -> list[str]:
    """The ``data:`` payloads of one streamed response, in order."""
    payloads: list[str] = []
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                payloads.append(line.removeprefix("data: "))
            else:
                assert line == "", f"unexpected SSE line {line!r}"
    return payloads


def scrape(client: httpx.Client) -> MetricSamples:
    return metric_samples(client.get("/metrics").text)


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


def test_completion_stream_ends_with_finish_reason_and_done(client: httpx.Client) -> None:
    payloads = sse_payloads(client, COMPLETIONS, {"prompt": "Customer: Hello.", "max_tokens": 10})

    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    assert len(chunks) >= 3
    assert chunks[-1]["choices"][0]["finish_reason"] in {"stop", "length"}
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-1])


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


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        (COMPLETIONS, {"prompt": "hi", "max_tokens": 0}, 400, "max_tokens"),
        (COMPLETIONS, {"prompt": "hi", "max_tokens": 100_000}, 400, "max_tokens"),
        (COMPLETIONS, {"prompt": "hi", "max_tokens": "ten"}, 400, "max_tokens"),
        (COMPLETIONS, {"prompt": "hi", "temperature": 5}, 400, "temperature"),
        (COMPLETIONS, {"prompt": "hi", "top_p": 1.5}, 400, "top_p"),
        (COMPLETIONS, {"prompt": 42}, 400, "prompt"),
        (COMPLETIONS, {"prompt": "hi", "stream": "yes"}, 400, "stream"),
        (COMPLETIONS, {"prompt": "hi", "n": 3}, 400, "n"),
        (COMPLETIONS, {"prompt": "word " * 400}, 400, "prompt"),
        (COMPLETIONS, {"prompt": "Customer: hi " * 20, "max_tokens": 250}, 400, "prompt"),
        (COMPLETIONS, {"prompt": "hi", "model": "gpt-4"}, 404, "model"),
        (CHAT, {"messages": []}, 400, "messages"),
        (CHAT, {"messages": [{"role": "wizard", "content": "hi"}]}, 400, "messages[0].role"),
        (CHAT, {"messages": [{"role": "user", "content": None}]}, 400, "messages[0].content"),
        (CHAT, {"messages": QUESTION, "max_completion_tokens": 0}, 400, "max_completion_tokens"),
        (CHAT, {"messages": [{"role": "user", "content": "hi " * 400}]}, 400, "messages"),
        (CHAT, {"messages": QUESTION, "stream": True, "temperature": 9}, 400, "temperature"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_parameter(
    client: httpx.Client, path: str, body: dict[str, Any], status: int, param: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert param in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_a_400(client: httpx.Client, content: bytes) -> None:
    response = client.post(
        COMPLETIONS, content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_models_lists_the_served_model(client: httpx.Client, llm_model_tag: str) -> None:
    (entry,) = client.get("/v1/models").json()["data"]
    name, version = llm_model_tag.split(":")
    assert entry["id"] == name and entry["version"] == version
    assert entry["context_length"] == 256
    assert entry["metrics"]["perplexity"] > 0


def test_metrics_move_after_serving(client: httpx.Client, llm_model_tag: str) -> None:
    name, version = llm_model_tag.split(":")
    labels = {"model": name, "version": version}
    before = scrape(client)

    usage = client.post(COMPLETIONS, json={"prompt": "Customer: Hi", "max_tokens": 6}).json()[
        "usage"
    ]
    sse_payloads(client, CHAT, {"messages": QUESTION, "max_tokens": 4})
    client.post(COMPLETIONS, json={"prompt": "hi", "max_tokens": 0})
    after = scrape(client)

    def moved(name: str, **extra: str) -> float:
        return metric_value(after, name, **labels, **extra) - metric_value(
            before, name, **labels, **extra
        )

    assert moved(LLM_PROMPT_TOKENS_TOTAL) >= usage["prompt_tokens"] + 1
    assert moved(LLM_COMPLETION_TOKENS_TOTAL) >= usage["completion_tokens"] + 1
    assert moved(f"{LLM_TIME_TO_FIRST_TOKEN}_count") == 2
    assert moved(f"{LLM_TOKENS_PER_SECOND}_count") == 2
    assert moved(f"{LLM_TIME_PER_OUTPUT_TOKEN}_count") >= 1
    assert moved(LLM_REQUESTS_TOTAL, endpoint="completions", status="200") == 1
    assert moved(LLM_REQUESTS_TOTAL, endpoint="chat_completions", status="200") == 1
    assert moved(LLM_REQUESTS_TOTAL, endpoint="completions", status="400") == 1
    assert metric_value(after, f"{LLM_TIME_TO_FIRST_TOKEN}_sum", **labels) > 0


def test_ignore_eos_generates_exactly_max_tokens(client: httpx.Client) -> None:
    body = {"prompt": "Customer: Thanks!\nAgent:", "max_tokens": 40, "ignore_eos": True}
    response = client.post(COMPLETIONS, json=body).json()
    assert response["usage"]["completion_tokens"] == 40
    assert response["choices"][0]["finish_reason"] == "length"


def test_an_abandoned_stream_stops_generating(client: httpx.Client, llm_model_tag: str) -> None:
    name, version = llm_model_tag.split(":")
    labels = {"model": name, "version": version}
    before = scrape(client)
    body = {"prompt": "Customer: Hi", "max_tokens": 250, "ignore_eos": True, "stream": True}

    with client.stream("POST", COMPLETIONS, json=body) as response:
        next(line for line in response.iter_lines() if line.startswith("data: "))
    # The server notices the closed connection, counts it and stops the worker thread.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = scrape(client)
        abandoned = metric_value(after, LLM_REQUESTS_TOTAL, **labels, status="499")
        if abandoned > metric_value(before, LLM_REQUESTS_TOTAL, **labels, status="499"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the abandoned stream was not counted with status 499")
    generated = metric_value(after, LLM_COMPLETION_TOKENS_TOTAL, **labels) - metric_value(
        before, LLM_COMPLETION_TOKENS_TOTAL, **labels
    )
    assert 1 <= generated < 250


def json_log_lines(server: RunningProcess, request_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The server's JSON log line for each of ``request_ids``, waiting a little for them."""
    deadline = time.monotonic() + 10
    while True:
        found = {
            line["request_id"]: line
            for line in (json.loads(text) for text in server.log().splitlines() if text[:1] == "{")
            if line.get("request_id") in request_ids
        }
        if set(found) == request_ids or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_each_request_is_logged_as_json_with_its_request_id(
    client: httpx.Client, server: RunningProcess
) -> None:
    def ask(path: str, body: dict[str, Any], request_id: str) -> httpx.Response:
        return client.post(path, json=body, headers={"x-request-id": request_id})

    answered = ask(COMPLETIONS, {"prompt": "Customer: Hi", "max_tokens": 3}, "llm-log-1")
    refused = ask(COMPLETIONS, {"prompt": "hi", "max_tokens": 0}, "llm-log-2")
    with client.stream(
        "POST",
        CHAT,
        json={"messages": QUESTION, "max_tokens": 3, "stream": True},
        headers={"x-request-id": "llm-log-3"},
    ) as streamed:
        assert streamed.headers["x-request-id"] == "llm-log-3"
        streamed.read()
    unnamed = client.post(COMPLETIONS, json={"prompt": "hi", "max_tokens": 1})

    assert answered.headers["x-request-id"] == "llm-log-1"
    assert refused.headers["x-request-id"] == "llm-log-2"
    assert len(unnamed.headers["x-request-id"]) == 32  # a fresh id when the caller sent none
    lines = json_log_lines(server, {"llm-log-1", "llm-log-2", "llm-log-3"})
    usage = answered.json()["usage"]
    assert lines["llm-log-1"]["msg"] == "generation finished"
    assert lines["llm-log-1"]["endpoint"] == "completions"
    assert lines["llm-log-1"]["completion_tokens"] == usage["completion_tokens"]
    assert lines["llm-log-1"]["prompt_tokens"] == usage["prompt_tokens"]
    assert lines["llm-log-1"]["latency_ms"] > 0
    assert lines["llm-log-2"]["msg"] == "request refused"
    assert (lines["llm-log-2"]["status"], lines["llm-log-2"]["param"]) == (400, "max_tokens")
    assert lines["llm-log-3"]["msg"] == "generation finished"
    assert lines["llm-log-3"]["endpoint"] == "chat_completions"


def test_server_log_has_no_prompt_text(server: RunningProcess) -> None:
    """Prompts may carry personal data: nothing the tests sent appears in the log."""
    assert "How do I cancel my Basic 5 plan?" not in server.log()
    assert Path(server.log_path).exists()
