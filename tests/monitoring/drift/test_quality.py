"""Column planning and data quality against the model's feature schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from canaria.contracts.model_metadata import FeatureType
from monitoring.drift.quality import data_quality, infer_schema, plan_columns
from monitoring.drift.tables import DriftInputError
from tests.monitoring.drift.frames import customers
from training import churn_data

SCHEMA = churn_data.FEATURE_SCHEMA


def test_bad_batch_shows_missing_out_of_range_and_new_categories() -> None:
    batch = customers(2000, seed=3, scenario="bad-batch", strength=1.0)
    quality = data_quality(batch, SCHEMA)
    assert sum(item.missing for item in quality.values()) > 0
    assert sum(item.out_of_range for item in quality.values()) > 0
    new = {name: item.new_categories for name, item in quality.items() if item.new_categories}
    assert new and set(new["region"]) <= {"atlantis"}


def test_clean_customers_have_no_quality_issues() -> None:
    quality = data_quality(customers(2000, seed=3), SCHEMA)
    assert all(
        item.missing == item.out_of_range == item.new_category_rows == 0
        for item in quality.values()
    )


def test_plan_has_every_feature_then_shared_prediction_columns() -> None:
    reference = customers(50, seed=1).assign(prediction="stay", churn_probability=0.1)
    current = customers(50, seed=2).drop(columns=[SCHEMA.target]).assign(prediction="churn")
    planned = plan_columns(reference, current, SCHEMA)
    assert [column.name for column in planned] == [*SCHEMA.names, "prediction"]
    assert planned[-1].role == "prediction" and planned[-1].categorical


def test_missing_extra_and_mistyped_columns_are_refused() -> None:
    reference = customers(50, seed=1)
    with pytest.raises(DriftInputError, match=r"current data is missing column\(s\): age"):
        plan_columns(reference, reference.drop(columns=["age"]), SCHEMA)
    with pytest.raises(DriftInputError, match=r"mismatched columns: .* not in the reference: x"):
        plan_columns(reference, reference.assign(x=1), SCHEMA)
    with pytest.raises(DriftInputError, match=r"mismatched column type: age .* 'old'"):
        plan_columns(reference, reference.assign(age="old"), SCHEMA)


def test_an_inferred_schema_knows_types_and_reference_categories() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, np.nan], "b": ["x", "y"], "prediction": ["p", "q"], "y": [0, 1]}
    )
    schema = infer_schema(frame, target="y")
    assert [(f.name, f.type) for f in schema.features] == [
        ("a", FeatureType.NUMBER),
        ("b", FeatureType.CATEGORY),
    ]
    quality = data_quality(pd.DataFrame({"a": [np.nan], "b": ["z"]}), schema)
    assert quality["a"].missing_share == 1.0
    assert quality["b"].new_categories == ("z",)
