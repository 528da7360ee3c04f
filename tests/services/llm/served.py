"""Shared by the ``test_service_*`` files: the LLM service's routes and HTTP helpers.

The server and client fixtures live in ``conftest.py`` (one ``bentoml serve`` for the
whole package); these are plain functions over them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from canaria.testing.metrics import MetricSamples, metric_samples
from canaria.testing.running import RunningProcess

TIMEOUT = httpx.Timeout(60.0)
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
QUESTION = [{"role": "user", "content": "How do I cancel my Basic 5 plan?"}]


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
    """The server's ``/metrics`` now, parsed."""
    return metric_samples(client.get("/metrics").text)


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
