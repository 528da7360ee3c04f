"""Evaluate a built-in check on raw samples, the way its PromQL would (pure functions).

The scrape provider has no Prometheus: it keeps earlier scrapes and hands this module the
samples of now and of the start of the window. Counters and histograms are read as
increases over the window (a value that went down is a restarted process: its increase is
the new value, as in PromQL), gauges as their current value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from canaria.contracts.checks import Aggregation, CheckQuery, LabelMatch, MatchOp

LabelSet = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    """One exposition line: ``name{labels} value``."""

    name: str
    labels: Mapping[str, str]
    value: float

    @property
    def key(self) -> tuple[str, LabelSet]:
        return self.name, tuple(sorted(self.labels.items()))


def matches(labels: Mapping[str, str], match: LabelMatch) -> bool:
    """One PromQL label matcher; a missing label is the empty string, as in PromQL."""
    value = labels.get(match.name, "")
    if match.op is MatchOp.EQUAL:
        return value == match.value
    if match.op is MatchOp.NOT_EQUAL:
        return value != match.value
    found = re.fullmatch(match.value, value) is not None
    return found if match.op is MatchOp.REGEX else not found


def increases(
    now: Iterable[Sample], start: Iterable[Sample], name: str, matchers: Sequence[LabelMatch]
) -> list[Sample]:
    """Each matching series' increase from ``start`` to ``now``; a series absent at the
    start counts from zero."""
    earlier = {sample.key: sample.value for sample in start}
    selected = []
    for sample in now:
        if sample.name != name or not all(matches(sample.labels, m) for m in matchers):
            continue
        before = earlier.get(sample.key, 0.0)
        increase = sample.value - before if sample.value >= before else sample.value
        selected.append(Sample(sample.name, sample.labels, increase))
    return selected


def histogram_quantile(quantile: float, buckets: Mapping[float, float]) -> float | None:
    """PromQL's ``histogram_quantile`` on cumulative bucket counts by upper bound (pure).

    Linear interpolation inside the bucket that holds the rank; the ``+Inf`` bucket answers
    the largest finite bound; no observations is ``None`` (PromQL's NaN).
    """
    if quantile < 0:
        return -math.inf
    if quantile > 1:
        return math.inf
    bounds = sorted(buckets)
    if len(bounds) < 2 or not math.isinf(bounds[-1]):
        return None
    counts = [buckets[bound] for bound in bounds]
    # Summed increases can lose monotonicity to float error; PromQL evens it out too.
    for index in range(1, len(counts)):
        counts[index] = max(counts[index], counts[index - 1])
    total = counts[-1]
    if total <= 0:
        return None
    rank = quantile * total
    index = next(i for i, count in enumerate(counts) if count >= rank)
    if index == len(bounds) - 1:
        return bounds[-2]
    if index == 0 and bounds[0] <= 0:
        return bounds[0]
    lower = 0.0 if index == 0 else bounds[index - 1]
    below = 0.0 if index == 0 else counts[index - 1]
    in_bucket = counts[index] - below
    if in_bucket <= 0:
        return bounds[index]
    return lower + (bounds[index] - lower) * (rank - below) / in_bucket


def evaluate(
    query: CheckQuery,
    now: Sequence[Sample],
    start: Sequence[Sample],
    matchers: Sequence[LabelMatch],
) -> float | None:
    """``query``'s value over the window from ``start`` to ``now``; ``None`` for no data.

    ``matchers`` scope the series (the variant and the rollout's selector).
    """
    if query.aggregation is Aggregation.GAUGE_MAX:
        values = [
            sample.value
            for sample in now
            if sample.name == query.metric and all(matches(sample.labels, m) for m in matchers)
        ]
        return max(values) if values else None
    if query.aggregation is Aggregation.SHARE:
        everything = increases(now, start, query.metric, matchers)
        if not everything:
            return None
        subset = [s for s in everything if all(matches(s.labels, m) for m in query.subset)]
        return _ratio(sum(s.value for s in subset), sum(s.value for s in everything))
    if query.aggregation is Aggregation.HISTOGRAM_MEAN:
        sums = increases(now, start, f"{query.metric}_sum", matchers)
        counts = increases(now, start, f"{query.metric}_count", matchers)
        if not sums or not counts:
            return None
        return _ratio(sum(s.value for s in sums), sum(s.value for s in counts))
    buckets: dict[float, float] = {}
    for sample in increases(now, start, f"{query.metric}_bucket", matchers):
        bound = float(sample.labels.get("le", "nan"))
        if not math.isnan(bound):
            buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return histogram_quantile(query.quantile, buckets)


def _ratio(numerator: float, denominator: float) -> float | None:
    if denominator == 0:
        return None if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator
