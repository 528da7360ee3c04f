"""A classifier whose metadata declares a personal-data feature, ``national_id``.

The churn pipeline ignores columns it was not fitted on, so the model scores like the
churn classifier while its schema makes every request carry a ``national_id`` (a free
string) and its metadata lists it in ``personal_data_fields``. It is saved under its own
name, so ``churn-classifier:latest`` stays the session's plain model.
"""

from __future__ import annotations

import dataclasses

from canaria.contracts.model_metadata import (
    PERSONAL_DATA_KEY,
    Feature,
    FeatureSchema,
    FeatureType,
)
from training import churn_data, classic

MODEL_NAME = "churn-with-national-id"
NATIONAL_ID = "national_id"
# A value that must never appear in a log line; distinctive enough to grep for.
SECRET_ID = "NID-731-40-2288"


def save_national_id_model() -> str:
    """Train a small churn pipeline, declare ``national_id`` a personal-data feature, save
    it as ``MODEL_NAME`` with a reference sample holding national ids; returns its tag."""
    trained = classic.train(seed=11, n_rows=1000)
    schema = churn_data.FEATURE_SCHEMA
    with_id = FeatureSchema(
        features=(*schema.features, Feature(NATIONAL_ID, FeatureType.CATEGORY, "a person's id")),
        target=schema.target,
        classes=schema.classes,
    )
    extra = {**trained.metadata.extra, PERSONAL_DATA_KEY: ["customer_id", NATIONAL_ID]}
    metadata = dataclasses.replace(trained.metadata, feature_schema=with_id, extra=extra)
    reference = trained.reference_sample.assign(
        **{NATIONAL_ID: [f"NID-{row:09d}" for row in range(len(trained.reference_sample))]}
    )
    declared = dataclasses.replace(trained, metadata=metadata, reference_sample=reference)
    return str(classic.save(declared, name=MODEL_NAME))
