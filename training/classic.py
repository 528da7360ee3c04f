"""Train, evaluate and save the churn classifier; load it back with its metadata.

The saved artifact is one scikit-learn ``Pipeline`` (preprocessing included), so whoever
serves it passes raw feature columns and nothing can drift between training-time and
serving-time preprocessing. It is stored with the ``bentoml.sklearn`` layout, so
``bentoml.sklearn.load_model`` loads it as well as ``load`` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from canaria.contracts.model_metadata import (
    CLASSIC_MODEL_NAME,
    REFERENCE_SAMPLE_FILE,
    ModelMetadata,
)
from training import churn_data
from training.evaluation import classification_metrics
from training.provenance import code_version, data_fingerprint

if TYPE_CHECKING:
    import bentoml

KIND = "classic"
TEST_FRACTION = 0.25
# Fewer rows leave too few churners in the held-out split for stable metrics.
MIN_ROWS = 200
REFERENCE_SAMPLE_ROWS = 1000
# Columns the reference sample adds to the features and the label.
PREDICTION_COLUMN = "prediction"
PROBABILITY_COLUMN = "churn_probability"

# Fixed boosting rounds (no early stopping): the fit does not depend on a validation split,
# and 4000 rows train in about a second on one core.
ESTIMATOR_PARAMS: dict[str, Any] = {
    "learning_rate": 0.08,
    "max_iter": 150,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
}


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline with its metadata and reference sample, not yet saved."""

    pipeline: Pipeline
    metadata: ModelMetadata
    reference_sample: pd.DataFrame


def build_pipeline(*, seed: int) -> Pipeline:
    """Unfitted preprocessing + gradient boosting over the raw feature columns.

    Numbers are scaled but not imputed: the booster routes missing values itself.
    Missing categories become "missing"; categories never seen in training encode as all
    zeros instead of failing, so a bad batch still gets predictions to analyse.
    """
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), list(churn_data.NUMERIC_FEATURES)),
            ("categorical", categorical, list(churn_data.CATEGORICAL_FEATURES)),
        ],
        sparse_threshold=0.0,
    )
    booster = HistGradientBoostingClassifier(random_state=seed, **ESTIMATOR_PARAMS)
    return Pipeline([("preprocess", preprocess), ("classify", booster)])


