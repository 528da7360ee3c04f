"""One proxied exchange's pieces: the request's body, id, target and forwarded headers,
and the JSON answer for an upstream that failed. Pure helpers except the ``async`` ones,
which read from ``receive`` or write to ``send``."""

from __future__ import annotations

import hashlib
import hmac
import os

from canaria.contracts.metrics import Variant

from .client import UpstreamError
from .config import RouterConfig, UpstreamSettings
from .encoding import decodable_accept_encoding
from .proxy import (
    ERROR_STATUS,
    REQUEST_SKIP,
    Message,
    Receive,
    Send,
    connection_named,
    error_message,
    send_json,
)

Headers = list[tuple[bytes, bytes]]

OVERRIDE_SECRET_HEADER = "x-canaria-override-secret"  # nosec B105 # a header name, not a secret
_SKIP_FORWARDED = REQUEST_SKIP | {b"x-forwarded-for", OVERRIDE_SECRET_HEADER.encode()}


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks) if len(chunks) != 1 else chunk


def header_bytes(scope: Message) -> int:
    """The size of the request's header block as sent (names, values, ": " and CRLF)."""
    return sum(len(name) + len(value) + 4 for name, value in scope["headers"])


def override_allowed(config: RouterConfig, headers: dict[str, str]) -> bool:
    """Whether this request may use the override header: always when no secret is
    configured, else only with ``x-canaria-override-secret`` equal to the secret (read
    from ``override_secret_env``; an empty or unset variable allows no one)."""
    if config.override_secret_env is None:
        return True
    expected = os.environ.get(config.override_secret_env, "")
    given = headers.get(OVERRIDE_SECRET_HEADER, "")
    same = hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )
    return bool(expected) and same


def has_dot_segments(path: str) -> bool:
    """Whether the (percent-decoded) path has a ``.`` or ``..`` segment (pure): such a path
    is refused rather than sent upstream, where ``/a/../admin`` may mean ``/admin``."""
    return any(segment in (".", "..") for segment in path.replace("\\", "/").split("/"))


async def read_request_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The body, refused at once when its declared length is already over ``limit``."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    return await read_body(receive, limit)


async def answer_upstream_error(
    send: Send,
    error: UpstreamError,
    variant: Variant,
    upstream: UpstreamSettings,
    rid: str,
    reply_headers: list[tuple[bytes, bytes]],
) -> None:
    """503 unreachable, 504 timeout, 502 otherwise: JSON naming the variant."""
    payload = {
        "error": error_message(variant, upstream, error),
        "variant": variant.value,
        "request_id": rid,
    }
    await send_json(send, ERROR_STATUS.get(error.reason, 502), payload, headers=reply_headers)


def header_map(raw_headers: Headers) -> dict[str, str]:
    """Header names are lower case in ASGI; a repeated header keeps its last value."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers}


def target(scope: Message) -> bytes:
    """The path and query as the client sent them."""
    query = scope.get("query_string", b"")
    path = scope.get("raw_path") or scope["path"].encode()
    return path + b"?" + query if query else path


def forwarded_headers(
    raw_headers: Headers, rid: str, address: str, *, decodable_only: bool = False
) -> Headers:
    """The headers sent upstream: hop-by-hop ones and those ``Connection`` names dropped,
    the request id and ``X-Forwarded-For`` added; with ``decodable_only`` (a request
    copied to the shadow) ``Accept-Encoding`` lists only codings the router can decode."""
    skip = _SKIP_FORWARDED | connection_named(raw_headers)
    headers = [(name, value) for name, value in raw_headers if name not in skip]
    if decodable_only:
        headers = [
            (name, decodable_accept_encoding(value) if name == b"accept-encoding" else value)
            for name, value in headers
        ]
    forwarded_for = address.encode("latin-1")
    for name, value in raw_headers:
        if name == b"x-forwarded-for":
            forwarded_for = value + b", " + forwarded_for
    headers.append((b"x-request-id", rid.encode("latin-1")))
    headers.append((b"x-forwarded-for", forwarded_for))
    return headers
