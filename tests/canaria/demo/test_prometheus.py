"""The demo's Prometheus step (canaria/demo/prometheus.py): how it prints PromQL answers."""

from __future__ import annotations

from canaria.demo.prometheus import format_vector


def test_format_vector_prints_labels_and_values() -> None:
    series = [{"metric": {"variant": "stable", "a": "1"}, "value": [0, "312"]}]
    assert format_vector(series) == '{a="1",variant="stable"} 312'
    assert format_vector([{"metric": {}, "value": [0, "0.5"]}]) == "0.5"
    assert format_vector([]) == "(empty result)"
