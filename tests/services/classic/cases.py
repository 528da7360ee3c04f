"""Request bodies shared by the classic service's tests: valid records and bad inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The tests serve with CANARIA_MAX_BATCH set to this, so "oversized" stays small.
MAX_BATCH = 5


def record(**overrides: Any) -> dict[str, Any]:
    """A valid churn record (features of training/churn_data.FEATURE_SCHEMA)."""
    base: dict[str, Any] = {
        "tenure_months": 15,
        "monthly_charges": 51.1,
        "total_charges": 693.02,
        "contract_type": "one-year",
        "payment_method": "credit-card",
        "paperless_billing": "yes",
        "support_calls": 2,
        "data_usage_gb": 25.64,
        "region": "west",
        "num_products": 2,
        "age": 52,
    }
    base.update(overrides)
    return base


def without(name: str) -> dict[str, Any]:
    data = record()
    del data[name]
    return data


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass(frozen=True)
class BadInput:
    """A request the service must refuse: which route, what body, and what it must say."""

    name: str
    route: str
    body: bytes
    status: int
    field: str
    reason: str


def _single(name: str, raw: bytes, field: str, reason: str, status: int = 422) -> BadInput:
    return BadInput(name, "/predict", raw, status, field, reason)


def _batch(name: str, raw: bytes, field: str, reason: str, status: int = 422) -> BadInput:
    return BadInput(name, "/predict_batch", raw, status, field, reason)


BAD_INPUTS = [
    _single("missing field", body(without("age")), "age", "missing"),
    _single("null field", body(record(age=None)), "age", "missing"),
    _single("string for integer", body(record(tenure_months="12")), "tenure_months", "type"),
    _single("float for integer", body(record(tenure_months=3.5)), "tenure_months", "type"),
    _single("boolean for integer", body(record(support_calls=True)), "support_calls", "type"),
    _single("string for number", body(record(monthly_charges="51")), "monthly_charges", "type"),
    _single("unknown category", body(record(region="atlantis")), "region", "category"),
    _single("number for category", body(record(region=5)), "region", "type"),
    _single("above maximum", body(record(age=150)), "age", "range"),
    _single("below minimum", body(record(monthly_charges=-1.0)), "monthly_charges", "range"),
    _single(
        "NaN",
        body(record()).replace(b'"monthly_charges": 51.1', b'"monthly_charges": NaN'),
        "monthly_charges",
        "non_finite",
    ),
    _single(
        "Infinity",
        body(record()).replace(b'"total_charges": 693.02', b'"total_charges": -Infinity'),
        "total_charges",
        "non_finite",
    ),
    _single(
        "overflow to infinity",
        body(record()).replace(b'"data_usage_gb": 25.64', b'"data_usage_gb": 1e999'),
        "data_usage_gb",
        "non_finite",
    ),
    _single("bad customer_id", body(record(customer_id={"a": 1})), "customer_id", "type"),
    _single("malformed JSON", b'{"tenure_months": 15,', "body", "body", status=400),
    _single("empty body", b"", "body", "body", status=400),
    _single("array body", body([record()]), "body", "body", status=400),
    _batch("empty batch", body({"records": []}), "records", "batch_size"),
    _batch(
        "oversized batch",
        body({"records": [record()] * (MAX_BATCH + 1)}),
        "records",
        "batch_size",
    ),
    _batch("no records", body({"rows": [record()]}), "records", "missing"),
    _batch("records not a list", body({"records": record()}), "records", "type"),
    _batch("record not an object", body({"records": [record(), 7]}), "records[1]", "type"),
    _batch(
        "bad record in batch",
        body({"records": [record(), record(), record(age=-4)]}),
        "records[2].age",
        "range",
    ),
    _batch("batch body not an object", body([record()]), "body", "body", status=400),
]


def check_refusal(bad: BadInput, status: int, payload: Any, headers: Any) -> None:
    """Assert a response refuses ``bad`` as documented."""
    assert status == bad.status, payload
    assert isinstance(payload, dict), payload
    assert payload["error"].startswith("invalid request"), payload
    assert isinstance(payload["detail"], list) and payload["detail"], payload
    first = payload["detail"][0]
    assert set(first) == {"field", "problem", "reason"}, first
    assert (first["field"], first["reason"]) == (bad.field, bad.reason), payload
    assert first["problem"], first
    assert payload["request_id"] == headers["x-request-id"]
    assert "Traceback" not in json.dumps(payload)
