"""What a drift analysis tests, and how strictly: one validated, immutable config (pure;
``load_config`` reads it from a YAML/JSON file).

Evidently picks a statistical test by column type *and row count* when none is given (K-S
below 1000 rows, Wasserstein above), so the same drift can flip verdicts as a window grows.
canaria always names the test per column type (and optionally per column) so a verdict
means the same thing at every window size:

- numeric columns: ``ks`` (two-sample Kolmogorov-Smirnov; score = p-value, drift when
  p < threshold, default 0.05);
- categorical columns (and the predicted class): ``chi2_2sample`` (the two-sample
  chi-square test on the 2 x k table of counts, registered in Evidently by
  monitoring/drift/stattests.py; Evidently's ``chisquare`` takes the reference shares as
  exact and raises far more false alarms than its threshold says).

Each side is sampled down to ``max_rows`` rows (seeded) before the tests run, which bounds
time and memory and keeps p-value tests from flagging negligible shifts on millions of rows;
data-quality counts always use every row. The dataset drifts when the share of drifted
feature columns is at least ``drift_share`` (default 0.2: with 20 independent columns at
p < 0.05 an unshifted window reaches it with probability ~1.6 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

# Statistical tests Evidently 0.7 registers per column type (checked against Evidently's
# registry by tests/monitoring/drift/test_engine.py). Whether a score means drift is
# Evidently's call (a p-value below the threshold, or a distance at or above it).
NUMERIC_TESTS = frozenset(
    {
        "ks", "wasserstein", "psi", "kl_div", "jensenshannon", "hellinger", "mannw",
        "anderson", "cramer_von_mises", "t_test", "ed", "es", "empirical_mmd",
    }
)  # fmt: skip
CATEGORICAL_TESTS = frozenset(
    {"chi2_2sample", "chisquare", "z", "psi", "kl_div", "jensenshannon", "hellinger",
     "fisher_exact", "g_test", "TVD"}
)  # fmt: skip

DEFAULT_NUMERIC_TEST = "ks"
DEFAULT_CATEGORICAL_TEST = "chi2_2sample"  # monitoring/drift/stattests.py
DEFAULT_THRESHOLD = 0.05
DEFAULT_DRIFT_SHARE = 0.2
DEFAULT_MIN_ROWS = 100
DEFAULT_MAX_ROWS = 20_000


class DriftConfigError(ValueError):
    """A drift setting is invalid; the message names the field and the allowed values."""


@dataclass(frozen=True)
class ColumnTest:
    """The test one column gets: an Evidently stattest name and its threshold."""

    method: str
    threshold: float


@dataclass(frozen=True)
class DriftConfig:
    """Tests per column type, per-column overrides, and the dataset-level rule.

    ``min_rows``: a current window with fewer rows is "no data", never "no drift".
    ``max_rows``: each side is sampled to at most this many rows (seed ``seed``).
    """

    numeric: ColumnTest = ColumnTest(DEFAULT_NUMERIC_TEST, DEFAULT_THRESHOLD)
    categorical: ColumnTest = ColumnTest(DEFAULT_CATEGORICAL_TEST, DEFAULT_THRESHOLD)
    per_column: Mapping[str, ColumnTest] = field(default_factory=lambda: MappingProxyType({}))
    drift_share: float = DEFAULT_DRIFT_SHARE
    min_rows: int = DEFAULT_MIN_ROWS
    max_rows: int = DEFAULT_MAX_ROWS
    seed: int = 0

    def test_for(self, column: str, *, categorical: bool) -> ColumnTest:
        """The test for ``column``: its override, else its type's default."""
        override = self.per_column.get(column)
        if override is not None:
            return override
        return self.categorical if categorical else self.numeric

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": _test_dict(self.numeric),
            "categorical": _test_dict(self.categorical),
            "per_column": {name: _test_dict(test) for name, test in self.per_column.items()},
            "drift_share": self.drift_share,
            "min_rows": self.min_rows,
            "max_rows": self.max_rows,
            "seed": self.seed,
        }


def _test_dict(test: ColumnTest) -> dict[str, Any]:
    return {"method": test.method, "threshold": test.threshold}


