"""The drift benchmark's measurements, on a smaller seeded run with bounds that cannot flake.

The bench itself (40 runs of 1000 rows) asserts >= 95 % detection and <= 5 % false alarms;
here 8 seeded runs of 300 rows must detect at least 6 and raise at most 2 false alarms.
Seeded: the same draws every time, so the outcome is fixed, not a chance.
"""

from __future__ import annotations

import pytest

from bench import bench_drift


def test_a_half_sd_shift_in_5_of_20_features_is_detected_and_no_shift_rarely_alarms() -> None:
    result = bench_drift.power(runs=8, rows=300, seed=123)
    assert result["detected"] >= 6
    assert result["false_alarms"] <= 2
    assert result["mean_share"]["shifted"] > result["mean_share"]["unshifted"]


def test_the_plain_evidently_baseline_sees_the_same_shifted_columns() -> None:
    reference = bench_drift.frame(1000, seed=1)
    current = bench_drift.frame(1000, seed=2, shifted=5)
    assert bench_drift._plain_job(reference, current) == 5
    assert bench_drift._canaria_job(reference, current) == 5


@pytest.mark.slow
def test_a_job_is_measured_in_a_fresh_process() -> None:
    result = bench_drift.measure_in_fresh_process("canaria", 5000)
    assert result["drifted_columns"] == 5 and result["rows"] == 5000
    assert result["wall_s"] > 0 and result["cpu_s"] > 0 and result["peak_rss_mb"] > 0
