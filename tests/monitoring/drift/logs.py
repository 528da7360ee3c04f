"""Write service-style sample logs (``CANARIA_SAMPLE_LOG`` JSONL) for drift tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from training import churn_data


def write_sample_log(
    path: Path,
    features: pd.DataFrame,
    *,
    predicted: str = "stay",
    churn_probability: float = 0.2,
    ts: float | None = None,
    model_tag: str = "churn-classifier:test",
) -> Path:
    """One JSON line per row, shaped like ``services.classic.samples.SampleSink`` writes."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() if ts is None else ts))
    columns = list(churn_data.FEATURE_NAMES)
    with path.open("a", encoding="utf-8") as handle:
        for record in features[columns].to_dict("records"):
            line = {
                "ts": stamp,
                "request_id": "r",
                "model_tag": model_tag,
                "features": {key: value for key, value in record.items() if pd.notna(value)},
                "prediction": {
                    "predicted_class": predicted,
                    "probability": max(churn_probability, 1 - churn_probability),
                    "probabilities": {"churn": churn_probability, "stay": 1 - churn_probability},
                },
            }
            handle.write(json.dumps(line) + "\n")
    return path
