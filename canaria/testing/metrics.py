"""A process's Prometheus ``/metrics`` text as a snapshot the tests can sum over.

Two readers: ``series_value`` for assertions, which fails when no series matches (a renamed
metric or label must not read as 0), and ``metric_value``, which reads a missing series as
0 and is only for the "before" side of a delta, when the series may not exist yet.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

MetricSamples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Each sample's value by its name and its label set."""


class MissingSeriesError(AssertionError):
    """No sample has the name and labels an assertion asked for."""


def metric_samples(text: str) -> MetricSamples:
    """Every sample of a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _matching(samples: MetricSamples, name: str, labels: dict[str, str]) -> list[float]:
    wanted = set(labels.items())
    return [
        value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == name and wanted <= sample_labels
    ]


def series_value(samples: MetricSamples, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``; raises
    ``MissingSeriesError`` (naming the series of that name that do exist) when none does."""
    values = _matching(samples, name, labels)
    if not values:
        present = sorted(
            str(dict(sorted(sample_labels)))
            for sample_name, sample_labels in samples
            if sample_name == name
        )
        raise MissingSeriesError(
            f"no series {name}{labels}; series called {name}: {present or 'none'}"
        )
    return sum(values)


def metric_value(samples: MetricSamples, name: str, **labels: str) -> float:
    """Like ``series_value``, but 0.0 when no series matches: for a delta's "before"."""
    return sum(_matching(samples, name, labels))


SAMPLE_SUFFIXES = ("", "_total", "_count", "_sum", "_bucket", "_created")


def declared_value(text: str, name: str, **labels: str) -> float:
    """Like ``metric_value`` (0.0 when no series matches), but raises
    ``MissingSeriesError`` unless ``text`` declares the metric (a ``# TYPE`` line of its
    family): a labelled counter with no child yet is declared, a renamed one is not. For
    asserting a 0 that may have no series, e.g. ``outcome="disagree"`` when all agree."""
    families = {
        line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ") and line[7:]
    }
    if not any(name.removesuffix(suffix) in families for suffix in SAMPLE_SUFFIXES):
        raise MissingSeriesError(f"{name} is not declared; declared: {sorted(families)}")
    return metric_value(metric_samples(text), name, **labels)
