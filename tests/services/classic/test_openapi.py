"""The classic service's OpenAPI builders (pure)."""

from __future__ import annotations

from services.classic.openapi import (
    ERROR_SCHEMA,
    REFUSAL_SCHEMA,
    api_request_body,
    api_responses,
    to_openapi30,
)
from services.classic.validation import InvalidReason


def test_null_members_become_nullable() -> None:
    schema = {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}], "title": "T"}
    assert to_openapi30(schema) == {
        "type": "string",
        "maxLength": 3,
        "title": "T",
        "nullable": True,
    }
    several = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    assert to_openapi30(several) == {
        "anyOf": [{"type": "string"}, {"type": "integer"}],
        "nullable": True,
    }


def test_type_lists_and_const_are_rewritten_at_any_depth() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": ["string", "integer"]}, "b": {"const": "x"}},
        "items": [{"const": 1}],
    }
    assert to_openapi30(schema) == {
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "b": {"enum": ["x"]},
        },
        "items": [{"enum": [1]}],
    }


def test_a_schema_without_3_1_keywords_is_unchanged() -> None:
    schema = {"type": "integer", "minimum": 0, "maximum": 72, "title": "Tenure"}
    assert to_openapi30(schema) == schema


def test_every_answer_status_has_its_body() -> None:
    success = {"type": "object", "properties": {"x": {"type": ["string", "integer"]}}}
    responses = api_responses(success)
    assert list(responses) == ["200", "400", "413", "415", "422", "500", "503", "504"]
    assert responses["200"]["content"]["application/json"]["schema"] == to_openapi30(success)
    for status in ("400", "413", "422"):
        assert responses[status]["content"]["application/json"]["schema"] is REFUSAL_SCHEMA
    for status in ("415", "500", "503", "504"):
        assert responses[status]["content"]["application/json"]["schema"] is ERROR_SCHEMA
    assert set(responses["503"]["headers"]) == {"Retry-After"}
    assert all("headers" not in responses[s] for s in responses if s != "503")


def test_refusal_schema_lists_every_reason_and_requires_a_list_detail() -> None:
    detail = REFUSAL_SCHEMA["properties"]["detail"]
    assert detail["type"] == "array"
    assert detail["items"]["properties"]["reason"]["enum"] == [r.value for r in InvalidReason]
    assert "body_size" in detail["items"]["properties"]["reason"]["enum"]
    assert REFUSAL_SCHEMA["required"] == ["error", "detail", "request_id"]


def test_request_body_is_required_json() -> None:
    body = api_request_body({"type": "object", "properties": {"c": {"const": 1}}})
    assert body == {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {"c": {"enum": [1]}}}}
        },
    }
