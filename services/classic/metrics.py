"""The classic service's own Prometheus metrics, next to BentoML's request metrics.

BentoML serves ``/metrics`` from prometheus_client's multiprocess files and sets
``PROMETHEUS_MULTIPROC_DIR`` in each worker only after importing the service module, so
prometheus_client is imported, and the metrics created, when a worker starts the service
(``ClassicMetrics(...)`` in ``__init__``), never at import time. Metric names come from
``canaria.contracts.metrics``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from canaria.contracts.metrics import (
    INVALID_REQUESTS_TOTAL,
    MODEL_INFO,
    PREDICTION_CONFIDENCE,
    PREDICTIONS_TOTAL,
)

SERVICE_LABEL = "classic"
# The predicted class's probability is at least 1/n_classes: finer buckets near the top.
CONFIDENCE_BUCKETS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
MODEL_INFO_LABELS = ("model", "version", "kind", "code_version", "data_fingerprint")


@dataclass(frozen=True)
class _Instruments:
    predictions: Any
    confidence: Any
    model_info: Any
    invalid_requests: Any


@functools.cache
def _instruments() -> _Instruments:
    """Create the metrics once per process (a second registration would raise)."""
    import prometheus_client

    return _Instruments(
        predictions=prometheus_client.Counter(
            PREDICTIONS_TOTAL,
            "Predictions served, by predicted class.",
            ["model", "version", "predicted_class"],
        ),
        confidence=prometheus_client.Histogram(
            PREDICTION_CONFIDENCE,
            "Probability of the predicted class.",
            ["model", "version"],
            buckets=CONFIDENCE_BUCKETS,
        ),
        model_info=prometheus_client.Gauge(
            MODEL_INFO,
            "The model this service serves (value always 1).",
            list(MODEL_INFO_LABELS),
            # Every worker reports the same 1; "max" keeps one series instead of one per pid.
            multiprocess_mode="max",
        ),
        invalid_requests=prometheus_client.Counter(
            INVALID_REQUESTS_TOTAL,
            "Requests refused by validation, by the reason of their first problem.",
            ["service", "reason"],
        ),
    )


class ClassicMetrics:
    """Records predictions and refusals for one served model version."""

    def __init__(self, *, model: str, version: str, info: dict[str, str]) -> None:
        instruments = _instruments()
        self._predictions = instruments.predictions
        self._invalid = instruments.invalid_requests
        self._confidence = instruments.confidence.labels(model=model, version=version)
        self._model = model
        self._version = version
        labels = {"model": model, "version": version}
        labels.update({name: info.get(name, "") for name in MODEL_INFO_LABELS[2:]})
        instruments.model_info.labels(**labels).set(1)

    def observe_predictions(self, predictions: Iterable[tuple[str, float]]) -> None:
        """Count each (predicted class, probability) pair and record its confidence."""
        for predicted_class, probability in predictions:
            self._predictions.labels(
                model=self._model, version=self._version, predicted_class=predicted_class
            ).inc()
            self._confidence.observe(probability)

    def count_invalid(self, reason: str) -> None:
        self._invalid.labels(service=SERVICE_LABEL, reason=reason).inc()
