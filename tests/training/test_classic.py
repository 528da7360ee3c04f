"""The churn classifier: reproducible training, honest metrics, complete saved metadata."""

from __future__ import annotations

import re
from pathlib import Path

import bentoml
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline

from canaria.contracts.model_metadata import (
    CLASSIC_MODEL_NAME,
    REFERENCE_SAMPLE_FILE,
    ModelMetadata,
)
from training import churn_data, classic
from training.churn_data import FEATURE_NAMES, FEATURE_SCHEMA, TARGET_COLUMN, DriftScenario

pytestmark = pytest.mark.slow  # starts real processes or trains a model

METRICS = ("accuracy", "f1", "roc_auc", "log_loss", "brier_score", "ece")


@pytest.fixture(scope="module")
def saved(classic_model_tag: str) -> tuple[bentoml.Model, Pipeline, ModelMetadata]:
    pipeline, metadata = classic.load(classic_model_tag)
    return bentoml.models.get(classic_model_tag), pipeline, metadata


def _accuracy(pipeline: Pipeline, frame: pd.DataFrame) -> float:
    predicted = classic.predict(pipeline, frame)[classic.PREDICTION_COLUMN]
    return float(accuracy_score(frame[TARGET_COLUMN], predicted))


def test_same_seed_gives_the_same_metrics_and_another_seed_does_not(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    _, _, metadata = saved  # trained by the session fixture with seed=7, n_rows=4000
    again = classic.train(seed=7, n_rows=4000).metadata
    assert again.metrics == metadata.metrics
    assert again.data_fingerprint == metadata.data_fingerprint
    other = classic.train(seed=8, n_rows=4000).metadata
    assert other.metrics != metadata.metrics
    assert other.data_fingerprint != metadata.data_fingerprint


def test_model_clearly_beats_the_base_rate(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    metrics = saved[2].metrics
    assert metrics["roc_auc"] > 0.8
    assert metrics["accuracy"] > metrics["baseline_accuracy"] + 0.04
    assert metrics["ece"] < 0.08
    assert metrics["brier_score"] < 0.16
    assert 0 < metrics["f1"] < 1
    # A fresh sample of the same population scores like the held-out split.
    fresh = churn_data.generate(n_rows=2000, seed=1234)
    assert abs(_accuracy(saved[1], fresh) - metrics["accuracy"]) < 0.05


def test_saved_metadata_is_complete(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    model, _, metadata = saved
    assert model.tag.name == CLASSIC_MODEL_NAME
    assert ModelMetadata.from_bentoml(model.info.metadata) == metadata
    assert metadata.kind == "classic"
    assert set(METRICS) <= set(metadata.metrics)
    assert all(np.isfinite(value) for value in metadata.metrics.values())
    assert metadata.feature_schema == FEATURE_SCHEMA
    assert metadata.feature_schema.classes == ("churn", "stay")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", metadata.data_fingerprint)
    assert metadata.code_version and metadata.code_version != "unknown"
    params = metadata.training_params
    assert (params["seed"], params["n_rows"], params["scenario"]) == (7, 4000, "none")
    assert params["n_train"] + params["n_test"] == 4000
    assert metadata.reference_sample_file == REFERENCE_SAMPLE_FILE
    assert metadata.extra["personal_data_fields"] == ["customer_id"]


def test_reference_sample_holds_inputs_and_predictions(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    model, pipeline, metadata = saved
    path = classic.reference_sample_path(str(model.tag))
    assert path == Path(model.path) / REFERENCE_SAMPLE_FILE
    assert path.is_file()
    sample = classic.load_reference_sample(str(model.tag))
    columns = metadata.extra["reference_sample"]
    assert list(sample.columns) == [
        *FEATURE_NAMES,
        TARGET_COLUMN,
        columns["prediction_column"],
        columns["probability_column"],
    ]
    assert len(sample) == classic.REFERENCE_SAMPLE_ROWS == columns["rows"]
    assert "customer_id" not in sample.columns
    probability = sample[classic.PROBABILITY_COLUMN]
    assert probability.between(0, 1).all()
    assert set(sample[classic.PREDICTION_COLUMN]) == {"churn", "stay"}
    assert ((probability >= 0.5) == (sample[classic.PREDICTION_COLUMN] == "churn")).all()
    # The loaded pipeline reproduces the stored predictions.
    rescored = classic.predict(pipeline, sample)
    np.testing.assert_allclose(rescored[classic.PROBABILITY_COLUMN], probability, rtol=1e-9)


def test_bentoml_sklearn_loads_the_same_pipeline(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    model, pipeline, _ = saved
    loaded = bentoml.sklearn.load_model(model.tag)
    frame = churn_data.generate(n_rows=50, seed=3)
    np.testing.assert_array_equal(
        loaded.predict_proba(frame[list(FEATURE_NAMES)]),
        pipeline.predict_proba(frame[list(FEATURE_NAMES)]),
    )


def test_concept_drift_lowers_the_stable_model_accuracy(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    pipeline = saved[1]
    accuracies = [
        _accuracy(
            pipeline,
            churn_data.generate(
                n_rows=2000, seed=11, scenario=DriftScenario.CONCEPT_DRIFT, strength=strength
            ),
        )
        for strength in (0.0, 0.5, 1.0)
    ]
    assert accuracies[0] > accuracies[1] > accuracies[2]
    assert accuracies[2] < accuracies[0] - 0.2


def test_bad_batch_still_gets_a_prediction_for_every_row(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    bad = churn_data.generate(n_rows=1000, seed=12, scenario=DriftScenario.BAD_BATCH, strength=1)
    scored = classic.predict(saved[1], bad)
    assert len(scored) == 1000
    assert scored[classic.PROBABILITY_COLUMN].between(0, 1).all()


def test_retraining_on_drifted_data_records_scenario_and_labels(
    saved: tuple[bentoml.Model, Pipeline, ModelMetadata],
) -> None:
    tag = classic.train_and_save(
        seed=3, n_rows=1500, scenario="concept-drift", strength=0.8, labels={"role": "candidate"}
    )
    assert tag.name == CLASSIC_MODEL_NAME
    assert bentoml.models.get(tag).info.labels == {
        "role": "candidate",
        "scenario": "concept-drift",
        "strength": "0.8",
    }
    retrained, metadata = classic.load(str(tag))
    assert metadata.training_params["scenario"] == "concept-drift"
    assert metadata.training_params["strength"] == 0.8
    # The retrained model learned the new relation, which the stable model gets wrong.
    drifted = churn_data.generate(
        n_rows=2000, seed=13, scenario=DriftScenario.CONCEPT_DRIFT, strength=0.8
    )
    assert _accuracy(retrained, drifted) > _accuracy(saved[1], drifted) + 0.1
