"""Drift as a canary check: a canary's window against the stable's over the same span."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitoring.drift.canary import compare_variants
from monitoring.drift.config import parse_config
from monitoring.drift.monitor import DriftMonitor
from monitoring.drift.summary import DriftStatus
from tests.monitoring.drift.frames import customers
from tests.monitoring.drift.logs import write_sample_log
from training import churn_data

CONFIG = parse_config({"min_rows": 50})


def _records(tmp_path: Path, name: str, **options: Any) -> list[dict[str, Any]]:
    seed = options.pop("seed")
    path = write_sample_log(tmp_path / f"{name}.jsonl", customers(400, seed=seed), **options)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_same_inputs_but_moved_predictions_fail_the_canary(tmp_path: Path) -> None:
    stable = _records(tmp_path, "stable", seed=1, predicted="stay", churn_probability=0.2)
    canary = _records(tmp_path, "canary", seed=2, predicted="churn", churn_probability=0.7)
    result = compare_variants(
        canary, stable, variant="canary", baseline_variant="stable",
        schema=churn_data.FEATURE_SCHEMA, config=CONFIG, now=0.0,
    )  # fmt: skip
    summary = result.summary
    assert summary is not None and result.baseline == "stable"
    assert not [c for c in summary.columns if c.role == "feature" and c.drifted]
    assert summary.prediction_drift is True
    assert summary.status is DriftStatus.DRIFT  # predictions count in the share here


def test_a_canary_like_the_stable_passes_and_short_windows_are_no_data(tmp_path: Path) -> None:
    stable = _records(tmp_path, "stable", seed=1)
    canary = _records(tmp_path, "canary", seed=2)
    kwargs: dict[str, Any] = {
        "variant": "canary", "baseline_variant": "stable",
        "schema": churn_data.FEATURE_SCHEMA, "config": CONFIG, "now": 0.0,
    }  # fmt: skip
    same = compare_variants(canary, stable, **kwargs).summary
    assert same is not None and same.status is DriftStatus.NO_DRIFT
    assert compare_variants(canary, stable[:10], **kwargs).summary is None


def test_compare_must_name_logged_variants(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without a --log"):
        DriftMonitor(
            model="m", reference=None, schema=None, config=CONFIG,
            logs={"stable": tmp_path / "s.jsonl"}, window_seconds=60,
            compare={"canary": "stable"},
        )  # fmt: skip


def test_a_window_that_cannot_be_analysed_is_no_data_and_the_monitor_goes_on(
    tmp_path: Path,
) -> None:
    good = write_sample_log(tmp_path / "stable.jsonl", customers(100, seed=1))
    broken = customers(100, seed=2).assign(age="old")  # a numeric feature holding text
    bad = write_sample_log(tmp_path / "canary.jsonl", broken)
    monitor = DriftMonitor(
        model="churn-classifier",
        reference=customers(500, seed=3),
        schema=churn_data.FEATURE_SCHEMA,
        config=CONFIG,
        logs={"stable": good, "canary": bad},
        window_seconds=3600,
    )
    results = monitor.evaluate()
    assert results[("stable", "reference")].summary is not None
    canary = results[("canary", "reference")]
    assert canary.summary is None and canary.rows == 100
    assert canary.error is not None and "age" in canary.error
