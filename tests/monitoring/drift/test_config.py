"""Drift settings: defaults, overrides, and refusals that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.drift.config import (
    CATEGORICAL_TESTS,
    NUMERIC_TESTS,
    ColumnTest,
    DriftConfigError,
    parse_config,
)


def test_defaults_name_the_test_per_column_type() -> None:
    config = parse_config(None)
    assert config.test_for("age", categorical=False) == ColumnTest("ks", 0.05)
    assert config.test_for("region", categorical=True) == ColumnTest("chi2_2sample", 0.05)
    assert config.drift_share == 0.2


def test_overrides_per_type_and_per_column() -> None:
    config = parse_config(
        {
            "numeric": {"method": "wasserstein", "threshold": 0.1},
            "per_column": {"age": {"method": "psi", "threshold": 0.2}},
            "drift_share": 0.5,
            "min_rows": 10,
            "max_rows": 500,
        }
    )
    assert config.test_for("tenure_months", categorical=False) == ColumnTest("wasserstein", 0.1)
    assert config.test_for("age", categorical=False) == ColumnTest("psi", 0.2)
    assert config.to_dict()["per_column"] == {"age": {"method": "psi", "threshold": 0.2}}


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"numeric": {"method": "chisquare"}}, "numeric.method"),
        ({"categorical": {"method": "nope"}}, "categorical.method"),
        ({"numeric": {"method": "ks", "threshold": -1}}, "numeric.threshold"),
        ({"numeric": {"method": "ks", "extra": 1}}, "numeric: unknown key"),
        ({"drift_share": 0}, "drift_share"),
        ({"drift_share": "half"}, "drift_share"),
        ({"min_rows": 0}, "min_rows"),
        ({"min_rows": 100, "max_rows": 50}, "max_rows"),
        ({"windows": 3}, "unknown drift setting"),
        ({"per_column": ["age"]}, "per_column"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(data: dict[str, Any], named: str) -> None:
    with pytest.raises(DriftConfigError, match=named):
        parse_config(data)


def test_every_allowed_test_is_registered_in_evidently_for_its_type() -> None:
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    import monitoring.drift.stattests  # noqa: F401  (registers chi2_2sample)

    for name in NUMERIC_TESTS:
        assert get_registered_stattest(name, ColumnType.Numerical).name == name
    for name in CATEGORICAL_TESTS:
        assert get_registered_stattest(name, ColumnType.Categorical).name == name
