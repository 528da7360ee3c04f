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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from canaria.contracts.logs import get_logger
from canaria.contracts.model_metadata import FeatureSchema, ModelMetadata
from monitoring.drift.tables import DriftInputError, read_table

_log = get_logger("drift.reference")


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


Loaded = tuple[str, Any, FeatureSchema | None]
"""(resolved tag, reference frame, feature schema) of a model."""


def load_for_follow(tag: str) -> Loaded:
    """``load_model_reference`` as ``ReferenceFollower`` takes it."""
    loaded = load_model_reference(tag)
    return loaded.tag, loaded.frame, loaded.metadata.feature_schema


class ReferenceFollower:
    """The reference one variant's window is tested against: the model that scored it.

    Sample-log records carry the ``model_tag`` that scored them. When the window's newest
    record names another model than the current reference (the stable was promoted to a
    retrained version), that model's reference sample is loaded (``load``) and only the
    records it scored are tested, so a promoted model is not compared with its
    predecessor's data for ever (and drift does not re-trigger retraining after every
    cooldown). A tag that cannot be loaded (not in the store) is tried once, then the
    current reference and all records are kept, as without a tag.
    """

    CACHED = 4
    """References kept by tag (a rolling update mixes two models' records for a while)."""

    def __init__(self, loaded: Loaded, load: Callable[[str], Loaded]) -> None:
        self.tag, self.frame, self.schema = loaded
        self._load = load
        self._unloadable: set[str] = set()
        self._cache: dict[str, Loaded] = {self.tag: loaded}

    def select(self, records: list[Any]) -> list[Any]:
        """Switch the reference if the newest record asks for it; the records to test."""
        newest = _tag_of(records[-1]) if records else None
        if newest and newest != self.tag and newest not in self._unloadable:
            try:
                found = self._cache.get(newest) or self._load(newest)
                self.tag, self.frame, self.schema = found
                self._cache = {
                    **dict(list(self._cache.items())[-(self.CACHED - 1) :]),
                    newest: found,
                }
                _log.info("drift reference follows the served model", extra={"model_tag": newest})
            except Exception as error:  # not in the store, no reference: keep the current one
                self._unloadable.add(newest)
                _log.warning("served model has no reference", extra={"error": str(error)})
        if newest != self.tag:
            return records
        return [record for record in records if _tag_of(record) in (None, self.tag)]


def _tag_of(record: Any) -> str | None:
    tag = record.get("model_tag") if isinstance(record, Mapping) else None
    return tag if isinstance(tag, str) and tag else None
