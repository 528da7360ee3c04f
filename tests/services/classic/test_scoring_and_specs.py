"""Turning probabilities into predictions and results into HTTP answers (pure)."""

from __future__ import annotations

import json

import pytest

from services.classic.io_descriptors import (
    batch_response,
    refusal_response,
    request_id_from,
    single_response,
)
from services.classic.jobs import Accepted, Refused, Scored, to_jobs
from services.classic.scoring import Prediction, to_prediction
from services.classic.validation import InvalidReason, ParsedRequest, Problem, ValidRecord

PREDICTION = Prediction("stay", 0.7, {"churn": 0.3, "stay": 0.7})


def test_to_prediction_picks_the_most_likely_class() -> None:
    assert to_prediction(["churn", "stay"], [0.3, 0.7]) == PREDICTION
    assert to_prediction(["a", "b"], [0.5, 0.5]).predicted_class == "a"


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123", True), ("a" * 128, True), ("a" * 129, False), ("bad id", False), ("", False)],
)
def test_request_id_from_header(given: str, kept: bool) -> None:
    found = request_id_from({"x-request-id": given})
    assert (found == given) is kept
    assert found


def test_to_jobs_makes_one_job_per_record_or_one_refusal() -> None:
    records = (ValidRecord({"a": 1}), ValidRecord({"a": 2}))
    assert to_jobs(ParsedRequest(records=records), request_id="r") == [
        Accepted("r", records[0]),
        Accepted("r", records[1]),
    ]
    problem = Problem("a", "is required", InvalidReason.MISSING)
    assert to_jobs(ParsedRequest(problems=(problem,)), request_id="r") == [Refused("r", (problem,))]


def test_refusal_status_is_400_for_the_body_and_422_otherwise() -> None:
    body_problem = Problem("body", "is not valid JSON", InvalidReason.BODY)
    field_problem = Problem("age", "is required", InvalidReason.MISSING)
    assert refusal_response(Refused("r", (body_problem,))).status_code == 400
    response = refusal_response(Refused("r", (field_problem,)))
    assert response.status_code == 422
    assert response.headers["x-request-id"] == "r"
    assert json.loads(response.body) == {
        "error": "invalid request: 1 problem",
        "detail": [{"field": "age", "problem": "is required", "reason": "missing"}],
        "request_id": "r",
    }


def test_single_response_echoes_the_customer_id_only_when_sent() -> None:
    with_id = json.loads(single_response(Scored("r", PREDICTION, "m:1", "C1")).body)
    assert with_id == {
        **PREDICTION.to_dict(),
        "model_tag": "m:1",
        "request_id": "r",
        "customer_id": "C1",
    }
    without_id = json.loads(single_response(Scored("r", PREDICTION, "m:1")).body)
    assert "customer_id" not in without_id


def test_batch_response_keeps_record_order() -> None:
    other = Prediction("churn", 0.9, {"churn": 0.9, "stay": 0.1})
    response = batch_response([Scored("r", PREDICTION, "m:1", 7), Scored("r", other, "m:1")])
    payload = json.loads(response.body)
    assert [p["predicted_class"] for p in payload["predictions"]] == ["stay", "churn"]
    assert payload["predictions"][0]["customer_id"] == 7
    assert (payload["model_tag"], payload["request_id"]) == ("m:1", "r")
    refused = Refused(
        "r", (Problem("records", "must hold at least 1 record", InvalidReason.BATCH_SIZE),)
    )
    assert batch_response([refused]).status_code == 422
