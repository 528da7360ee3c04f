"""The model metadata contract: declared personal-data fields and the schema without them."""

from __future__ import annotations

from typing import Any

import pytest

from canaria.contracts.model_metadata import (
    PERSONAL_DATA_KEY,
    Feature,
    FeatureSchema,
    FeatureType,
    ModelMetadata,
    personal_data_fields,
)

SCHEMA = FeatureSchema(
    features=(
        Feature("age", FeatureType.INTEGER),
        Feature("National_ID", FeatureType.CATEGORY),
        Feature("plan", FeatureType.CATEGORY, categories=("a", "b")),
    ),
    target="churned",
    classes=("no", "yes"),
)


def _metadata(extra: dict[str, Any]) -> dict[str, Any]:
    return ModelMetadata(
        kind="classic",
        metrics={},
        training_params={},
        data_fingerprint="sha256:x",
        code_version="test",
        feature_schema=SCHEMA,
        extra=extra,
    ).to_bentoml()


def test_declared_fields_round_trip_through_the_bentoml_metadata() -> None:
    stored = _metadata({PERSONAL_DATA_KEY: ["customer_id", "national_id"]})
    assert ModelMetadata.from_bentoml(stored).personal_data_fields == (
        "customer_id",
        "national_id",
    )
    assert ModelMetadata.from_bentoml(_metadata({})).personal_data_fields == ()


@pytest.mark.parametrize("declared", ["national_id", [""], ["ok", 3], {"national_id": 1}])
def test_a_list_that_is_not_names_is_refused_naming_the_entry(declared: object) -> None:
    with pytest.raises(ValueError, match=f"extra.{PERSONAL_DATA_KEY} must be a list"):
        personal_data_fields({PERSONAL_DATA_KEY: declared})
    with pytest.raises(ValueError, match=PERSONAL_DATA_KEY):
        ModelMetadata.from_bentoml(_metadata({PERSONAL_DATA_KEY: declared}))


def test_schema_without_drops_names_as_the_redaction_compares_them() -> None:
    assert SCHEMA.without(["national id"]).names == ["age", "plan"]
    assert SCHEMA.without(["NATIONAL-ID", "plan"]).names == ["age"]
    assert SCHEMA.without([]) == SCHEMA
    assert SCHEMA.without(["age"]).target == "churned"
