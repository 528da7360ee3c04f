"""Refusal messages of services/classic/validation.py word for word: the JSON type a body
or ``records`` had, the body-size problem, a problem as the answer's ``detail`` item, and
the reason a refusal is counted under (hand-written expected values)."""

from __future__ import annotations

import json

import pytest

from services.classic.validation import (
    InvalidReason,
    Problem,
    RecordValidator,
    body_size_problem,
    parse_batch,
    parse_json,
    primary_reason,
)
from tests.services.classic.cases import record
from training.churn_data import FEATURE_SCHEMA


def validator() -> RecordValidator:
    """A validator built inside each test: mutation testing (mutmut) then knows that every
    test here depends on how it is built (a module-level one was built at import)."""
    return RecordValidator(FEATURE_SCHEMA)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        (None, "null"),
        (True, "boolean"),
        (False, "boolean"),
        (3, "number"),
        (2.5, "number"),
        ("records", "string"),
        ([{"tenure_months": 1}], "array"),
    ],
)
def test_a_batch_body_that_is_not_an_object_names_its_json_type(
    document: object, named: str
) -> None:
    (problem,) = parse_batch(json.dumps(document).encode(), validator(), max_batch=4).problems
    assert problem == Problem(
        "body", f'must be a JSON object {{"records": [...]}}, got {named}', InvalidReason.BODY
    )


@pytest.mark.parametrize(
    ("records", "named"),
    [
        (True, "boolean"),
        (7, "number"),
        (0.5, "number"),
        ("a,b", "string"),
        ({"tenure_months": 1}, "object"),
    ],
)
def test_records_that_are_not_a_list_name_their_json_type(records: object, named: str) -> None:
    body = json.dumps({"records": records}).encode()
    (problem,) = parse_batch(body, validator(), max_batch=4).problems
    assert problem == Problem(
        "records", f"must be a list of records, got {named}", InvalidReason.TYPE
    )


def test_the_body_size_problem_says_the_size_and_the_limit() -> None:
    assert body_size_problem(1024, declared=4096) == Problem(
        "body", "is 4096 bytes; at most 1024 bytes are allowed", InvalidReason.BODY_SIZE
    )
    assert body_size_problem(1024) == Problem(
        "body", "is more than 1024 bytes; at most 1024 bytes are allowed", InvalidReason.BODY_SIZE
    )
    assert body_size_problem(10, declared=0).problem == "is 0 bytes; at most 10 bytes are allowed"


def test_a_problem_is_written_with_its_reason_as_text() -> None:
    problem = Problem("records[2].tenure_months", "must be at least 0", InvalidReason.RANGE)
    assert problem.to_dict() == {
        "field": "records[2].tenure_months",
        "problem": "must be at least 0",
        "reason": "range",
    }


def test_a_refusal_without_problems_counts_as_a_bad_body() -> None:
    assert primary_reason([]) is InvalidReason.BODY
    only = Problem("records", "must hold at least 1 record", InvalidReason.BATCH_SIZE)
    assert primary_reason([only]) is InvalidReason.BATCH_SIZE


@pytest.mark.parametrize("body", [b"{}", b'{"records": null}'])
def test_a_batch_without_records_says_they_are_required(body: bytes) -> None:
    assert parse_batch(body, validator(), max_batch=4).problems == (
        Problem("records", "is required: a list of records", InvalidReason.MISSING),
    )


def test_a_batch_body_that_is_not_json_is_one_body_problem() -> None:
    (problem,) = parse_batch(b"{records", validator(), max_batch=4).problems
    assert (problem.field, problem.reason) == ("body", InvalidReason.BODY)
    assert problem.problem.startswith("is not valid JSON: ")


def problems_for(**fields: object) -> list[Problem]:
    """The problems of the churn record from cases.py with ``fields`` changed (or removed,
    for ``...``)."""
    changed = {**record(), **fields}
    checked = validator().validate({k: v for k, v in changed.items() if v is not ...})
    assert isinstance(checked, list), checked
    return checked


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tenure_months": ...}, ("tenure_months", "is required", "missing")),
        ({"tenure_months": None}, ("tenure_months", "must not be null", "missing")),
        (
            {"contract_type": "weekly"},
            (
                "contract_type",
                'must be one of "month-to-month", "one-year", "two-year", got "weekly"',
                "category",
            ),
        ),
        ({"contract_type": 5}, ("contract_type", "must be a string, got number 5", "type")),
        ({"tenure_months": "12"}, ("tenure_months", 'must be an integer, got string "12"', "type")),
        ({"tenure_months": 1.5}, ("tenure_months", "must be an integer, got number 1.5", "type")),
        (
            {"monthly_charges": [1, 2]},
            ("monthly_charges", "must be a number, got array [1, 2]", "type"),
        ),
        (
            {"customer_id": [1]},
            ("customer_id", "must be a string of at most 256 characters, or an integer", "type"),
        ),
    ],
)
def test_each_refusal_message_exactly(
    fields: dict[str, object], expected: tuple[str, str, str]
) -> None:
    (problem,) = problems_for(**fields)
    assert (problem.field, problem.problem, problem.reason.value) == expected


def test_a_quoted_value_is_cut_after_40_characters() -> None:
    at = "z" * 38  # 40 characters once quoted: shown whole
    (whole,) = problems_for(contract_type=at)
    assert whole.problem.endswith(f'got "{at}"')
    (cut,) = problems_for(contract_type="z" * 39)  # 41 quoted: the first 40, then "..."
    assert cut.problem.endswith(f'got "{"z" * 39}...')


@pytest.mark.parametrize(("raw", "named"), [([1, 2], "array"), ("x", "string"), (None, "null")])
def test_a_batch_record_that_is_not_an_object_names_its_type(raw: object, named: str) -> None:
    assert validator().validate(raw, prefix="records[3].") == [
        Problem("records[3]", f"must be a JSON object, got {named}", InvalidReason.TYPE)
    ]


def test_empty_and_too_deep_bodies_exactly() -> None:
    assert parse_json(b" \n ") == Problem(
        "body", "is empty; send a JSON object", InvalidReason.BODY
    )
    assert parse_json(b"[" * 100_000) == Problem("body", "is nested too deeply", InvalidReason.BODY)


def test_the_validator_keeps_its_schema_and_names_the_record_type() -> None:
    built = validator()
    assert built.schema is FEATURE_SCHEMA
    assert built.json_schema()["title"] == "Record"  # the API docs' name for one record
