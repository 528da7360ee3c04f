"""The tests' metric reader tells a missing series from a zero one."""

from __future__ import annotations

import pytest

from canaria.testing.metrics import (
    MissingSeriesError,
    declared_value,
    metric_samples,
    metric_value,
    series_value,
)

TEXT = """# TYPE requests_total counter
requests_total{route="a",status="200"} 3
requests_total{route="a",status="500"} 0
requests_total{route="b",status="200"} 2
"""


def test_a_zero_series_reads_zero_and_sums_over_matching_labels() -> None:
    samples = metric_samples(TEXT)
    assert series_value(samples, "requests_total", status="500") == 0.0
    assert series_value(samples, "requests_total", status="200") == 5.0
    assert series_value(samples, "requests_total") == 5.0


@pytest.mark.parametrize(
    ("name", "labels"),
    [("request_total", {}), ("requests_total", {"status": "404"}), ("requests_total", {"x": "1"})],
)
def test_a_missing_series_fails_an_assertion_naming_what_exists(
    name: str, labels: dict[str, str]
) -> None:
    samples = metric_samples(TEXT)
    with pytest.raises(MissingSeriesError, match=f"no series {name}"):
        series_value(samples, name, **labels)
    assert metric_value(samples, name, **labels) == 0.0  # the lenient "before" reader


def test_declared_value_tells_an_absent_child_from_an_unknown_metric() -> None:
    text = (
        "# HELP shadow_comparisons_total Comparisons.\n"
        "# TYPE shadow_comparisons_total counter\n"
        'shadow_comparisons_total{outcome="agree"} 4.0\n'
    )
    assert declared_value(text, "shadow_comparisons_total", outcome="disagree") == 0.0
    assert declared_value(text, "shadow_comparisons_total", outcome="agree") == 4.0
    with pytest.raises(MissingSeriesError, match="renamed_total is not declared"):
        declared_value(text, "renamed_total")
