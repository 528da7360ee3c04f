"""The served LLM refuses bad input with a 4xx naming the parameter, in OpenAI's error
shape, without a traceback or a stall (one ``bentoml serve`` for the package)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from canaria.testing.running import RunningProcess
from tests.services.llm.served import CHAT, COMPLETIONS, QUESTION, json_log_lines

pytestmark = pytest.mark.slow  # starts real processes or trains a model


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


def test_deep_nesting_is_a_400_in_openai_shape_without_a_traceback(
    client: httpx.Client, server: RunningProcess
) -> None:
    """Issue 13: ``[`` x 100,000 once answered a plain-text 500 (a recursion error)."""
    for content in (b"[" * 100_000, b'{"prompt": ' + b"[" * 100_000):
        response = client.post(
            COMPLETIONS,
            content=content,
            headers={"content-type": "application/json", "x-request-id": "nested-1"},
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_json")
        assert "nested too deeply" in error["message"]
    assert set(json_log_lines(server, {"nested-1"})) == {"nested-1"}
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("path", [COMPLETIONS, CHAT])
def test_text_that_is_not_unicode_is_a_400(client: httpx.Client, path: str) -> None:
    """A lone surrogate escape decodes to text no tokenizer can encode."""
    text = "Customer: LONE hi"
    payload = (
        {"prompt": text}
        if path == COMPLETIONS
        else {"messages": [{"role": "user", "content": text}]}
    )
    body = json.dumps(payload).replace("LONE", "\\ud800")
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == ("prompt" if path == COMPLETIONS else "messages")
    assert "unicode" in error["message"].lower()


def test_a_1_mb_prompt_is_refused_by_its_bytes_and_does_not_stall_the_server(
    client: httpx.Client,
) -> None:
    """Issue 13: eight 1 MB prompts were tokenized on the event loop for ~1.1 s each,
    stalling ``GET /v1/models`` to 2 s. They are refused by length before tokenizing."""
    prompt = "Customer: please help. " * (1_000_000 // 23)

    def ask(_: int) -> httpx.Response:
        return client.post(COMPLETIONS, json={"prompt": prompt, "max_tokens": 1})

    with ThreadPoolExecutor(max_workers=9) as pool:
        refused = [pool.submit(ask, index) for index in range(8)]
        started = time.monotonic()
        models = client.get("/v1/models")
        listed_in = time.monotonic() - started
        answers = [future.result() for future in refused]
    assert models.status_code == 200
    assert listed_in < 1.0, listed_in
    for answer in answers:
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["param"], error["code"]) == ("prompt", "context_length_exceeded")
        assert f"it is {len(prompt.encode())} bytes" in error["message"]
