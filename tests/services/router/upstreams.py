"""A small model server for router tests, configured by environment variables.

Run with ``uvicorn tests.services.router.upstreams:app``. It answers like the real services:
``POST /predict`` like the classic service, ``POST /v1/completions`` like an OpenAI
completions endpoint (an SSE stream, one word per event, when the body asks to stream).

UPSTREAM_NAME, UPSTREAM_CLASS, UPSTREAM_PROBABILITY, UPSTREAM_TEXT, UPSTREAM_STATUS,
UPSTREAM_DELAY (seconds before answering), UPSTREAM_TOKEN_GAP (seconds between events).

A request with ``x-test-compress: gzip|deflate|br`` whose ``Accept-Encoding`` lists that
coding gets its JSON answer in it (``br`` is a stand-in: bytes no one can decode; with a
trailing ``!`` whatever ``Accept-Encoding`` says); every
answer names the hop-by-hop header ``x-hop-answer`` in ``Connection``.
"""

from __future__ import annotations

import asyncio
import json
import os
import zlib
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


def _compressed(body: bytes, request: dict[str, str]) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    coding = request.get("x-test-compress", "")
    forced = coding.endswith("!")  # a server that ignores Accept-Encoding
    coding = coding.rstrip("!")
    if not coding or not (forced or coding in request.get("accept-encoding", "")):
        return body, []
    if coding == "gzip":
        packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        body = packer.compress(body) + packer.flush()
    elif coding == "deflate":
        body = zlib.compress(body)
    else:
        body = b"\x0b\x02\x80not really brotli"
    return body, [(b"content-encoding", coding.encode())]


async def _json(
    send: Any, status: int, payload: Any, request: dict[str, str] | None = None
) -> None:
    body, encoding = _compressed(json.dumps(payload).encode(), request or {})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += encoding
    headers += [(b"connection", b"keep-alive, x-hop-answer"), (b"x-hop-answer", b"secret")]
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
        echo = {"headers": headers, "body": body.decode(), "served_by": NAME}
        await _json(send, STATUS, echo, headers)
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
        await _json(send, STATUS, answer, headers)
