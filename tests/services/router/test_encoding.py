"""Decoding compressed answers before they are compared (pure)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from services.router.answers import AnswerError
from services.router.encoding import UnsupportedEncoding, decodable_accept_encoding, decode

BODY = b'{"predicted_class": "yes", "probability": 0.9}'


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoded", "coding"),
    [
        (gzip.compress(BODY), "gzip"),
        (gzip.compress(BODY), "X-GZIP"),
        (zlib.compress(BODY), "deflate"),
        (_raw_deflate(BODY), "deflate"),  # what some servers send for deflate
        (BODY, "identity"),
        (BODY, ""),
        (gzip.compress(zlib.compress(BODY)), "deflate, gzip"),  # applied in order
    ],
)
def test_answers_are_decoded(encoded: bytes, coding: str) -> None:
    assert decode(encoded, coding, limit=1 << 20) == BODY


def test_a_decompression_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (50 << 20))  # 50 MiB of zeros in about 50 KB
    with pytest.raises(AnswerError, match="larger than 1048576 bytes"):
        decode(bomb, "gzip", limit=1 << 20)


@pytest.mark.parametrize(
    ("body", "coding", "error"),
    [
        (b"not gzip", "gzip", AnswerError),
        (b"\x0b\x02\x80", "br", UnsupportedEncoding),
        (b"x", "zstd", UnsupportedEncoding),
    ],
)
def test_undecodable_answers_are_named(body: bytes, coding: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode(body, coding, limit=1024)


@pytest.mark.parametrize(
    ("offered", "sent"),
    [
        (b"gzip, deflate, br, zstd", b"gzip, deflate"),
        (b"br;q=1.0, gzip;q=0.5", b"gzip;q=0.5"),
        (b"br", b"identity"),
        (b"*", b"identity"),
        (b"GZIP", b"GZIP"),
    ],
)
def test_a_copied_request_accepts_only_decodable_codings(offered: bytes, sent: bytes) -> None:
    assert decodable_accept_encoding(offered) == sent
