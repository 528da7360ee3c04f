"""Request validation against a model's saved feature schema (pure).

The schema comes from the model's metadata, so a retrained model with other features or
categories changes what the service accepts without a code change. Every problem names
its field and says what is wrong; the service turns a list of problems into a 4xx answer.

Unknown fields are ignored rather than refused: during a canary the router sends the same
request to two model versions, and a feature one of them no longer uses must not fail it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from canaria.contracts.model_metadata import Feature, FeatureSchema, FeatureType

ID_FIELD = "customer_id"
ID_MAX_LENGTH = 256
RECORDS_FIELD = "records"
# A batch full of bad records answers with this many problems at most.
MAX_PROBLEMS = 100
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# How much of an offending value a problem message quotes.
_MAX_QUOTED = 40


class InvalidReason(StrEnum):
    """Why a request was refused; the ``reason`` label of INVALID_REQUESTS_TOTAL."""

    BODY = "body"  # not JSON, or not a JSON object
    MISSING = "missing"
    TYPE = "type"
    CATEGORY = "category"
    RANGE = "range"
    NON_FINITE = "non_finite"
    BATCH_SIZE = "batch_size"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: which field, and what about it."""

    field: str
    problem: str
    reason: InvalidReason

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem, "reason": self.reason.value}


@dataclass(frozen=True)
class ValidRecord:
    """A record that passed validation: its features in schema order, and its optional id."""

    features: dict[str, Any]
    customer_id: str | int | None = None


@dataclass(frozen=True)
class ParsedRequest:
    """The outcome of parsing a request body: records to score, or problems to report."""

    records: tuple[ValidRecord, ...] = ()
    problems: tuple[Problem, ...] = ()


def _limits(feature: Feature) -> tuple[float | None, float | None]:
    """A feature's bounds; unbounded integers must still fit the pipeline's int64 column."""
    low, high = feature.minimum, feature.maximum
    if feature.type is FeatureType.INTEGER:
        return (INT64_MIN if low is None else low, INT64_MAX if high is None else high)
    return low, high


def _annotation(feature: Feature) -> Any:
    low, high = _limits(feature)
    if feature.type is FeatureType.INTEGER:
        return Annotated[int, Field(ge=low, le=high)]
    if feature.type is FeatureType.NUMBER:
        return Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)]
    if feature.categories:
        return Literal[feature.categories]
    return str


class RecordValidator:
    """Checks one JSON record against a feature schema.

    Types are strict: an integer feature refuses ``3.5``, ``"3"`` and ``true``; a number
    feature takes integers; NaN and infinities are refused. ``customer_id`` is optional
    (a string of at most ``ID_MAX_LENGTH`` characters, or an integer) and is passed
    through for the caller to echo, never used as a feature.
    """

    def __init__(self, schema: FeatureSchema) -> None:
        self.schema = schema
        self._features = {feature.name: feature for feature in schema.features}
        fields: dict[str, Any] = {feature.name: _annotation(feature) for feature in schema.features}
        if ID_FIELD not in fields:
            fields[ID_FIELD] = NotRequired[
                Annotated[str, StringConstraints(max_length=ID_MAX_LENGTH)] | int | None
            ]
        # A TypedDict, not a BaseModel: feature names may be any string, even "model_config".
        make_typed_dict: Any = TypedDict
        record_type = make_typed_dict("Record", fields)
        record_type.__pydantic_config__ = ConfigDict(extra="ignore", strict=True)
        self._adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(record_type)

    def validate(self, raw: object, *, prefix: str = "") -> ValidRecord | list[Problem]:
        """The valid record, or every problem with it; fields are named ``prefix + name``."""
        if not isinstance(raw, Mapping):
            where = prefix.rstrip(".") or "body"
            reason = InvalidReason.BODY if not prefix else InvalidReason.TYPE
            return [Problem(where, f"must be a JSON object, got {_json_type(raw)}", reason)]
        try:
            checked = self._adapter.validate_python(raw)
        except ValidationError as error:
            return self._problems(error, prefix=prefix)
        customer_id = checked.pop(ID_FIELD, None)
        return ValidRecord(features=checked, customer_id=customer_id)

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of one record, for the API docs."""
        return self._adapter.json_schema()

    def _problems(self, error: ValidationError, *, prefix: str) -> list[Problem]:
        problems: dict[str, Problem] = {}
        for detail in error.errors(include_url=False):
            name = str(detail["loc"][0])
            if name not in problems:  # a union reports once per member; keep the first
                problems[name] = self._problem(name, detail, prefix=prefix)
        return list(problems.values())

    def _problem(self, name: str, detail: Any, *, prefix: str) -> Problem:
        field = prefix + name
        kind, value = detail["type"], detail["input"]
        if kind == "missing":
            return Problem(field, "is required", InvalidReason.MISSING)
        if value is None:
            return Problem(field, "must not be null", InvalidReason.MISSING)
        feature = self._features.get(name)
        if feature is None:  # the id: never quote it, it identifies a person
            return Problem(
                field,
                f"must be a string of at most {ID_MAX_LENGTH} characters, or an integer",
                InvalidReason.TYPE,
            )
        if kind == "finite_number":
            return Problem(field, f"must be a finite number, got {value}", InvalidReason.NON_FINITE)
        if kind in ("greater_than_equal", "less_than_equal"):
            return Problem(
                field, f"must be {_bounds(feature)}, got {_quote(value)}", InvalidReason.RANGE
            )
        if kind == "literal_error" and isinstance(value, str):
            allowed = ", ".join(json.dumps(category) for category in feature.categories)
            return Problem(
                field, f"must be one of {allowed}, got {_quote(value)}", InvalidReason.CATEGORY
            )
        expected = {
            FeatureType.INTEGER: "an integer",
            FeatureType.NUMBER: "a number",
            FeatureType.CATEGORY: "a string",
        }[feature.type]
        return Problem(
            field,
            f"must be {expected}, got {_json_type(value)} {_quote(value)}",
            InvalidReason.TYPE,
        )


def parse_json(body: bytes) -> object | Problem:
    """The decoded JSON body, or the problem that stops it from decoding.

    Python's decoder accepts ``NaN`` and ``Infinity`` literals (and turns ``1e999`` into
    infinity); validation refuses those values by field rather than the whole body.
    """
    if not body.strip():
        return Problem("body", "is empty; send a JSON object", InvalidReason.BODY)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        return Problem("body", f"is not valid JSON: {error}", InvalidReason.BODY)
    except RecursionError:
        return Problem("body", "is nested too deeply", InvalidReason.BODY)


def parse_single(body: bytes, validator: RecordValidator) -> ParsedRequest:
    """A ``/predict`` body: one record whose features are the object's top-level fields."""
    decoded = parse_json(body)
    if isinstance(decoded, Problem):
        return ParsedRequest(problems=(decoded,))
    checked = validator.validate(decoded)
    if isinstance(checked, ValidRecord):
        return ParsedRequest(records=(checked,))
    return ParsedRequest(problems=tuple(checked))


