"""Drift analysis with Evidently on generated customers: verdicts, no-data, both paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitoring.drift.config import parse_config
from monitoring.drift.engine import analyse, parse_snapshot
from monitoring.drift.summary import DriftStatus, one_line
from tests.monitoring.drift.frames import customers
from training import churn_data

SCHEMA = churn_data.FEATURE_SCHEMA
CONFIG = parse_config({"min_rows": 50})


def test_covariate_shift_drifts_and_the_same_population_does_not() -> None:
    reference = customers(1000, seed=1)
    shifted = analyse(
        reference, customers(1000, seed=2, scenario="covariate-shift", strength=1.0),
        config=CONFIG, schema=SCHEMA, report=False,
    ).summary  # fmt: skip
    same = analyse(reference, customers(1000, seed=2), config=CONFIG, schema=SCHEMA, report=False)
    assert shifted.status is DriftStatus.DRIFT and shifted.drift_share is not None
    assert shifted.drift_share >= 0.5 and "age" in shifted.drifted_columns
    assert same.summary.status is DriftStatus.NO_DRIFT
    assert {c.method for c in same.summary.columns} == {"ks", "chi2_2sample"}
    assert one_line(shifted).startswith("drift: ")


def test_too_few_rows_is_no_data_not_no_drift() -> None:
    result = analyse(customers(1000, seed=1), customers(49, seed=2), config=CONFIG, schema=SCHEMA)
    assert result.summary.status is DriftStatus.NO_DATA
    assert result.summary.drift_share is None and result.snapshot is None
    assert one_line(result.summary).startswith("no data: 49 current rows")


def test_report_and_direct_stattests_agree_and_the_outputs_are_written(tmp_path: Path) -> None:
    reference = customers(600, seed=1).assign(prediction="stay")
    current = customers(600, seed=4, scenario="covariate-shift", strength=0.3)
    current = current.assign(prediction=np.where(current["age"] < 35, "churn", "stay"))
    current["support_calls"] = np.nan  # a column with no values is not tested: drifted
    with_report = analyse(reference, current, config=CONFIG, schema=SCHEMA, report=True)
    direct = analyse(reference, current, config=CONFIG, schema=SCHEMA, report=False)
    assert with_report.summary.to_dict() == direct.summary.to_dict()
    calls = next(c for c in direct.summary.columns if c.column == "support_calls")
    assert calls.method == "all-missing" and calls.drifted and calls.score is None
    assert direct.summary.prediction_drift is True
    with_report.save_html(tmp_path / "report.html")
    assert (
        "ValueDrift" in (tmp_path / "report.html").read_text()
        or (tmp_path / "report.html").stat().st_size > 10_000
    )
    json.dumps(direct.summary.to_dict(), allow_nan=False)


def test_sampling_caps_tested_rows_but_quality_counts_every_row() -> None:
    config = parse_config({"max_rows": 300, "min_rows": 50})
    current = customers(900, seed=3, scenario="bad-batch", strength=1.0)
    summary = analyse(
        customers(900, seed=1), current, config=config, schema=SCHEMA, report=False
    ).summary
    assert summary.tested_rows == {"reference": 300, "current": 300}
    assert summary.current_rows == 900
    missing = sum(item.missing for item in summary.quality.values())
    assert missing == int(current[list(SCHEMA.names)].isna().sum().sum())


def test_parse_snapshot_refuses_a_metric_without_verdict() -> None:
    data = {"metrics": [{"id": "m", "config": {"column": "a"}, "value": 0.5}], "tests": []}
    with pytest.raises(RuntimeError, match="no verdict"):
        parse_snapshot(data)
