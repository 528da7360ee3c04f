"""A JSONL sink of scored records, for drift analysis and retraining.

One line per sampled record::

    {"ts": "2025-01-01T12:00:00.123Z", "request_id": "...", "model_tag": "churn-classifier:v1",
     "features": {"tenure_months": 3, ...},
     "prediction": {"predicted_class": "churn", "probability": 0.81, "probabilities": {...}}}

Fields named in ``never_log`` are removed before anything is written (the service passes
``CANARIA_NEVER_LOG`` and the fields its model's metadata declares as personal data;
``customer_id`` is never even handed to the sink). They are dropped, not hashed: a hash of
a national id or a phone number is reversed by hashing every possible value; drift
analysis skips them for that reason (monitoring/drift/reference.py).

Writing is best effort: a failure is logged, once a minute at most and without the
record, and the request that caused it still gets its answer. Several worker processes
may append to the same file: each line is one ``write`` on a file opened with
``O_APPEND``, which the kernel does not interleave.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canaria.contracts.logs import get_logger, redact

if TYPE_CHECKING:
    from services.classic.scoring import Prediction

logger = get_logger("classic.samples")
# Seconds between two warnings about a failing sink.
WARN_INTERVAL_S = 60.0


class SampleSink:
    """Appends a ``rate`` share of scored records to ``path`` as JSON lines."""

    def __init__(
        self,
        *,
        path: Path,
        rate: float,
        never_log: Iterable[str],
        rng: random.Random | None = None,
    ) -> None:
        self.path = path
        self.rate = rate
        self.never_log = frozenset(never_log)
        self._rng = rng or random.Random()  # nosec B311 # picks which records to sample, not security
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._last_warning = float("-inf")

    def offer(
        self,
        *,
        features: Mapping[str, Any],
        prediction: Prediction,
        model_tag: str,
        request_id: str,
    ) -> bool:
        """Write the record if it is sampled; True when a line was written. Never raises."""
        try:
            if self.rate <= 0.0 or (self.rate < 1.0 and self._rng.random() >= self.rate):
                return False
            record = {
                "ts": _timestamp(),
                "request_id": request_id,
                "model_tag": model_tag,
                "features": dict(features),
                "prediction": prediction.to_dict(),
            }
            line = json.dumps(redact(record, self.never_log), separators=(",", ":")) + "\n"
            self._append(line.encode("utf-8"))
            return True
        except Exception as error:  # the sink must never fail the request
            self._warn(error)
            return False

    def _append(self, data: bytes) -> None:
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(self._fd, data)
            except OSError:
                # Reopen next time: the file may have been rotated or its disk replaced.
                os.close(self._fd)
                self._fd = None
                raise

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_INTERVAL_S:
            self._last_warning = now
            logger.warning(
                "sample sink write failed",
                extra={"path": str(self.path), "error_type": type(error).__name__},
            )

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
