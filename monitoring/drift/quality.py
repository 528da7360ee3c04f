"""Which columns a drift analysis compares, and the current data's quality (pure).

The feature schema comes from the model's metadata
(``canaria.contracts.model_metadata.FeatureSchema``: types, allowed ranges and categories).
Without a model it is inferred from the reference: numeric dtypes are numbers without
bounds, everything else is a category whose allowed values are those the reference holds.
Mismatched inputs raise ``DriftInputError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from canaria.contracts.model_metadata import Feature, FeatureSchema, FeatureType
from monitoring.drift.tables import METADATA_COLUMNS, DriftInputError, is_prediction_column

# New categories listed per column at most (the count is always exact).
MAX_LISTED_CATEGORIES = 20


@dataclass(frozen=True)
class PlannedColumn:
    """One column to test: its name, whether it is categorical, and its role."""

    name: str
    categorical: bool
    role: str  # "feature" or "prediction"


@dataclass(frozen=True)
class ColumnQuality:
    """Data quality of one current column: counts over every current row."""

    missing: int
    missing_share: float
    out_of_range: int
    new_categories: tuple[str, ...]
    new_category_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "missing_share": self.missing_share,
            "out_of_range": self.out_of_range,
            "new_categories": list(self.new_categories),
            "new_category_rows": self.new_category_rows,
        }


def infer_schema(reference: pd.DataFrame, *, target: str | None = None) -> FeatureSchema:
    """A schema from the reference's columns (every column but predictions, metadata, target)."""
    features = []
    for name in reference.columns:
        if is_prediction_column(name) or name in METADATA_COLUMNS or name == target:
            continue
        column = reference[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            features.append(Feature(str(name), FeatureType.NUMBER))
        else:
            values = sorted({str(value) for value in column.dropna()})
            features.append(Feature(str(name), FeatureType.CATEGORY, categories=tuple(values)))
    return FeatureSchema(features=tuple(features), target=target or "", classes=())


def plan_columns(
    reference: pd.DataFrame, current: pd.DataFrame, schema: FeatureSchema
) -> list[PlannedColumn]:
    """The feature columns (all of the schema's) and prediction columns (those in both).

    Raises ``DriftInputError`` when either side lacks a feature, the current side has columns
    the reference does not know (prediction columns only one side has are skipped: a log
    has one probability per class, the reference sample only P(churn)), or a numeric
    feature holds non-numbers.
    """
    names = schema.names
    for side, frame in (("reference", reference), ("current", current)):
        missing = [name for name in names if name not in frame.columns]
        if missing:
            raise DriftInputError(f"{side} data is missing column(s): {', '.join(missing)}")
    ignored = {*METADATA_COLUMNS, schema.target}
    extra = [
        str(name)
        for name in current.columns
        if name not in reference.columns and name not in ignored and not is_prediction_column(name)
    ]
    if extra:
        raise DriftInputError(
            f"mismatched columns: current data has column(s) not in the reference: "
            f"{', '.join(extra)}"
        )
    planned = []
    for feature in schema.features:
        categorical = feature.type is FeatureType.CATEGORY
        if not categorical:
            for side, frame in (("reference", reference), ("current", current)):
                _require_numeric(frame[feature.name], feature.name, side)
        planned.append(PlannedColumn(feature.name, categorical, "feature"))
    for name in reference.columns:
        if is_prediction_column(name) and name in current.columns:
            numeric = pd.api.types.is_numeric_dtype(reference[name])
            planned.append(PlannedColumn(str(name), not numeric, "prediction"))
    return planned


def _require_numeric(column: pd.Series, name: str, side: str) -> None:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return
    coerced = pd.to_numeric(column, errors="coerce")
    bad = column[coerced.isna() & column.notna()]
    if not bad.empty:
        raise DriftInputError(
            f"mismatched column type: {name} is numeric but the {side} data holds {bad.iloc[0]!r}"
        )


def prepared(frame: pd.DataFrame, columns: Sequence[PlannedColumn]) -> pd.DataFrame:
    """Only the planned columns: numbers as float, categories as str (missing kept as NaN)."""
    data = {}
    for column in columns:
        values = frame[column.name]
        if column.categorical:
            data[column.name] = values.astype(object).where(values.isna(), values.astype(str))
        else:
            data[column.name] = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.DataFrame(data, index=frame.index)


def data_quality(current: pd.DataFrame, schema: FeatureSchema) -> dict[str, ColumnQuality]:
    """Missing values, values outside the schema's bounds, categories it does not allow."""
    rows = len(current)
    quality = {}
    for feature in schema.features:
        column = current[feature.name]
        missing = int(column.isna().sum())
        out_of_range = 0
        new: tuple[str, ...] = ()
        new_rows = 0
        if feature.type is FeatureType.CATEGORY:
            present = column.dropna().astype(str)
            unknown = present[~present.isin(feature.categories)] if feature.categories else None
            if unknown is not None:
                new_rows = len(unknown)
                new = tuple(sorted(unknown.unique()))[:MAX_LISTED_CATEGORIES]
        else:
            numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            low = -np.inf if feature.minimum is None else feature.minimum
            high = np.inf if feature.maximum is None else feature.maximum
            out_of_range = int(np.sum((numbers < low) | (numbers > high)))
        quality[feature.name] = ColumnQuality(
            missing=missing,
            missing_share=missing / rows if rows else 0.0,
            out_of_range=out_of_range,
            new_categories=new,
            new_category_rows=new_rows,
        )
    return quality
