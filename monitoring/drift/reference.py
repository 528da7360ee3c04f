"""The reference side from a saved model: its reference sample and its feature schema.

Training saves up to 1000 held-out rows with their label, predicted class and P(churn)
(``reference.csv`` inside the BentoML model, named by the metadata's
``reference_sample_file``); the metadata's ``feature_schema`` holds the types, ranges and
categories the data-quality checks use.

Features the model declares as personal data (``personal_data_fields``) are not analysed
(``ModelReference.schema``): the services drop them from the sample log rather than hash
them (a hash of a low-entropy identifier is reversed by trying every value), so the
current side has no values to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from canaria.contracts.model_metadata import FeatureSchema, ModelMetadata
from monitoring.drift.tables import DriftInputError, read_table


@dataclass(frozen=True)
class ModelReference:
    """A model's reference rows, its metadata, and its tag (``name:version``)."""

    tag: str
    frame: pd.DataFrame
    metadata: ModelMetadata

    @property
    def schema(self) -> FeatureSchema | None:
        """The features drift analyses: the model's, less its personal-data fields."""
        schema = self.metadata.feature_schema
        return None if schema is None else schema.without(self.metadata.personal_data_fields)

    @property
    def context(self) -> dict[str, Any]:
        return {"model_tag": self.tag, "reference": "model reference sample"}


def load_model_reference(tag: str) -> ModelReference:
    """Read ``tag``'s reference sample from the BentoML store (BENTOML_HOME).

    Raises ``DriftInputError`` when the model is not in the store, has no feature schema
    (an LLM) or no reference sample.
    """
    import bentoml
    from bentoml.exceptions import BentoMLException

    try:
        model = bentoml.models.get(tag)
    except (BentoMLException, ValueError) as error:
        raise DriftInputError(f"model {tag}: not in the BentoML store ({error})") from error
    try:
        metadata = ModelMetadata.from_bentoml(dict(model.info.metadata))
    except (KeyError, TypeError, ValueError) as error:
        raise DriftInputError(f"model {tag}: incomplete canaria metadata ({error})") from error
    if metadata.feature_schema is None or metadata.reference_sample_file is None:
        raise DriftInputError(f"model {tag}: no feature schema or reference sample (an LLM?)")
    frame = read_table(Path(model.path_of(metadata.reference_sample_file)))
    return ModelReference(tag=str(model.tag), frame=frame, metadata=metadata)