def predict(pipeline: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """The predicted class and P(churn) for each row of ``features``.

    Returns a frame with ``PREDICTION_COLUMN`` and ``PROBABILITY_COLUMN``, indexed like
    ``features``.
    """
    probabilities = pipeline.predict_proba(features[list(churn_data.FEATURE_NAMES)])
    classes = list(pipeline.classes_)
    churn_probability = probabilities[:, classes.index(churn_data.POSITIVE_CLASS)]
    predicted = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
    return pd.DataFrame(
        {PREDICTION_COLUMN: predicted, PROBABILITY_COLUMN: churn_probability},
        index=features.index,
    )


def train(
    *,
    seed: int = 0,
    n_rows: int = 20000,
    scenario: churn_data.DriftScenario | str | None = None,
    strength: float = 0.0,
) -> TrainedModel:
    """Generate data, fit the pipeline, evaluate it on a held-out split (no I/O).

    ``scenario``/``strength`` train on drifted customers, as a retraining job does after
    the population moved.
    """
    if n_rows < MIN_ROWS:
        raise ValueError(f"n_rows must be at least {MIN_ROWS} to train and evaluate, got {n_rows}")
    chosen = churn_data.DriftScenario(scenario) if scenario is not None else None
    data = churn_data.generate(n_rows=n_rows, seed=seed, scenario=chosen, strength=strength)
    # The customer id is personal data, not a feature: it goes no further than here.
    data = data[[*churn_data.FEATURE_NAMES, churn_data.TARGET_COLUMN]]
    train_rows, test_rows = train_test_split(
        data,
        test_size=TEST_FRACTION,
        random_state=seed,
        stratify=data[churn_data.TARGET_COLUMN],
    )
    features = list(churn_data.FEATURE_NAMES)
    pipeline = build_pipeline(seed=seed)
    # One OpenMP thread: on a shared, busy machine the booster's spinning worker threads
    # made a one-second fit take ten; one thread trains 20000 rows in about a second.
    with threadpool_limits(limits=1, user_api="openmp"):
        pipeline.fit(train_rows[features], train_rows[churn_data.TARGET_COLUMN])
        held_out = predict(pipeline, test_rows)
    metrics = classification_metrics(
        is_positive=(test_rows[churn_data.TARGET_COLUMN] == churn_data.POSITIVE_CLASS).to_numpy(),
        probability=held_out[PROBABILITY_COLUMN].to_numpy(),
    )
    reference = _reference_sample(test_rows.join(held_out), seed=seed)
    params = {
        "seed": seed,
        "n_rows": n_rows,
        "scenario": chosen.value if chosen is not None else "none",
        "strength": strength,
        "test_fraction": TEST_FRACTION,
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "estimator": type(pipeline[-1]).__name__,
        "estimator_params": dict(ESTIMATOR_PARAMS),
    }
    metadata = _metadata(metrics=metrics, params=params, data=data, reference=reference)
    return TrainedModel(pipeline=pipeline, metadata=metadata, reference_sample=reference)


def _metadata(
    *,
    metrics: dict[str, float],
    params: dict[str, Any],
    data: pd.DataFrame,
    reference: pd.DataFrame,
) -> ModelMetadata:
    return ModelMetadata(
        kind=KIND,
        metrics=metrics,
        training_params=params,
        data_fingerprint=data_fingerprint(data),
        code_version=code_version(),
        feature_schema=churn_data.FEATURE_SCHEMA,
        reference_sample_file=REFERENCE_SAMPLE_FILE,
        extra={
            "positive_class": churn_data.POSITIVE_CLASS,
            "personal_data_fields": list(churn_data.PERSONAL_DATA_FIELDS),
            "reference_sample": {
                "rows": len(reference),
                "split": "held-out",
                "target_column": churn_data.TARGET_COLUMN,
                "prediction_column": PREDICTION_COLUMN,
                "probability_column": PROBABILITY_COLUMN,
            },
        },
    )


def _reference_sample(scored: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Up to ``REFERENCE_SAMPLE_ROWS`` held-out rows with their label and prediction.

    Held-out rather than fitted rows: predictions on rows the model was fitted on are
    over-confident, and drift analysis compares against what serving will see.
    """
    size = min(REFERENCE_SAMPLE_ROWS, len(scored))
    sample = scored.sample(n=size, random_state=seed).sort_index()
    return sample.reset_index(drop=True)


def save(
    trained: TrainedModel,
    *,
    labels: dict[str, str] | None = None,
    name: str = CLASSIC_MODEL_NAME,
) -> bentoml.Tag:
    """Write the model into the BentoML store as ``name`` (``churn-classifier`` unless
    told); returns its ``bentoml.Tag``."""
    import bentoml
    import joblib

    context = bentoml.models.ModelContext(
        framework_name="sklearn", framework_versions={"scikit-learn": _sklearn_version()}
    )
    # The bentoml.sklearn layout (module name and file name), so its loader works too;
    # models.create rather than sklearn.save_model, to add the reference sample inside.
    with bentoml.models.create(
        name,
        module="bentoml.sklearn",
        signatures=cast(Any, {name: {"batchable": False} for name in ("predict", "predict_proba")}),
        labels={**scenario_labels(trained.metadata.training_params), **(labels or {})},
        metadata=trained.metadata.to_bentoml(),
        context=context,
    ) as model:
        joblib.dump(trained.pipeline, model.path_of("saved_model.pkl"))
        trained.reference_sample.to_csv(model.path_of(REFERENCE_SAMPLE_FILE), index=False)
    return model.tag


def scenario_labels(training_params: Mapping[str, Any]) -> dict[str, str]:
    """``{"scenario": ..., "strength": ...}`` for a model trained on a drift scenario, so
    ``canaria models`` and ``bentoml models list`` show it; ``{}`` otherwise (pure)."""
    scenario = training_params.get("scenario")
    if not scenario or scenario == "none":  # "none": trained on undrifted customers
        return {}
    return {"scenario": str(scenario), "strength": f"{float(training_params['strength']):g}"}


def train_and_save(
    *,
    seed: int = 0,
    n_rows: int = 20000,
    scenario: churn_data.DriftScenario | str | None = None,
    strength: float = 0.0,
    labels: dict[str, str] | None = None,
) -> bentoml.Tag:
    """Train on ``n_rows`` generated customers and save; returns the ``bentoml.Tag``."""
    trained = train(seed=seed, n_rows=n_rows, scenario=scenario, strength=strength)
    return save(trained, labels=labels)


def load(tag: str = f"{CLASSIC_MODEL_NAME}:latest") -> tuple[Pipeline, ModelMetadata]:
    """The fitted pipeline and parsed metadata of a saved churn classifier."""
    import bentoml

    model = bentoml.models.get(tag)
    pipeline: Pipeline = bentoml.sklearn.load_model(model)
    return pipeline, ModelMetadata.from_bentoml(model.info.metadata)


def reference_sample_path(tag: str = f"{CLASSIC_MODEL_NAME}:latest") -> Path:
    """Where a saved model's reference sample (CSV) lies in the BentoML store."""
    import bentoml

    model = bentoml.models.get(tag)
    name = str(model.info.metadata.get("reference_sample_file", REFERENCE_SAMPLE_FILE))
    return Path(model.path_of(name))


def load_reference_sample(tag: str = f"{CLASSIC_MODEL_NAME}:latest") -> pd.DataFrame:
    """A saved model's reference sample: features, label, prediction and P(churn)."""
    return pd.read_csv(reference_sample_path(tag), keep_default_na=True)


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)
