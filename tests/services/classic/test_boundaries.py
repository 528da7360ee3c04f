"""Every allowed range of the classic service, tested on both sides (issue 14).

For each bound: the value at the bound is accepted, one step past it is refused with the
reason and a message naming the bound. Steps: 1 for integers, the next representable float
(``math.nextafter``) for numbers, one character for strings, one record for batches.
"""

from __future__ import annotations

import math
import re

import pytest

from canaria.contracts.model_metadata import Feature, FeatureSchema, FeatureType
from services.classic.settings import ClassicSettings, ServingSettings
from services.classic.validation import (
    ID_MAX_LENGTH,
    INT64_MAX,
    INT64_MIN,
    MAX_PROBLEMS,
    InvalidReason,
    RecordValidator,
    ValidRecord,
    parse_batch,
)
from tests.services.classic.cases import body, record
from training.churn_data import FEATURE_SCHEMA


def validator() -> RecordValidator:
    """A validator built inside each test: mutation testing (mutmut) then knows that every
    test here depends on how it is built (a module-level one was built at import)."""
    return RecordValidator(FEATURE_SCHEMA)


BOUNDED = [f for f in FEATURE_SCHEMA.features if f.minimum is not None or f.maximum is not None]


def _past(feature: Feature, bound: float, direction: float) -> float | int:
    if feature.type is FeatureType.INTEGER:
        return int(bound + direction)
    return math.nextafter(float(bound), direction * math.inf)


def _bound(feature: Feature, value: float) -> float | int:
    return int(value) if feature.type is FeatureType.INTEGER else float(value)


def _range_text(feature: Feature) -> str:
    def number(value: float | None) -> str:
        assert value is not None
        return str(int(value)) if float(value).is_integer() else str(value)

    return f"must be between {number(feature.minimum)} and {number(feature.maximum)}"


def test_every_numeric_feature_of_the_model_is_bounded_on_both_sides() -> None:
    numeric = [f for f in FEATURE_SCHEMA.features if f.type is not FeatureType.CATEGORY]
    assert numeric == BOUNDED
    assert all(f.minimum is not None and f.maximum is not None for f in BOUNDED)


@pytest.mark.parametrize("feature", BOUNDED, ids=lambda f: f.name)
@pytest.mark.parametrize("side", ["minimum", "maximum"])
def test_a_feature_bound_is_accepted_one_step_past_is_refused(feature: Feature, side: str) -> None:
    bound = getattr(feature, side)
    direction = -1.0 if side == "minimum" else 1.0
    at = validator().validate(record(**{feature.name: _bound(feature, bound)}))
    assert isinstance(at, ValidRecord), at
    assert at.features[feature.name] == bound
    past = _past(feature, bound, direction)
    refused = validator().validate(record(**{feature.name: past}))
    assert isinstance(refused, list)
    (problem,) = refused
    assert (problem.field, problem.reason) == (feature.name, InvalidReason.RANGE)
    assert problem.problem.startswith(_range_text(feature)), problem.problem


@pytest.mark.parametrize("feature", [f for f in FEATURE_SCHEMA.features if f.categories])
def test_every_category_is_accepted_and_a_near_miss_refused(feature: Feature) -> None:
    for category in feature.categories:
        assert isinstance(validator().validate(record(**{feature.name: category})), ValidRecord)
    for near in (feature.categories[0].upper(), feature.categories[0] + " ", ""):
        refused = validator().validate(record(**{feature.name: near}))
        assert isinstance(refused, list)
        assert refused[0].reason is InvalidReason.CATEGORY


def test_customer_id_length_bound() -> None:
    at = validator().validate(record(customer_id="c" * ID_MAX_LENGTH))
    assert isinstance(at, ValidRecord) and at.customer_id == "c" * ID_MAX_LENGTH
    refused = validator().validate(record(customer_id="c" * (ID_MAX_LENGTH + 1)))
    assert isinstance(refused, list)
    assert (refused[0].field, refused[0].reason) == ("customer_id", InvalidReason.TYPE)
    assert f"at most {ID_MAX_LENGTH} characters" in refused[0].problem