def parse_batch(body: bytes, validator: RecordValidator, *, max_batch: int) -> ParsedRequest:
    """A ``/predict_batch`` body: ``{"records": [record, ...]}``, 1 to ``max_batch`` records.

    All or nothing: one bad record refuses the whole batch, naming it ``records[i].field``.
    """
    decoded = parse_json(body)
    if isinstance(decoded, Problem):
        return ParsedRequest(problems=(decoded,))
    if not isinstance(decoded, Mapping):
        problem = f'must be a JSON object {{"{RECORDS_FIELD}": [...]}}, got {_json_type(decoded)}'
        return ParsedRequest(problems=(Problem("body", problem, InvalidReason.BODY),))
    records = decoded.get(RECORDS_FIELD)
    size_problem = _batch_size_problem(records, max_batch=max_batch)
    if size_problem is not None:
        return ParsedRequest(problems=(size_problem,))
    if not isinstance(records, list):  # _batch_size_problem refuses anything else
        raise TypeError(f"records must be a list, got {type(records).__name__}")
    valid: list[ValidRecord] = []
    problems: list[Problem] = []
    for index, raw in enumerate(records):
        checked = validator.validate(raw, prefix=f"{RECORDS_FIELD}[{index}].")
        if isinstance(checked, ValidRecord):
            valid.append(checked)
        else:
            problems.extend(checked)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        return ParsedRequest(problems=tuple(problems[:MAX_PROBLEMS]))
    return ParsedRequest(records=tuple(valid))


def _batch_size_problem(records: object, *, max_batch: int) -> Problem | None:
    if records is None:
        return Problem(RECORDS_FIELD, "is required: a list of records", InvalidReason.MISSING)
    if not isinstance(records, list):
        return Problem(
            RECORDS_FIELD,
            f"must be a list of records, got {_json_type(records)}",
            InvalidReason.TYPE,
        )
    if not records:
        return Problem(RECORDS_FIELD, "must hold at least 1 record", InvalidReason.BATCH_SIZE)
    if len(records) > max_batch:
        return Problem(
            RECORDS_FIELD,
            f"holds {len(records)} records; at most {max_batch} are allowed",
            InvalidReason.BATCH_SIZE,
        )
    return None


def primary_reason(problems: Sequence[Problem]) -> InvalidReason:
    """The reason a refused request is counted under: its first problem's (pure)."""
    return problems[0].reason if problems else InvalidReason.BODY


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _quote(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, float) else repr(value)
    return text if len(text) <= _MAX_QUOTED else f"{text[:_MAX_QUOTED]}..."


def _bounds(feature: Feature) -> str:
    low, high = _limits(feature)
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"at least {_number(low)}"
    return f"at most {_number(high)}"


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)
