"""What the served LLM reports: its metrics, abandoned streams, one JSON log line per
request with its id, and no prompt or answer text in the log (one ``bentoml serve`` for
the package, see ``conftest.py``)."""

from __future__ import annotations

import time
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
from canaria.testing.metrics import metric_value, series_value
from canaria.testing.running import RunningProcess
from tests.services.llm.served import (
    CHAT,
    COMPLETIONS,
    QUESTION,
    json_log_lines,
    scrape,
    sse_payloads,
)

pytestmark = pytest.mark.slow  # starts real processes or trains a model


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
        return series_value(after, name, **labels, **extra) - metric_value(
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
    assert series_value(after, f"{LLM_TIME_TO_FIRST_TOKEN}_sum", **labels) > 0


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
        abandoned = metric_value(after, LLM_REQUESTS_TOTAL, **labels, status="499")  # polled
        if abandoned > metric_value(before, LLM_REQUESTS_TOTAL, **labels, status="499"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the abandoned stream was not counted with status 499")
    generated = series_value(after, LLM_COMPLETION_TOKENS_TOTAL, **labels) - metric_value(
        before, LLM_COMPLETION_TOKENS_TOTAL, **labels
    )
    assert 1 <= generated < 250


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


def test_server_log_has_no_prompt_text(client: httpx.Client, server: RunningProcess) -> None:
    """Prompts and answers may carry personal data: this test's own prompt, answered,
    streamed and refused, never reaches the log, though each request's line does."""
    secret = "Jane Roe, IBAN DE89370400440532013000, asks"
    answers = [
        client.post(
            COMPLETIONS,
            json={"prompt": secret, "max_tokens": 4},
            headers={"x-request-id": "privacy-1"},
        ),
        client.post(
            CHAT,
            json={"messages": [{"role": "user", "content": secret}], "max_tokens": 4},
            headers={"x-request-id": "privacy-2"},
        ),
        client.post(
            COMPLETIONS,
            json={"prompt": secret, "max_tokens": 0},
            headers={"x-request-id": "privacy-3"},
        ),
    ]
    with client.stream(
        "POST",
        CHAT,
        json={"messages": [{"role": "user", "content": secret}], "stream": True, "max_tokens": 4},
        headers={"x-request-id": "privacy-4"},
    ) as streamed:
        streamed.read()
    assert [answer.status_code for answer in answers] == [200, 200, 400]
    generated = [answers[0].json()["choices"][0]["text"], answers[1].json()["choices"][0]]
    ids = {"privacy-1", "privacy-2", "privacy-3", "privacy-4"}
    assert set(json_log_lines(server, ids)) == ids
    log = Path(server.log_path).read_text()
    assert secret not in log
    for word in ("Jane", "Roe", "IBAN", "DE89370400440532013000"):
        assert word not in log
    answer_text = str(generated[0]).strip()
    if len(answer_text) >= 8:  # a short answer may be a common word of any log line
        assert answer_text not in log
