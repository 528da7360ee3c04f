"""The HTTP shapes of the classic service, as BentoML input and output specs.

``POST /predict`` takes one record, its features as top-level fields::

    {"tenure_months": 5, "monthly_charges": 70.5, ..., "customer_id": "C123"}

and answers ``200`` with::

    {"predicted_class": "churn", "probability": 0.81,
     "probabilities": {"churn": 0.81, "stay": 0.19},
     "model_tag": "churn-classifier:<version>", "request_id": "...", "customer_id": "C123"}

``POST /predict_batch`` takes ``{"records": [record, ...]}`` (1 to ``CANARIA_MAX_BATCH``)
and answers ``{"predictions": [{"predicted_class", "probability", "probabilities",
"customer_id"?}, ...], "model_tag": ..., "request_id": ...}`` in the records' order.

A refused request gets ``400`` (the body is not a JSON object) or ``422`` (anything else)::

    {"error": "invalid request: 2 problems",
     "detail": [{"field": "records[3].tenure_months", "problem": "must be an integer, got
                 string \\"3\\"", "reason": "type"}, ...],
     "request_id": "..."}

``customer_id`` is optional and echoed back only. Every answer carries an ``x-request-id``
header: the caller's, when it sent a usable one, else a new id.

Why custom specs: BentoML batches a batchable API's single list argument, and answers
pydantic errors with its own 400 body. These specs parse and validate the body before the
batching queue (one job per record, see ``jobs.py``) and render the per-record results of
one request back into one response, so ``/predict`` keeps a flat body and still shares
model calls with concurrent requests, without a second in-process HTTP hop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

import bentoml
from bentoml.exceptions import BentoMLException
from starlette.requests import Request
from starlette.responses import Response

from canaria.contracts.logs import get_logger
from canaria.contracts.request_id import REQUEST_ID_HEADER, request_id
from services.classic.jobs import Job, Refused, Result, Scored, to_jobs
from services.classic.validation import (
    InvalidReason,
    ParsedRequest,
    RecordValidator,
    parse_batch,
    parse_single,
    primary_reason,
)

logger = get_logger("classic.http")


class ParsingService(Protocol):
    """What the specs need from the running service."""

    validator: RecordValidator
    max_batch: int


def request_id_from(headers: Mapping[str, str]) -> str:
    """The request id for a request with ``headers`` (``canaria.contracts.request_id``)."""
    return request_id(headers.get(REQUEST_ID_HEADER))


def _current() -> ParsingService:
    service: ParsingService = bentoml.get_current_service()
    return service


class _JobsInput(bentoml.IODescriptor):
    """An input spec whose one field, ``jobs``, is the list BentoML batches."""

    fallback_schema: ClassVar[dict[str, Any]] = {"type": "object"}

    jobs: list[Any]

    @classmethod
    def parse(cls, body: bytes, service: ParsingService) -> ParsedRequest:
        raise NotImplementedError

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> _JobsInput:
        received_at = time.monotonic()
        body = await request.body()
        jobs: list[Job] = to_jobs(
            cls.parse(body, _current()),
            request_id=request_id_from(request.headers),
            received_at=received_at,
        )
        return cls.model_construct(jobs=jobs)

    @classmethod
    def record_schema(cls) -> dict[str, Any]:
        """The served model's record schema once the service runs, a generic one before."""
        try:
            return _current().validator.json_schema()
        except BentoMLException:
            return dict(cls.fallback_schema)


class SingleRecordInput(_JobsInput):
    """``POST /predict``: one record, its features as the body's top-level fields."""

    @classmethod
    def parse(cls, body: bytes, service: ParsingService) -> ParsedRequest:
        return parse_single(body, service.validator)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**cls.record_schema(), "title": "ChurnRecord"}


class BatchInput(_JobsInput):
    """``POST /predict_batch``: ``{"records": [record, ...]}``."""

    @classmethod
    def parse(cls, body: bytes, service: ParsingService) -> ParsedRequest:
        return parse_batch(body, service.validator, max_batch=service.max_batch)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {
            "title": "ChurnBatch",
            "type": "object",
            "properties": {"records": {"type": "array", "items": cls.record_schema()}},
            "required": ["records"],
        }


