"""What travels through BentoML's batching queue: one job per record, one result per job.

A ``/predict`` request becomes one job; a ``/predict_batch`` request one job per record,
so BentoML can merge records of many requests into one model call, or split a large
request over several. A refused request becomes a single ``Refused`` job that passes
through unchanged, so every answer, good or bad, leaves by the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.classic.validation import ParsedRequest, Problem, ValidRecord

if TYPE_CHECKING:
    from services.classic.scoring import Prediction


@dataclass(frozen=True)
class Accepted:
    """A valid record waiting for the model."""

    request_id: str
    record: ValidRecord
    received_at: float = 0.0  # time.monotonic() when the request was parsed


@dataclass(frozen=True)
class Refused:
    """A request that failed validation, with every problem found."""

    request_id: str
    problems: tuple[Problem, ...]
    received_at: float = 0.0


@dataclass(frozen=True)
class Scored:
    """A record's prediction, with what the answer echoes."""

    request_id: str
    prediction: Prediction
    model_tag: str
    customer_id: str | int | None = None
    received_at: float = 0.0


Job = Accepted | Refused
Result = Scored | Refused


def to_jobs(parsed: ParsedRequest, *, request_id: str, received_at: float = 0.0) -> list[Job]:
    """The jobs for one parsed request (pure): a single ``Refused``, or one per record."""
    if parsed.problems:
        return [Refused(request_id, parsed.problems, received_at)]
    return [Accepted(request_id, record, received_at) for record in parsed.records]
