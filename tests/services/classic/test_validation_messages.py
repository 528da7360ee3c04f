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
    primary_reason,
)
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