def refusal_response(refused: Refused) -> Response:
    """The 4xx answer for a refused request (pure)."""
    status = 400 if primary_reason(refused.problems) is InvalidReason.BODY else 422
    count = len(refused.problems)
    body = {
        "error": f"invalid request: {count} problem{'s' if count != 1 else ''}",
        "detail": [problem.to_dict() for problem in refused.problems],
        "request_id": refused.request_id,
    }
    return _json_response(body, status=status, request_id=refused.request_id)


def single_response(result: Result) -> Response:
    """The answer to ``/predict`` from its one result (pure)."""
    if isinstance(result, Refused):
        return refusal_response(result)
    body = {
        **result.prediction.to_dict(),
        "model_tag": result.model_tag,
        "request_id": result.request_id,
    }
    if result.customer_id is not None:
        body["customer_id"] = result.customer_id
    return _json_response(body, status=200, request_id=result.request_id)


def batch_response(results: Sequence[Result]) -> Response:
    """The answer to ``/predict_batch`` from its results, in record order (pure)."""
    refused = next((result for result in results if isinstance(result, Refused)), None)
    if refused is not None:
        return refusal_response(refused)
    scored = [result for result in results if isinstance(result, Scored)]
    predictions = []
    for result in scored:
        item = result.prediction.to_dict()
        if result.customer_id is not None:
            item["customer_id"] = result.customer_id
        predictions.append(item)
    body = {
        "predictions": predictions,
        "model_tag": scored[0].model_tag,
        "request_id": scored[0].request_id,
    }
    return _json_response(body, status=200, request_id=scored[0].request_id)


def _json_response(body: dict[str, Any], *, status: int, request_id: str) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={REQUEST_ID_HEADER: request_id},
    )


def log_response(route: str, results: Sequence[Result], response: Response) -> None:
    """One line per answer (BentoML's own access log is off): ids, outcome, latency from
    the body read to the answer, and problem fields; never values or customer ids."""
    first = results[0]
    fields: dict[str, Any] = {
        "route": route,
        "request_id": first.request_id,
        "status": response.status_code,
        "records": len(results),
        "latency_ms": round((time.monotonic() - first.received_at) * 1000, 2),
    }
    if isinstance(first, Refused):
        fields["problems"] = [f"{p.field}:{p.reason.value}" for p in first.problems[:10]]
        logger.info("request refused", extra=fields)
    else:
        fields["model_tag"] = first.model_tag
        if len(results) == 1:
            fields["predicted_class"] = first.prediction.predicted_class
        logger.info("request scored", extra=fields)


class _ResultsOutput(bentoml.IODescriptor):
    """An output spec that renders one request's share of a batch's results."""

    route: ClassVar[str] = ""

    @classmethod
    def render(cls, results: Sequence[Result]) -> Response:
        raise NotImplementedError

    @classmethod
    async def to_http_response(cls, obj: Any, serde: Any) -> Response:
        results: Sequence[Result] = obj
        response = cls.render(results)
        log_response(cls.route, results, response)
        return response


_PREDICTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "predicted_class": {"type": "string"},
        "probability": {"type": "number", "description": "probability of predicted_class"},
        "probabilities": {"type": "object", "additionalProperties": {"type": "number"}},
        "customer_id": {"type": ["string", "integer"], "description": "echoed when sent"},
    },
    "required": ["predicted_class", "probability", "probabilities"],
}


class SingleRecordOutput(_ResultsOutput):
    route: ClassVar[str] = "predict"

    @classmethod
    def render(cls, results: Sequence[Result]) -> Response:
        return single_response(results[0])

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        properties = dict(_PREDICTION_SCHEMA["properties"])
        properties.update(model_tag={"type": "string"}, request_id={"type": "string"})
        return {
            "title": "ChurnPrediction",
            "type": "object",
            "properties": properties,
            "required": [*_PREDICTION_SCHEMA["required"], "model_tag", "request_id"],
        }


class BatchOutput(_ResultsOutput):
    route: ClassVar[str] = "predict_batch"

    @classmethod
    def render(cls, results: Sequence[Result]) -> Response:
        return batch_response(results)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {
            "title": "ChurnBatchPrediction",
            "type": "object",
            "properties": {
                "predictions": {"type": "array", "items": _PREDICTION_SCHEMA},
                "model_tag": {"type": "string"},
                "request_id": {"type": "string"},
            },
            "required": ["predictions", "model_tag", "request_id"],
        }
