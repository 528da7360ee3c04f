"""The drift monitor's Prometheus gauges, built from the latest results (pure builder).

Names come from ``canaria.contracts.metrics``. Per (model, variant, baseline): the drifted
share, prediction drift, the rows in the window and the last run's time; per column: the
test score and a 0/1 drifted gauge. A "no data" window exports only rows and last run, so
nothing reads as "no drift".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from canaria.contracts.metrics import (
    DRIFT_COLUMN_DRIFTED,
    DRIFT_COLUMN_SCORE,
    DRIFT_LAST_RUN,
    DRIFT_PREDICTION_DRIFTED,
    DRIFT_SHARE,
    DRIFT_WINDOW_ROWS,
)
from monitoring.drift.summary import DriftStatus, DriftSummary

REFERENCE_BASELINE = "reference"


@dataclass(frozen=True)
class VariantResult:
    """One evaluation of a variant against a baseline: when, rows, summary (or an error).

    ``baseline`` is ``reference`` (the model's reference sample) or another variant's name.
    """

    variant: str
    last_run: float
    rows: int
    summary: DriftSummary | None
    error: str | None = None
    baseline: str = REFERENCE_BASELINE

    @property
    def key(self) -> tuple[str, str]:
        return (self.variant, self.baseline)


Sample = tuple[str, dict[str, str], float]

HELP = {
    DRIFT_SHARE: "Share of drifted columns (0-1) of a variant against its baseline.",
    DRIFT_COLUMN_SCORE: "Drift test score per column (p-value or distance, see method).",
    DRIFT_COLUMN_DRIFTED: "1 when the column drifted in the latest window, else 0.",
    DRIFT_PREDICTION_DRIFTED: "1 when a prediction column drifted in the latest window.",
    DRIFT_WINDOW_ROWS: "Sample-log rows inside the current drift window.",
    DRIFT_LAST_RUN: "Unix time of the latest drift evaluation.",
}
_BASE = ("model", "variant", "baseline")
LABELS = {
    DRIFT_SHARE: _BASE,
    DRIFT_COLUMN_SCORE: (*_BASE, "column", "method"),
    DRIFT_COLUMN_DRIFTED: (*_BASE, "column"),
    DRIFT_PREDICTION_DRIFTED: _BASE,
    DRIFT_WINDOW_ROWS: _BASE,
    DRIFT_LAST_RUN: _BASE,
}


def gauge_samples(model: str, results: Mapping[tuple[str, str], VariantResult]) -> list[Sample]:
    """Every (metric, labels, value) to export for ``results`` (pure); no NaN ever."""
    samples: list[Sample] = []
    for _, result in sorted(results.items()):
        base = {"model": model, "variant": result.variant, "baseline": result.baseline}
        samples.append((DRIFT_WINDOW_ROWS, base, float(result.rows)))
        samples.append((DRIFT_LAST_RUN, base, result.last_run))
        summary = result.summary
        if summary is None or summary.status is DriftStatus.NO_DATA:
            continue
        if summary.drift_share is not None:
            samples.append((DRIFT_SHARE, base, summary.drift_share))
        if summary.prediction_drift is not None:
            samples.append((DRIFT_PREDICTION_DRIFTED, base, float(summary.prediction_drift)))
        for column in summary.columns:
            labels = {**base, "column": column.column}
            samples.append((DRIFT_COLUMN_DRIFTED, labels, 1.0 if column.drifted else 0.0))
            if column.score is not None:
                scored = {**labels, "method": column.method}
                samples.append((DRIFT_COLUMN_SCORE, scored, column.score))
    return samples


class DriftCollector(Collector):
    """A prometheus_client collector serving the latest result per (variant, baseline)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._results: dict[tuple[str, str], VariantResult] = {}

    def update(self, result: VariantResult) -> None:
        with self._lock:
            self._results[result.key] = result

    def results(self) -> dict[tuple[str, str], VariantResult]:
        with self._lock:
            return dict(self._results)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {
            name: GaugeMetricFamily(name, HELP[name], labels=list(labels))
            for name, labels in LABELS.items()
        }
        for name, labels, value in gauge_samples(self.model, self.results()):
            families[name].add_metric([labels[key] for key in LABELS[name]], value)
        yield from families.values()
