"""Reading the two sides of a drift analysis: CSV, Parquet, or a service's JSONL sample log.

A sample log (``CANARIA_SAMPLE_LOG``, written by services/classic/samples.py) has one JSON
object per line; it becomes one row with the ``features`` as columns, ``prediction`` (the
predicted class), one ``<class>_probability`` column per class, and the metadata columns
``ts`` and ``model_tag`` (never analysed). Every failure raises ``DriftInputError`` with one
line that names the file and what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

PREDICTION_COLUMN = "prediction"
PROBABILITY_SUFFIX = "_probability"
# Columns a sample log carries besides features and predictions; never analysed.
METADATA_COLUMNS = ("ts", "model_tag", "request_id", "variant")
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}


class DriftInputError(ValueError):
    """The input cannot be analysed; ``str()`` is one line naming the file and the problem."""


def read_table(path: Path) -> pd.DataFrame:
    """A non-empty frame from a ``.csv``, ``.parquet``/``.pq`` or ``.jsonl`` sample log.

    Raises ``DriftInputError`` for a missing file, an unknown suffix, a file that does not
    parse as its suffix says, or one without rows.
    """
    kind = SUFFIXES.get(path.suffix.lower())
    if not path.exists():
        raise DriftInputError(f"{path}: no such file")
    if not path.is_file():
        raise DriftInputError(f"{path}: not a regular file")
    if kind is None:
        raise DriftInputError(
            f"{path}: not a CSV, Parquet or JSONL file (suffix {path.suffix or 'none'!r}; "
            f"expected one of {', '.join(sorted(SUFFIXES))})"
        )
    if path.stat().st_size == 0:
        raise DriftInputError(f"{path}: empty file")
    try:
        frame = _READERS[kind](path)
    except DriftInputError:
        raise
    except Exception as error:  # each reader fails its own way on garbage
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DriftInputError(f"{path}: not a valid {kind.upper()} file ({reason})") from error
    if frame.empty or len(frame.columns) == 0:
        raise DriftInputError(f"{path}: empty file (no rows)")
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError as error:
        raise DriftInputError(f"{path}: empty file (no columns)") from error


def _read_parquet(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def _read_jsonl(path: Path) -> pd.DataFrame:
    with path.open(encoding="utf-8") as lines:
        return sample_records_to_frame(_json_lines(lines, path))


def _json_lines(lines: Iterable[str], path: Path) -> Iterable[Mapping[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DriftInputError(
                f"{path}: not a valid JSONL file (line {number}: {error.msg})"
            ) from error
        if not isinstance(record, Mapping):
            raise DriftInputError(f"{path}: not a valid JSONL file (line {number} is no object)")
        yield record


_READERS = {"csv": _read_csv, "parquet": _read_parquet, "jsonl": _read_jsonl}


def sample_records_to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows from sample-log records (pure); a record without ``features`` is taken flat.

    ``{"ts", "model_tag", "features": {...}, "prediction": {"predicted_class",
    "probabilities": {cls: p}}}`` -> features, ``prediction``, ``<cls>_probability``,
    ``ts``, ``model_tag`` (and ``variant`` when present).
    """
    return pd.DataFrame.from_records([_flatten(record) for record in records])


def _flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    features = record.get("features")
    if not isinstance(features, Mapping):
        return dict(record)
    row: dict[str, Any] = dict(features)
    for name in METADATA_COLUMNS:
        if name in record and name != "request_id":
            row[name] = record[name]
    prediction = record.get("prediction")
    if isinstance(prediction, Mapping):
        if "predicted_class" in prediction:
            row[PREDICTION_COLUMN] = prediction["predicted_class"]
        probabilities = prediction.get("probabilities")
        if isinstance(probabilities, Mapping):
            for label, value in probabilities.items():
                row[f"{label}{PROBABILITY_SUFFIX}"] = value
    return row


def is_prediction_column(name: str) -> bool:
    """True for the predicted class and the per-class probability columns."""
    return name == PREDICTION_COLUMN or name.endswith(PROBABILITY_SUFFIX)