def test_an_unbounded_integer_feature_is_bounded_by_int64() -> None:
    validator = RecordValidator(
        FeatureSchema(features=(Feature("n", FeatureType.INTEGER),), target="t", classes=("a",))
    )
    for value in (INT64_MIN, INT64_MAX):
        assert isinstance(validator.validate({"n": value}), ValidRecord)
    for value in (INT64_MIN - 1, INT64_MAX + 1):
        refused = validator.validate({"n": value})
        assert isinstance(refused, list) and refused[0].reason is InvalidReason.RANGE
        assert refused[0].problem.startswith(f"must be between {INT64_MIN} and {INT64_MAX}")


def test_a_one_sided_number_bound_is_inclusive() -> None:
    validator = RecordValidator(
        FeatureSchema(
            features=(Feature("x", FeatureType.NUMBER, maximum=0.5),), target="t", classes=("a",)
        )
    )
    assert isinstance(validator.validate({"x": 0.5}), ValidRecord)
    refused = validator.validate({"x": math.nextafter(0.5, 1.0)})
    assert isinstance(refused, list) and refused[0].problem.startswith("must be at most 0.5")


@pytest.mark.parametrize("max_batch", [1, 3])
def test_batch_size_bounds(max_batch: int) -> None:
    for size in (1, max_batch):
        parsed = parse_batch(body({"records": [record()] * size}), validator(), max_batch=max_batch)
        assert len(parsed.records) == size and parsed.problems == ()
    over = parse_batch(
        body({"records": [record()] * (max_batch + 1)}), validator(), max_batch=max_batch
    )
    (problem,) = over.problems
    assert problem.reason is InvalidReason.BATCH_SIZE
    assert problem.problem == f"holds {max_batch + 1} records; at most {max_batch} are allowed"
    empty = parse_batch(body({"records": []}), validator(), max_batch=max_batch)
    assert empty.problems[0].problem == "must hold at least 1 record"


def test_problems_are_capped_at_exactly_max_problems() -> None:
    def problems(count: int) -> int:
        records = [record(age=-1)] * count  # one problem per record
        return len(parse_batch(body({"records": records}), validator(), max_batch=count).problems)

    assert problems(MAX_PROBLEMS - 1) == MAX_PROBLEMS - 1
    assert problems(MAX_PROBLEMS) == MAX_PROBLEMS
    assert problems(MAX_PROBLEMS + 1) == MAX_PROBLEMS


@pytest.mark.parametrize(
    ("name", "lowest", "read"),
    [
        ("CANARIA_MAX_BATCH", 1, lambda env: ClassicSettings.from_env(env).max_batch),
        (
            "CANARIA_CLASSIC_MAX_BODY_BYTES",
            1,
            lambda env: ClassicSettings.from_env(env).max_body_bytes,
        ),
        ("CANARIA_CLASSIC_WORKERS", 1, lambda env: ServingSettings.from_env(env).workers),
        ("CANARIA_CLASSIC_BATCH_SIZE", 2, lambda env: ServingSettings.from_env(env).batch_size),
        (
            "CANARIA_CLASSIC_BATCH_LATENCY_MS",
            1,
            lambda env: ServingSettings.from_env(env).batch_latency_ms,
        ),
    ],
)
def test_a_setting_at_its_minimum_is_accepted_one_below_refused(
    name: str, lowest: int, read: object
) -> None:
    assert callable(read)
    assert read({name: str(lowest)}) == lowest
    refusal = re.escape(f"{name}='{lowest - 1}': must be an integer >= {lowest}")
    with pytest.raises(ValueError, match=refusal):
        read({name: str(lowest - 1)})


@pytest.mark.parametrize("rate", ["0", "1", "0.0", "1.0"])
def test_a_sample_rate_at_either_end_is_accepted(rate: str) -> None:
    assert ClassicSettings.from_env({"CANARIA_SAMPLE_RATE": rate}).sample_rate == float(rate)


@pytest.mark.parametrize("rate", [repr(math.nextafter(0.0, -1.0)), repr(math.nextafter(1.0, 2.0))])
def test_a_sample_rate_one_step_outside_is_refused(rate: str) -> None:
    refusal = re.escape(f"CANARIA_SAMPLE_RATE={rate!r}: must be a number between 0 and 1")
    with pytest.raises(ValueError, match=refusal):
        ClassicSettings.from_env({"CANARIA_SAMPLE_RATE": rate})
