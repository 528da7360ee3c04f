"""Reading model answers out of response bodies: classic predictions and LLM text.

Pure functions over bytes. A body that does not have the expected shape raises
``AnswerError``; the shadow counts that as an ``invalid`` failure instead of a comparison.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Keys under which a batch endpoint may return one prediction per row.
_BATCH_KEYS = ("predictions", "results", "outputs")


class AnswerError(ValueError):
    """The body is not an answer of the expected kind."""


@dataclass(frozen=True)
class ClassicAnswer:
    predicted_class: str
    probability: float
    probabilities: Mapping[str, float] | None = None


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, a huge number, deep nesting
        raise AnswerError("body is not JSON") from None


def _classic(item: Any) -> ClassicAnswer:
    if not isinstance(item, Mapping) or "predicted_class" not in item:
        raise AnswerError("no predicted_class in the answer")
    probability = item.get("probability")
    if isinstance(probability, bool) or not isinstance(probability, int | float):
        raise AnswerError("probability is not a number")
    spread = item.get("probabilities")
    probabilities = None
    if isinstance(spread, Mapping) and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in spread.values()
    ):
        probabilities = {str(name): float(value) for name, value in spread.items()}
    return ClassicAnswer(str(item["predicted_class"]), float(probability), probabilities)


def classic_answers(body: bytes) -> list[ClassicAnswer]:
    """One answer per row: a single prediction, a list of them, or a batch under a key."""
    document = parse_json(body)
    if isinstance(document, Mapping):
        for key in _BATCH_KEYS:
            if isinstance(document.get(key), list):
                document = document[key]
                break
        else:
            return [_classic(document)]
    if not isinstance(document, list) or not document:
        raise AnswerError("expected a prediction or a non-empty list of predictions")
    return [_classic(item) for item in document]


def _choice_text(document: Any, *, delta: bool) -> str | None:
    """``choices[0].text`` / ``.message.content`` (or ``.delta.content`` in a stream)."""
    if not isinstance(document, Mapping):
        return None
    choices = document.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        choice = choices[0]
        if isinstance(choice.get("text"), str):
            return str(choice["text"])
        message = choice.get("delta" if delta else "message")
        if isinstance(message, Mapping) and isinstance(message.get("content"), str):
            return str(message["content"])
        return ""
    for key in ("text", "generated_text", "completion"):
        if isinstance(document.get(key), str):
            return str(document[key])
    return None


def sse_text(body: bytes) -> str:
    """The generated text of an OpenAI-style server-sent event stream, pieces joined."""
    pieces: list[str] = []
    for line in body.decode("utf-8", errors="replace").splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload or payload == "[DONE]":
            continue
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            pieces.append(payload)
            continue
        text = _choice_text(event, delta=True)
        if text is not None:
            pieces.append(text)
    return "".join(pieces)


def answer_text(body: bytes, content_type: str) -> str:
    """The generated text of an LLM answer: SSE stream, OpenAI JSON, or plain text."""
    if content_type.startswith("text/event-stream"):
        return sse_text(body)
    if "json" in content_type:
        text = _choice_text(parse_json(body), delta=False)
        if text is None:
            raise AnswerError("no choices[0].text or choices[0].message.content in the answer")
        return text
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise AnswerError("body is not UTF-8 text") from None
