"""A small model server for router tests, configured by environment variables.

Run with ``uvicorn tests.services.router.upstreams:app``. It answers like the real services:
``POST /predict`` like the classic service, ``POST /v1/completions`` like an OpenAI
completions endpoint (an SSE stream, one word per event, when the body asks to stream).

UPSTREAM_NAME, UPSTREAM_CLASS, UPSTREAM_PROBABILITY, UPSTREAM_TEXT, UPSTREAM_STATUS,
UPSTREAM_DELAY (seconds before answering), UPSTREAM_TOKEN_GAP (seconds between events).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

NAME = os.environ.get("UPSTREAM_NAME", "upstream")
CLASS = os.environ.get("UPSTREAM_CLASS", "yes")
PROBABILITY = float(os.environ.get("UPSTREAM_PROBABILITY", "0.9"))
TEXT = os.environ.get("UPSTREAM_TEXT", "The cat sits on the mat.")
STATUS = int(os.environ.get("UPSTREAM_STATUS", "200"))
DELAY = float(os.environ.get("UPSTREAM_DELAY", "0"))
TOKEN_GAP = float(os.environ.get("UPSTREAM_TOKEN_GAP", "0.3"))

received = {"requests": 0, "shadow_requests": 0}


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send: Any, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Any) -> None:
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": STATUS, "headers": headers})
    words = TEXT.split(" ")
    for index, word in enumerate(words):
        piece = word if index == len(words) - 1 else word + " "
        event = {"choices": [{"text": piece, "index": 0}], "served_by": NAME}
        data = f"data: {json.dumps(event)}\n\n".encode()
        await send({"type": "http.response.body", "body": data, "more_body": True})
        await asyncio.sleep(TOKEN_GAP)
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = {name.decode(): value.decode() for name, value in scope["headers"]}
    path = scope["path"]
    body = await _body(receive)
    if path == "/ready":
        await _json(send, 200, {"ready": True})
        return
    if path == "/stats":
        await _json(send, 200, received)
        return
    received["requests"] += 1
    if "x-canaria-shadow" in headers:
        received["shadow_requests"] += 1
    if DELAY:
        await asyncio.sleep(DELAY)
    if path == "/echo":
        await _json(send, STATUS, {"headers": headers, "body": body.decode(), "served_by": NAME})
    elif path == "/v1/completions":
        request = json.loads(body or b"{}")
        if request.get("stream"):
            await _stream(send)
        else:
            await _json(send, STATUS, {"choices": [{"text": TEXT, "index": 0}], "served_by": NAME})
    else:
        answer = {
            "predicted_class": CLASS,
            "probability": PROBABILITY,
            "served_by": NAME,
            "request_id": headers.get("x-request-id"),
        }
        await _json(send, STATUS, answer)
