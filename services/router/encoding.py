"""Content codings of answers, so that compressed answers can be compared.

A client that sends ``Accept-Encoding: gzip`` gets a gzip'd answer from the stable, and the
shadow (sent the same headers) answers gzip'd too; the comparators read JSON and text, so
both answers are decoded first. The router decodes gzip and deflate (the standard
library's zlib); for a request copied to the shadow, ``Accept-Encoding`` is narrowed to
those (and identity), so that neither answer comes back in a coding the router cannot
read (br, zstd). Decoding is bounded: an answer that grows past the limit is refused,
never inflated whole (a decompression bomb stays a few bytes of work).
"""

from __future__ import annotations

import zlib

from .answers import AnswerError

DECODABLE = ("gzip", "x-gzip", "deflate", "identity")


class UnsupportedEncoding(AnswerError):
    """An answer in a coding the router cannot decode (counted as reason ``encoding``)."""


def codings(header: str) -> list[str]:
    """The codings of a ``Content-Encoding`` value in the order applied (pure)."""
    return [token.strip().lower() for token in header.split(",") if token.strip()]


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise AnswerError("answer is not valid compressed data") from None
    if len(data) > limit:
        raise AnswerError(f"answer larger than {limit} bytes once decoded")
    return data


def _decode_one(body: bytes, coding: str, limit: int) -> bytes:
    if coding == "identity":
        return body
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS, limit)
    if coding == "deflate":  # RFC 9110: zlib-wrapped; some servers send raw deflate
        wrapped = body[:1] and (body[0] & 0x0F) == 8
        return _inflate(body, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, limit)
    raise UnsupportedEncoding(f"content-encoding {coding!r} cannot be decoded by the router")


def decode(body: bytes, content_encoding: str, *, limit: int) -> bytes:
    """``body`` with its content codings undone, at most ``limit`` bytes (pure).

    Raises ``UnsupportedEncoding`` for a coding other than gzip/deflate/identity and
    ``AnswerError`` for corrupt data or a decoded answer over ``limit``.
    """
    for coding in reversed(codings(content_encoding)):
        body = _decode_one(body, coding, limit)
    return body


def decodable_accept_encoding(value: bytes) -> bytes:
    """An ``Accept-Encoding`` value without the codings the router cannot decode (pure)."""
    kept = []
    for token in value.split(b","):
        name = token.split(b";", 1)[0].strip().lower()
        if name.decode("latin-1") in DECODABLE:  # "*" would admit br: dropped
            kept.append(token.strip())
    return b", ".join(kept) or b"identity"
