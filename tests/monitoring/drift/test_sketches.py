"""The DataSketches path: mergeable, constant memory, and it agrees with the exact tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench import bench_drift
from monitoring.drift.sketches import ColumnSketches, ks_p_value, sketch_verdicts
from tests.monitoring.drift.frames import customers
from training import churn_data

NUMERIC = list(churn_data.NUMERIC_FEATURES)
CATEGORICAL = list(churn_data.CATEGORICAL_FEATURES)


def _sketched(frame: pd.DataFrame) -> ColumnSketches:
    sketches = ColumnSketches.empty(NUMERIC, CATEGORICAL)
    sketches.update(frame)
    return sketches


def test_replica_sketches_merge_into_the_whole_windows_verdicts() -> None:
    reference = _sketched(customers(2000, seed=1))
    current = customers(2000, seed=2, scenario="covariate-shift", strength=1.0)
    merged = _sketched(current.iloc[:700])
    merged.merge(_sketched(current.iloc[700:]))
    assert merged.rows == 2000
    assert sketch_verdicts(reference, merged) == sketch_verdicts(reference, _sketched(current))
    assert sketch_verdicts(reference, merged)["age"] is True
    assert not any(sketch_verdicts(reference, _sketched(customers(2000, seed=3))).values())


def test_missing_values_are_counted_not_sketched() -> None:
    frame = customers(100, seed=1)
    frame.loc[:9, "age"] = np.nan
    assert _sketched(frame).missing["age"] == 10
    assert (
        ks_p_value(_sketched(frame.iloc[:0]).numeric["age"], _sketched(frame).numeric["age"]) == 1.0
    )


def test_verdicts_agree_with_evidently_and_memory_stays_flat() -> None:
    agreement = bench_drift.sketch_agreement(runs=2, rows=800, seed=7)
    assert agreement["agreement"] >= 0.9
    memory = bench_drift.sketch_memory(rows=(1_000, 200_000))
    assert memory[-1]["numeric_bytes"] < 8_000 and memory[-1]["categorical_bytes"] < 1_000
