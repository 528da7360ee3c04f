"""Validation of request bodies against the churn model's feature schema (pure)."""

from __future__ import annotations

import json

import pytest

from canaria.contracts.model_metadata import Feature, FeatureSchema, FeatureType
from services.classic.validation import (
    MAX_PROBLEMS,
    InvalidReason,
    Problem,
    RecordValidator,
    ValidRecord,
    parse_batch,
    parse_single,
    primary_reason,
)
from tests.services.classic.cases import BAD_INPUTS, MAX_BATCH, BadInput, body, record
from training.churn_data import FEATURE_SCHEMA


@pytest.fixture
def validator() -> RecordValidator:
    """One per test (cheap): mutation testing then knows every test depends on how it is
    built; a module-scoped one counted only for the module's first test."""
    return RecordValidator(FEATURE_SCHEMA)


def _parse(bad: BadInput, validator: RecordValidator) -> tuple[Problem, ...]:
    if bad.route == "/predict":
        return parse_single(bad.body, validator).problems
    return parse_batch(bad.body, validator, max_batch=MAX_BATCH).problems


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.name)
def test_every_bad_input_names_its_field_and_reason(
    bad: BadInput, validator: RecordValidator
) -> None:
    problems = _parse(bad, validator)
    assert problems, f"{bad.name} was accepted"
    assert (problems[0].field, problems[0].reason.value) == (bad.field, bad.reason)
    assert problems[0].problem


def test_a_valid_record_keeps_schema_order_and_the_customer_id(
    validator: RecordValidator,
) -> None:
    parsed = parse_single(
        body({**record(), "customer_id": "C42", "favourite_colour": "red"}), validator
    )
    assert parsed.problems == ()
    (valid,) = parsed.records
    assert list(valid.features) == FEATURE_SCHEMA.names  # unknown fields are dropped
    assert valid.customer_id == "C42"


def test_number_features_take_integers_as_floats(validator: RecordValidator) -> None:
    checked = validator.validate(record(monthly_charges=50))
    assert isinstance(checked, ValidRecord)
    assert checked.features["monthly_charges"] == 50.0
    assert isinstance(checked.features["monthly_charges"], float)


def test_all_problems_of_a_record_are_reported_in_schema_order(
    validator: RecordValidator,
) -> None:
    checked = validator.validate(record(tenure_months="x", region="mars", age=12))
    assert isinstance(checked, list)
    assert [(p.field, p.reason) for p in checked] == [
        ("tenure_months", InvalidReason.TYPE),
        ("region", InvalidReason.CATEGORY),
        ("age", InvalidReason.RANGE),
    ]
    assert checked[2].problem == "must be between 18 and 90, got 12"
    assert checked[1].problem.startswith('must be one of "north", "south"')


def test_a_bad_customer_id_is_never_quoted(validator: RecordValidator) -> None:
    checked = validator.validate(record(customer_id="x" * 300))
    assert isinstance(checked, list)
    assert checked[0].field == "customer_id"
    assert "xxx" not in checked[0].problem


def test_a_batch_is_all_or_nothing_and_keeps_order(validator: RecordValidator) -> None:
    good = parse_batch(
        body({"records": [record(age=20), record(age=30)]}), validator, max_batch=MAX_BATCH
    )
    assert [r.features["age"] for r in good.records] == [20, 30]
    bad = parse_batch(
        body({"records": [record(), record(age=None)]}), validator, max_batch=MAX_BATCH
    )
    assert bad.records == ()
    assert bad.problems[0].field == "records[1].age"


def test_a_batch_reports_at_most_max_problems(validator: RecordValidator) -> None:
    records = [record(age=-1, tenure_months=-1)] * (MAX_PROBLEMS + 10)
    parsed = parse_batch(body({"records": records}), validator, max_batch=len(records))
    assert len(parsed.problems) == MAX_PROBLEMS


def test_one_sided_bounds_read_naturally() -> None:
    schema = FeatureSchema(
        features=(Feature("x", FeatureType.NUMBER, minimum=0.5), Feature("y", FeatureType.INTEGER)),
        target="t",
        classes=("a", "b"),
    )
    checked = RecordValidator(schema).validate({"x": 0.1, "y": 10**30})
    assert isinstance(checked, list)
    assert [p.problem for p in checked] == [
        "must be at least 0.5, got 0.1",
        f"must be between {-(2**63)} and {2**63 - 1}, got {10**30}",  # fits no int64 column
    ]


def test_feature_names_may_shadow_pydantic_attributes() -> None:
    schema = FeatureSchema(
        features=(
            Feature("model_config", FeatureType.INTEGER),
            Feature("copy", FeatureType.CATEGORY, categories=("a",)),
        ),
        target="t",
        classes=("a", "b"),
    )
    checked = RecordValidator(schema).validate({"model_config": 1, "copy": "a"})
    assert checked == ValidRecord(features={"model_config": 1, "copy": "a"})


def test_primary_reason_is_the_first_problems() -> None:
    problems = [
        Problem("a", "is required", InvalidReason.MISSING),
        Problem("b", "must be an integer", InvalidReason.TYPE),
    ]
    assert primary_reason(problems) is InvalidReason.MISSING


def test_json_schema_lists_the_features(validator: RecordValidator) -> None:
    schema = validator.json_schema()
    assert set(FEATURE_SCHEMA.names) <= set(schema["properties"])
    assert schema["properties"]["region"]["enum"] == ["north", "south", "east", "west"]
    json.dumps(schema)
