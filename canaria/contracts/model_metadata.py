"""The model metadata contract: the one place that says what a saved model carries.

Training writes it into the BentoML model's ``metadata`` (JSON-safe dicts only, as BentoML
requires); the classic service builds its request validation from ``feature_schema``;
drift analysis reads the reference sample named by ``reference_sample_file``.

A model declares the request fields that hold personal data in ``extra`` under
``personal_data_fields`` (``ModelMetadata.personal_data_fields``): the serving processes
redact them from every log and sample log besides the built-in list of
``canaria.contracts.logs``, and drift analysis skips them (``FeatureSchema.without``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from canaria.contracts.logs import normalise_key

SCHEMA_VERSION = 1

CLASSIC_MODEL_NAME = "churn-classifier"
LLM_MODEL_NAME = "support-lm"

# File names inside a BentoML model directory.
REFERENCE_SAMPLE_FILE = "reference.csv"
# The key of ``ModelMetadata.extra`` listing the request fields that hold personal data.
PERSONAL_DATA_KEY = "personal_data_fields"


class FeatureType(StrEnum):
    """The type of one input feature."""

    INTEGER = "integer"
    NUMBER = "number"
    CATEGORY = "category"


@dataclass(frozen=True)
class Feature:
    """One input feature: its type and what values it may take.

    ``minimum``/``maximum`` bound numeric features (inclusive); ``categories`` lists the
    allowed values of a categorical feature.
    """

    name: str
    type: FeatureType
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = self.type.value
        data["categories"] = list(self.categories)
        # BentoML metadata refuses None: an absent bound is an absent key (see from_dict).
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feature:
        return cls(
            name=data["name"],
            type=FeatureType(data["type"]),
            description=data.get("description", ""),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            categories=tuple(data.get("categories", ())),
        )


@dataclass(frozen=True)
class FeatureSchema:
    """The ordered input features of a model, plus the name of the label it predicts."""

    features: tuple[Feature, ...]
    target: str
    classes: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def without(self, names: Iterable[str]) -> FeatureSchema:
        """This schema less the features named in ``names``, compared as the log redaction
        compares them (``normalise_key``: "National_ID" is national_id) (pure)."""
        dropped = {normalise_key(name) for name in names}
        kept = tuple(f for f in self.features if normalise_key(f.name) not in dropped)
        return FeatureSchema(features=kept, target=self.target, classes=self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [feature.to_dict() for feature in self.features],
            "target": self.target,
            "classes": list(self.classes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        return cls(
            features=tuple(Feature.from_dict(item) for item in data["features"]),
            target=data["target"],
            classes=tuple(data["classes"]),
        )


@dataclass(frozen=True)
class ModelMetadata:
    """Everything a saved model carries besides its weights.

    ``metrics`` are held-out evaluation results (accuracy, f1, roc_auc, log_loss,
    brier/calibration for the classifier; perplexity for the LLM). ``feature_schema`` is
    ``None`` for the LLM.
    """

    kind: str  # "classic" or "llm"
    metrics: dict[str, float]
    training_params: dict[str, Any]
    data_fingerprint: str
    code_version: str
    feature_schema: FeatureSchema | None = None
    reference_sample_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def personal_data_fields(self) -> tuple[str, ...]:
        """The request fields this model declares as personal data (``extra``'s
        ``personal_data_fields``; none when absent). ``ValueError`` when the entry is not
        a list of non-empty strings: a model whose list cannot be read is not served."""
        return personal_data_fields(self.extra)

    def to_bentoml(self) -> dict[str, Any]:
        """The JSON-safe dict stored as the BentoML model's ``metadata``."""
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "metrics": dict(self.metrics),
            "training_params": dict(self.training_params),
            "data_fingerprint": self.data_fingerprint,
            "code_version": self.code_version,
            "extra": dict(self.extra),
        }
        if self.feature_schema is not None:
            data["feature_schema"] = self.feature_schema.to_dict()
        if self.reference_sample_file is not None:
            data["reference_sample_file"] = self.reference_sample_file
        return data

    @classmethod
    def from_bentoml(cls, data: dict[str, Any]) -> ModelMetadata:
        """Parse a BentoML model's ``metadata``; raises ``KeyError`` if it is incomplete,
        ``ValueError`` if its ``personal_data_fields`` is not a list of names."""
        schema = data.get("feature_schema")
        personal_data_fields(data.get("extra", {}))
        return cls(
            kind=data["kind"],
            metrics={key: float(value) for key, value in data["metrics"].items()},
            training_params=dict(data["training_params"]),
            data_fingerprint=data["data_fingerprint"],
            code_version=data["code_version"],
            feature_schema=FeatureSchema.from_dict(schema) if schema else None,
            reference_sample_file=data.get("reference_sample_file"),
            extra=dict(data.get("extra", {})),
            schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        )


def personal_data_fields(extra: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``personal_data_fields`` list of a model's ``extra`` metadata (pure); ``()`` when
    absent, ``ValueError`` naming the entry when it is not a list of non-empty strings."""
    declared = extra.get(PERSONAL_DATA_KEY, [])
    if not isinstance(declared, list | tuple) or not all(
        isinstance(name, str) and name.strip() for name in declared
    ):
        raise ValueError(
            f"model metadata extra.{PERSONAL_DATA_KEY} must be a list of field names, "
            f"got {declared!r}"
        )
    return tuple(declared)
