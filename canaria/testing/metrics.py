"""A process's Prometheus ``/metrics`` text as a snapshot the tests can sum over."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

MetricSamples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Each sample's value by its name and its label set."""


def metric_samples(text: str) -> MetricSamples:
    """Every sample of a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric_value(samples: MetricSamples, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(
        value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == name and wanted <= sample_labels
    )