def parse_config(data: Mapping[str, Any] | None) -> DriftConfig:
    """A ``DriftConfig`` from a plain mapping (a YAML/JSON document); raises ``DriftConfigError``.

    Keys: ``numeric``/``categorical`` ({method, threshold}), ``per_column`` ({column:
    {method, threshold}}), ``drift_share`` (0-1], ``min_rows`` >= 1, ``max_rows`` >= min_rows,
    ``seed``. Unknown keys are refused, not ignored.
    """
    data = dict(data or {})
    known = {"numeric", "categorical", "per_column", "drift_share", "min_rows", "max_rows", "seed"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DriftConfigError(f"unknown drift setting(s) {unknown}; allowed: {sorted(known)}")
    numeric = _parse_test(data.get("numeric"), "numeric", NUMERIC_TESTS, DEFAULT_NUMERIC_TEST)
    categorical = _parse_test(
        data.get("categorical"), "categorical", CATEGORICAL_TESTS, DEFAULT_CATEGORICAL_TEST
    )
    per_column_raw = data.get("per_column") or {}
    if not isinstance(per_column_raw, Mapping):
        raise DriftConfigError("per_column must map column names to {method, threshold}")
    allowed = NUMERIC_TESTS | CATEGORICAL_TESTS
    per_column = {
        str(name): _parse_test(value, f"per_column.{name}", allowed, None)
        for name, value in per_column_raw.items()
    }
    drift_share = _number(data.get("drift_share", DEFAULT_DRIFT_SHARE), "drift_share")
    if not 0.0 < drift_share <= 1.0:
        raise DriftConfigError(f"drift_share must be in (0, 1], got {drift_share}")
    min_rows = _integer(data.get("min_rows", DEFAULT_MIN_ROWS), "min_rows", minimum=1)
    max_rows = _integer(data.get("max_rows", DEFAULT_MAX_ROWS), "max_rows", minimum=min_rows)
    return DriftConfig(
        numeric=numeric,
        categorical=categorical,
        per_column=MappingProxyType(per_column),
        drift_share=drift_share,
        min_rows=min_rows,
        max_rows=max_rows,
        seed=_integer(data.get("seed", 0), "seed", minimum=0),
    )


def _parse_test(
    value: Any, where: str, allowed: frozenset[str], default_method: str | None
) -> ColumnTest:
    if value is None and default_method is not None:
        return ColumnTest(default_method, DEFAULT_THRESHOLD)
    if not isinstance(value, Mapping):
        raise DriftConfigError(f"{where} must be a mapping with 'method' and 'threshold'")
    unknown = sorted(set(value) - {"method", "threshold"})
    if unknown:
        raise DriftConfigError(f"{where}: unknown key(s) {unknown}; allowed: method, threshold")
    method = value.get("method", default_method)
    if method not in allowed:
        raise DriftConfigError(f"{where}.method {method!r} is not one of {sorted(allowed)}")
    threshold = _number(value.get("threshold", DEFAULT_THRESHOLD), f"{where}.threshold")
    if threshold <= 0.0:
        raise DriftConfigError(f"{where}.threshold must be positive, got {threshold}")
    return ColumnTest(str(method), threshold)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DriftConfigError(f"{where} must be a number, got {value!r}")
    return float(value)


def _integer(value: Any, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DriftConfigError(f"{where} must be an integer >= {minimum}, got {value!r}")
    return value


def load_config(path: Path | None) -> DriftConfig:
    """The ``DriftConfig`` in ``path`` (YAML or JSON), or the defaults; errors name the file."""
    import yaml

    from monitoring.drift.tables import DriftInputError

    if path is None:
        return parse_config(None)
    if not path.is_file():
        raise DriftInputError(f"{path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DriftInputError(f"{path}: not valid YAML/JSON ({error})") from error
    if data is not None and not isinstance(data, dict):
        raise DriftInputError(f"{path}: drift settings must be a mapping")
    try:
        return parse_config(data)
    except DriftConfigError as error:
        raise DriftConfigError(f"{path}: {error}") from error
