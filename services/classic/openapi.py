"""The classic service's OpenAPI document: every status an API answers, with its real body.

BentoML documents every API with its own error bodies (``detail`` a string for 400, 404 and
500) and leaves out 413, 415, 422, 503 and 504. ``DocumentedService`` replaces each API's
request body and responses with what ``io_descriptors.py`` and ``errors.py`` really send:

- ``200``: the prediction (the output spec's schema);
- ``400`` (the body is not a JSON object), ``413`` (the body is over the limit) and ``422``
  (anything else wrong): a refusal, ``{"error", "detail": [{"field", "problem",
  "reason"}], "request_id"}``;
- ``415``, ``500``, ``503`` (overloaded, with ``Retry-After``) and ``504`` (not answered
  within the traffic timeout): ``{"error", "request_id"?}``.

The builders are pure and written for OpenAPI 3.0, which BentoML declares: pydantic's
``{"type": "null"}`` members become ``nullable`` and ``const`` becomes a one-value ``enum``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import bentoml

from services.classic.validation import InvalidReason

# Seconds a client is asked to wait after a 503 (the batching queue's latency bound is
# about as long; a second lets the queue drain without the client hammering it).
RETRY_AFTER_SECONDS = 1

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "description": "the field, e.g. records[3].age, or body"},
        "problem": {"type": "string"},
        "reason": {"type": "string", "enum": [reason.value for reason in InvalidReason]},
    },
    "required": ["field", "problem", "reason"],
}

REFUSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "array", "items": PROBLEM_SCHEMA, "minItems": 1},
        "request_id": {"type": "string"},
    },
    "required": ["error", "detail", "request_id"],
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "request_id": {"type": "string"}},
    "required": ["error"],
}

_REFUSALS = {
    400: "The body is not JSON, or not a JSON object.",
    413: "The body is larger than CANARIA_CLASSIC_MAX_BODY_BYTES; the error names the limit.",
    422: "A field is missing, of the wrong type, out of range or not an allowed category.",
}
_ERRORS = {
    415: "The content type is one the service refuses (BentoML's pickle format).",
    500: "The model failed; the log has the details.",
    503: "Overloaded: the request would wait longer than the batching latency bound. "
    "Retry after the Retry-After header's seconds.",
    504: "Not answered within the traffic timeout.",
}


def to_openapi30(schema: Any) -> Any:
    """``schema`` (a pydantic JSON schema) in OpenAPI 3.0's dialect (pure).

    ``anyOf`` with a ``{"type": "null"}`` member loses it and gains ``nullable: true``;
    ``"type": [a, b]`` becomes ``anyOf``; ``const`` becomes a one-value ``enum``.
    """
    if isinstance(schema, list):
        return [to_openapi30(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    converted = {key: to_openapi30(value) for key, value in schema.items() if key != "const"}
    if "const" in schema:
        converted["enum"] = [schema["const"]]
    kinds = converted.get("type")
    if isinstance(kinds, list):
        del converted["type"]
        converted["anyOf"] = [{"type": kind} for kind in kinds]
    members = converted.get("anyOf")
    if isinstance(members, list) and {"type": "null"} in members:
        others = [member for member in members if member != {"type": "null"}]
        converted["nullable"] = True
        if len(others) == 1:
            del converted["anyOf"]
            converted = {**others[0], **converted}
        else:
            converted["anyOf"] = others
    return converted


def _json(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def api_responses(success_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The ``responses`` of one scoring API, by status code (pure)."""
    responses: dict[str, Any] = {"200": _json("Scored.", to_openapi30(success_schema))}
    responses.update({str(code): _json(text, REFUSAL_SCHEMA) for code, text in _REFUSALS.items()})
    responses.update({str(code): _json(text, ERROR_SCHEMA) for code, text in _ERRORS.items()})
    responses["503"]["headers"] = {
        "Retry-After": {
            "description": "seconds to wait before retrying",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return dict(sorted(responses.items()))


def api_request_body(input_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The ``requestBody`` of one scoring API (pure)."""
    return {
        "required": True,
        "content": {"application/json": {"schema": to_openapi30(input_schema)}},
    }


class DocumentedService(bentoml.Service[Any]):
    """A BentoML service whose OpenAPI document states each API's real answers.

    Pass it as ``@bentoml.service(service_class=DocumentedService)``.
    """

    @property
    def openapi_spec(self) -> Any:
        spec = super().openapi_spec
        for api in self.apis.values():
            operation = spec.paths[api.route].post
            operation["requestBody"] = api_request_body(api.input_spec.model_json_schema())
            operation["responses"] = api_responses(api.output_spec.model_json_schema())
        return spec
