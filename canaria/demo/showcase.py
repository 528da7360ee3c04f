"""Step 2, continued: one prediction, one chat completion and one streamed completion.

Each returns a short transcript line for the report; any refusal or timeout becomes a
``ComponentError`` naming the server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from canaria.demo.console import partial, say
from canaria.demo.stack import ComponentError

PERSONAL_FIELDS = ("customer_id",)
CHAT_PROMPT = "My invoice shows a charge twice. What should I do?"
COMPLETION_PROMPT = "To reset your password,"
SSE_PREFIX = "data: "
SSE_DONE = "[DONE]"


def _answer(component: str, response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise ComponentError(component, f"answered {response.status_code}: {response.text[:300]}")
    return response.json()


def _without_personal(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in PERSONAL_FIELDS}


def show_prediction(url: str, record: Mapping[str, Any], *, timeout: float) -> str:
    """POST one churn record to ``/predict``; print the features and the answer."""
    try:
        response = httpx.post(f"{url}/predict", json=dict(record), timeout=timeout)
    except httpx.HTTPError as error:
        raise ComponentError("classic service", f"POST /predict failed: {error!r}") from None
    answer = _answer("classic service", response)
    features = ", ".join(f"{k}={v}" for k, v in _without_personal(record).items())
    say(f"POST {url}/predict  (customer_id not shown: personal data)")
    say(features, indent=2)
    line = (
        f"-> {answer['predicted_class']} (p={answer['probability']:.3f}) by {answer['model_tag']}"
    )
    say(line, indent=2)
    return f"prediction: {answer['predicted_class']} p={answer['probability']:.3f}"


def show_chat(url: str, *, max_tokens: int, timeout: float) -> str:
    """One non-streamed chat completion."""
    body = {
        "messages": [{"role": "user", "content": CHAT_PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0.7,
    }
    try:
        response = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=timeout)
    except httpx.HTTPError as error:
        raise ComponentError("LLM service", f"chat completion failed: {error!r}") from None
    answer = _answer("LLM service", response)
    text = str(answer["choices"][0]["message"]["content"])
    usage = answer.get("usage") or {}
    say(f"POST {url}/v1/chat/completions")
    say(f"user: {CHAT_PROMPT}", indent=2)
    say(f"assistant: {text.strip()!r}", indent=2)
    say(f"usage: {usage}", indent=2)
    return f"chat: {text.strip()[:120]!r}"


def sse_payloads(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent event stream, up to ``[DONE]`` (pure)."""
    for line in lines:
        if not line.startswith(SSE_PREFIX):
            continue
        data = line[len(SSE_PREFIX) :].strip()
        if data == SSE_DONE:
            return
        yield json.loads(data)


def show_stream(url: str, *, max_tokens: int, timeout: float) -> str:
    """A streamed completion, printed chunk by chunk as the chunks arrive."""
    body = {"prompt": COMPLETION_PROMPT, "max_tokens": max_tokens, "stream": True}
    say(f"POST {url}/v1/completions  (stream: tokens printed as they arrive)")
    say(f"prompt: {COMPLETION_PROMPT!r}", indent=2)
    partial("      ")
    pieces: list[str] = []
    started = time.monotonic()
    first_token: float | None = None
    try:
        with httpx.stream("POST", f"{url}/v1/completions", json=body, timeout=timeout) as response:
            if response.status_code != 200:
                response.read()
                raise ComponentError("LLM service", f"stream answered {response.status_code}")
            for payload in sse_payloads(response.iter_lines()):
                for choice in payload.get("choices") or []:
                    text = str(choice.get("text") or "")
                    if text and first_token is None:
                        first_token = time.monotonic() - started
                    pieces.append(text)
                    partial(text.replace("\n", " "))
    except httpx.HTTPError as error:
        raise ComponentError("LLM service", f"streamed completion failed: {error!r}") from None
    partial("\n")
    total = time.monotonic() - started
    if first_token is None:
        say(f"the model ended its answer at once (no text), total {total:.2f}s", indent=2)
        return "stream: no text (the tiny model ended its answer at once)"
    ttft = f"{first_token * 1000:.0f} ms"
    say(f"{len(pieces)} chunks, first token after {ttft}, total {total:.2f}s", indent=2)
    return f"stream: {len(pieces)} chunks, time to first token {ttft}"
