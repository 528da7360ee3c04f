"""The churn data generator: reproducible, realistic, and drifting the way scenarios say."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from canaria.contracts.model_metadata import FeatureSchema, FeatureType
from training import churn_data
from training.churn_data import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    FEATURE_SCHEMA,
    ID_COLUMN,
    NUMERIC_FEATURES,
    TARGET_COLUMN,
    DriftScenario,
    generate,
)

N_ROWS = 4000


def _churn_rate(frame: pd.DataFrame) -> float:
    return float((frame[TARGET_COLUMN] == churn_data.POSITIVE_CLASS).mean())


def test_same_seed_gives_identical_data_and_another_seed_does_not() -> None:
    first = generate(n_rows=500, seed=3)
    pd.testing.assert_frame_equal(first, generate(n_rows=500, seed=3))
    other = generate(n_rows=500, seed=4)
    assert not first[list(FEATURE_NAMES)].equals(other[list(FEATURE_NAMES)])
    assert set(first[ID_COLUMN]).isdisjoint(other[ID_COLUMN])


def test_columns_types_and_values_follow_the_feature_schema() -> None:
    frame = generate(n_rows=N_ROWS, seed=1)
    assert list(frame.columns) == [ID_COLUMN, *FEATURE_NAMES, TARGET_COLUMN]
    assert ID_COLUMN not in FEATURE_NAMES
    assert ID_COLUMN in churn_data.PERSONAL_DATA_FIELDS
    assert set(frame[TARGET_COLUMN]) == set(FEATURE_SCHEMA.classes)
    assert not frame.isna().any().any()
    for feature in FEATURE_SCHEMA.features:
        column = frame[feature.name]
        if feature.type is FeatureType.CATEGORY:
            assert set(column) == set(feature.categories), feature.name
            continue
        assert feature.minimum is not None and feature.maximum is not None
        assert column.between(feature.minimum, feature.maximum).all(), feature.name
        assert column.nunique() > 5, feature.name
        if feature.type is FeatureType.INTEGER:
            assert pd.api.types.is_integer_dtype(column), feature.name
    assert set(NUMERIC_FEATURES) | set(CATEGORICAL_FEATURES) == set(FEATURE_NAMES)


def test_feature_schema_survives_the_json_round_trip() -> None:
    as_json = json.dumps(FEATURE_SCHEMA.to_dict())
    assert "null" not in as_json  # BentoML metadata refuses None
    assert FeatureSchema.from_dict(json.loads(as_json)) == FEATURE_SCHEMA
    assert FEATURE_SCHEMA.target == TARGET_COLUMN


def test_features_are_correlated_like_real_customers() -> None:
    frame = generate(n_rows=N_ROWS, seed=2)
    assert frame["monthly_charges"].corr(frame["num_products"]) > 0.4
    assert frame["total_charges"].corr(frame["tenure_months"]) > 0.7
    tenure = frame.groupby("contract_type")["tenure_months"].mean()
    assert tenure["month-to-month"] < tenure["one-year"] < tenure["two-year"]


def test_label_depends_on_features_with_an_interaction() -> None:
    frame = generate(n_rows=20000, seed=5)
    assert 0.15 < _churn_rate(frame) < 0.4
    is_churn = frame[TARGET_COLUMN] == churn_data.POSITIVE_CLASS
    assert roc_auc_score(is_churn, churn_data.stable_logit(frame)) > 0.85
    # Price drives churn on month-to-month contracts only.
    expensive = frame["monthly_charges"] > 65
    for contract, min_gap, max_gap in (("month-to-month", 0.15, 1.0), ("two-year", -0.05, 0.05)):
        rows = frame["contract_type"] == contract
        gap = _churn_rate(frame[rows & expensive]) - _churn_rate(frame[rows & ~expensive])
        assert min_gap < gap < max_gap, (contract, gap)


def test_covariate_shift_moves_the_population_more_with_strength() -> None:
    batches = [
        generate(n_rows=N_ROWS, seed=6, scenario=DriftScenario.COVARIATE_SHIFT, strength=strength)
        for strength in (0.0, 0.5, 1.0)
    ]
    pd.testing.assert_frame_equal(batches[0], generate(n_rows=N_ROWS, seed=6))
    month_to_month = [(b["contract_type"] == "month-to-month").mean() for b in batches]
    charges = [b["monthly_charges"].mean() for b in batches]
    ages = [b["age"].mean() for b in batches]
    assert month_to_month[0] + 0.1 < month_to_month[1] < month_to_month[2] - 0.1
    assert charges[0] + 5 < charges[1] < charges[2] - 5
    assert ages[0] - 5 > ages[1] > ages[2] + 5
    # Every customer moves the same way: no one gets older or cheaper under the shift.
    assert (batches[2]["age"] <= batches[1]["age"]).all()
    assert (batches[2]["monthly_charges"] >= batches[1]["monthly_charges"]).all()


def test_concept_drift_keeps_the_features_and_changes_the_labels() -> None:
    clean = generate(n_rows=N_ROWS, seed=7)
    changed = []
    for strength in (0.25, 0.5, 1.0):
        drifted = generate(
            n_rows=N_ROWS, seed=7, scenario=DriftScenario.CONCEPT_DRIFT, strength=strength
        )
        pd.testing.assert_frame_equal(
            drifted.drop(columns=TARGET_COLUMN), clean.drop(columns=TARGET_COLUMN)
        )
        changed.append(float((drifted[TARGET_COLUMN] != clean[TARGET_COLUMN]).mean()))
    assert changed[0] < changed[1] < changed[2]
    assert changed[2] > 0.3


def test_bad_batch_has_missing_out_of_range_and_unknown_values() -> None:
    clean = generate(n_rows=N_ROWS, seed=8)
    bad = generate(n_rows=N_ROWS, seed=8, scenario="bad-batch", strength=1.0)
    features = list(FEATURE_NAMES)
    assert bad[features].isna().any(axis=1).mean() > 0.05
    out_of_range = unknown = 0
    for feature in FEATURE_SCHEMA.features:
        column = bad[feature.name].dropna()
        if feature.type is FeatureType.CATEGORY:
            unknown += int((~column.isin(feature.categories)).sum())
        else:
            out_of_range += int((~column.between(feature.minimum, feature.maximum)).sum())
    assert out_of_range > 0.05 * N_ROWS
    assert unknown > 0.05 * N_ROWS
    # Labels and ids are those of the undamaged customers.
    assert bad[TARGET_COLUMN].equals(clean[TARGET_COLUMN])
    assert bad[ID_COLUMN].equals(clean[ID_COLUMN])


def test_bad_batch_damage_grows_with_strength() -> None:
    clean = generate(n_rows=N_ROWS, seed=9)
    damaged_rows = []
    for strength in (0.0, 0.2, 0.6, 1.0):
        bad = generate(n_rows=N_ROWS, seed=9, scenario=DriftScenario.BAD_BATCH, strength=strength)
        differs = ~((bad[list(FEATURE_NAMES)] == clean[list(FEATURE_NAMES)]).all(axis=1).to_numpy())
        damaged_rows.append(set(np.flatnonzero(differs)))
    assert damaged_rows[0] == set()
    assert damaged_rows[1] < damaged_rows[2] < damaged_rows[3]
    expected = churn_data.BAD_BATCH_MAX_ROW_SHARE * N_ROWS
    assert 0.85 * expected < len(damaged_rows[3]) < 1.15 * expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "n_rows"),
        ({"n_rows": 10, "strength": 1.5}, "strength"),
        ({"n_rows": 10, "strength": -0.1}, "strength"),
        ({"n_rows": 10, "scenario": "alien-invasion"}, "alien-invasion"),
        ({"n_rows": 10, "strength": 0.5}, "needs a scenario"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)  # type: ignore[arg-type]
