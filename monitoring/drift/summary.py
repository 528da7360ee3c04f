"""The result of one drift analysis as plain data, and its JSON form (pure).

Statuses: ``drift`` (share of drifted feature columns >= the configured ``drift_share``),
``no_drift``, and ``no_data`` (the current window had fewer than ``min_rows`` rows: nothing
was tested, so nothing is claimed). Prediction drift (the predicted class and probability
columns) is reported apart from the feature share and does not count in it, except when a
variant is compared with another (canary against stable), where it does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from monitoring.drift.config import DriftConfig
from monitoring.drift.quality import ColumnQuality


class DriftStatus(StrEnum):
    DRIFT = "drift"
    NO_DRIFT = "no_drift"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class ColumnDrift:
    """One column's test: Evidently's method, threshold, score and verdict."""

    column: str
    role: str  # "feature" or "prediction"
    column_type: str  # "numeric" or "categorical"
    method: str
    threshold: float
    score: float | None  # None: not tested (no values on one side)
    drifted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "role": self.role,
            "type": self.column_type,
            "method": self.method,
            "threshold": self.threshold,
            "score": self.score,
            "drifted": self.drifted,
        }


@dataclass(frozen=True)
class DriftSummary:
    """Everything the CLI, the monitor and the canary check read from one analysis.

    ``drift_share`` is ``None`` for ``no_data``; ``prediction_drift`` is ``None`` when
    neither side carried predictions. Row counts: ``*_rows`` all rows read, ``tested_rows``
    after sampling to ``config.max_rows``.
    """

    status: DriftStatus
    drift_share: float | None
    drifted_columns: tuple[str, ...]
    columns: tuple[ColumnDrift, ...]
    prediction_drift: bool | None
    quality: Mapping[str, ColumnQuality]
    reference_rows: int
    current_rows: int
    tested_rows: Mapping[str, int]
    config: DriftConfig
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return self.status is DriftStatus.DRIFT

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "drift_share": self.drift_share,
            "drift_share_threshold": self.config.drift_share,
            "drifted_columns": list(self.drifted_columns),
            "prediction_drift": self.prediction_drift,
            "columns": [column.to_dict() for column in self.columns],
            "data_quality": {name: item.to_dict() for name, item in self.quality.items()},
            "rows": {
                "reference": self.reference_rows,
                "current": self.current_rows,
                "tested": dict(self.tested_rows),
            },
            "config": self.config.to_dict(),
            "context": dict(self.context),
        }


def summarize(
    columns: Sequence[ColumnDrift],
    *,
    quality: Mapping[str, ColumnQuality],
    config: DriftConfig,
    reference_rows: int,
    current_rows: int,
    tested_rows: Mapping[str, int],
    context: Mapping[str, Any] | None = None,
    predictions_in_share: bool = False,
) -> DriftSummary:
    """The dataset verdict from per-column results (``columns`` empty and rows short: no_data).

    ``predictions_in_share`` counts prediction columns in the share and the verdict (for a
    canary compared with the stable, where a prediction shift alone is suspicious).
    """
    predictions = [column for column in columns if column.role == "prediction"]
    features = [
        column
        for column in columns
        if column.role == "feature" or (predictions_in_share and column.role == "prediction")
    ]
    if current_rows < config.min_rows or not features:
        status, share = DriftStatus.NO_DATA, None
    else:
        share = sum(column.drifted for column in features) / len(features)
        status = DriftStatus.DRIFT if share >= config.drift_share else DriftStatus.NO_DRIFT
    return DriftSummary(
        status=status,
        drift_share=share,
        drifted_columns=tuple(column.column for column in features if column.drifted),
        columns=tuple(columns),
        prediction_drift=any(column.drifted for column in predictions) if predictions else None,
        quality=dict(quality),
        reference_rows=reference_rows,
        current_rows=current_rows,
        tested_rows=dict(tested_rows),
        config=config,
        context=dict(context or {}),
    )


def one_line(summary: DriftSummary) -> str:
    """A human line: verdict, share, drifted columns, prediction drift, quality issues."""
    if summary.status is DriftStatus.NO_DATA:
        return (
            f"no data: {summary.current_rows} current rows, at least "
            f"{summary.config.min_rows} needed"
        )
    verdict = "drift" if summary.drifted else "no drift"
    drifted = ", ".join(summary.drifted_columns) or "none"
    text = (
        f"{verdict}: {summary.drift_share:.0%} of {len(summary.quality)} feature columns "
        f"drifted (threshold {summary.config.drift_share:.0%}; drifted: {drifted})"
    )
    if summary.prediction_drift is not None:
        text += f"; prediction drift: {'yes' if summary.prediction_drift else 'no'}"
    issues = [
        name
        for name, item in summary.quality.items()
        if item.out_of_range or item.new_category_rows
    ]
    if issues:
        text += f"; out-of-range or unknown values in: {', '.join(issues)}"
    return text
