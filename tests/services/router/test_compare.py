"""Comparators and answer parsing (pure parts; the embedding runs in test_shadow)."""

from __future__ import annotations

import asyncio
import json

import pytest

from canaria.contracts.logs import digest
from services.router.answers import AnswerError, answer_text, classic_answers, sse_text
from services.router.compare import (
    Answer,
    TextComparator,
    classic_difference,
    compare_classic,
    token_overlap,
)
from services.router.config import RateLimitSettings, TextComparatorSettings, TextMethod
from services.router.ratelimit import Bucket, RateLimiter, take


def _classic(predicted: str, probability: float, **extra: object) -> bytes:
    return json.dumps({"predicted_class": predicted, "probability": probability, **extra}).encode()


def test_classic_agreement_and_difference() -> None:
    yes_90, yes_88, no_70 = (
        classic_answers(_classic("yes", 0.9))[0],
        classic_answers(_classic("yes", 0.88))[0],
        classic_answers(_classic("no", 0.7))[0],
    )
    agree, difference = classic_difference(yes_90, yes_88, tolerance=0.05)
    assert agree and difference == pytest.approx(0.02)
    assert classic_difference(yes_90, yes_88, tolerance=0.01)[0] is False
    assert classic_difference(yes_90, no_70, tolerance=0.5) == (False, 1.0)


def test_classic_uses_full_distributions_when_both_have_them() -> None:
    first = classic_answers(_classic("yes", 0.51, probabilities={"yes": 0.51, "no": 0.49}))[0]
    second = classic_answers(_classic("no", 0.51, probabilities={"yes": 0.49, "no": 0.51}))[0]
    agree, difference = classic_difference(first, second, tolerance=0.05)
    assert not agree and difference == pytest.approx(0.02)


def test_classic_batches_are_compared_row_by_row() -> None:
    rows = [
        {"predicted_class": "a", "probability": 0.6},
        {"predicted_class": "b", "probability": 0.7},
    ]
    batch = classic_answers(json.dumps({"predictions": rows}).encode())
    other = classic_answers(json.dumps([rows[0], {**rows[1], "probability": 0.5}]).encode())
    assert compare_classic(batch, other, tolerance=0.05) == (False, pytest.approx(0.2))
    with pytest.raises(AnswerError, match="rows"):
        compare_classic(batch, batch[:1], tolerance=0.05)


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b'{"predicted_class": "a", "probability": "high"}', b"[]"]
)
def test_bodies_that_are_not_classic_answers_are_refused(body: bytes) -> None:
    with pytest.raises(AnswerError):
        classic_answers(body)


def test_text_is_read_from_completions_chat_and_sse() -> None:
    completion = json.dumps({"choices": [{"text": "hello"}]}).encode()
    chat = json.dumps({"choices": [{"message": {"role": "assistant", "content": "hi"}}]}).encode()
    stream = (
        b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'
        b'data: {"choices":[{"delta":{"content":"lo"}}]}\n\ndata: [DONE]\n\n'
    )
    assert answer_text(completion, "application/json") == "hello"
    assert answer_text(chat, "application/json; charset=utf-8") == "hi"
    assert answer_text(stream, "text/event-stream") == sse_text(stream) == "Hello"
    assert answer_text(b"plain", "text/plain") == "plain"
    with pytest.raises(AnswerError):
        answer_text(b'{"other": 1}', "application/json")


def test_token_overlap_is_jaccard_of_word_sets() -> None:
    assert token_overlap("The cat sat", "the CAT sat.") == 1.0
    assert token_overlap("a b", "c d") == 0.0
    assert token_overlap("a b c", "b c d") == pytest.approx(0.5)
    assert token_overlap("", "") == 1.0


@pytest.mark.parametrize(
    ("method", "agree"), [(TextMethod.EXACT, False), (TextMethod.TOKEN_OVERLAP, True)]
)
def test_text_comparator_methods(method: TextMethod, agree: bool) -> None:
    comparator = TextComparator(TextComparatorSettings(method=method, min_similarity=0.5))
    first = Answer(b'{"choices":[{"text":"the cat sat here"}]}', "application/json")
    second = Answer(b'{"choices":[{"text":"the cat sat there"}]}', "application/json")
    comparison = asyncio.run(comparator.compare(first, second))
    assert comparison.agree is agree
    # Generated text is never kept: only its length and digest, and the field's name.
    assert comparison.primary == digest("the cat sat here")
    assert comparison.primary["chars"] == 16 and "the cat" not in str(comparison)
    assert comparison.differed == ("text",)
    same = asyncio.run(comparator.compare(first, first))
    assert same.agree and same.difference == 0.0


def test_token_bucket() -> None:
    bucket, wait = take(None, now=0.0, rate=2.0, burst=2)
    assert wait is None and bucket == Bucket(1.0, 0.0)
    bucket, wait = take(bucket, now=0.0, rate=2.0, burst=2)
    assert wait is None
    bucket, wait = take(bucket, now=0.1, rate=2.0, burst=2)
    assert wait == pytest.approx(0.4)
    bucket, wait = take(bucket, now=10.0, rate=2.0, burst=2)
    assert wait is None and bucket.tokens == pytest.approx(1.0)


def test_rate_limiter_keys_and_forgets_idle_clients() -> None:
    now = [0.0]
    settings = RateLimitSettings(
        requests_per_second=1.0, burst=1, key="header:x-api-key", max_clients=2
    )
    limiter = RateLimiter(settings, clock=lambda: now[0])
    assert limiter.key({"x-api-key": "k"}, "10.0.0.1") == "h:k"
    assert limiter.key({}, "10.0.0.1") == "a:10.0.0.1"
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("a") == 1
    assert limiter.retry_after("b") is None
    now[0] = 5.0
    assert limiter.retry_after("c") is None  # "a" and "b" are full again and forgotten
    assert len(limiter._buckets) == 1
