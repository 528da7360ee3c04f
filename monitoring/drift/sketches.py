"""Mergeable per-column sketches (Apache DataSketches), for windows too big for one process.

Each model-server replica can keep one ``ColumnSketches`` per window and ship its bytes
(``serialize``) instead of raw inputs, so no personal data leaves a pod; the monitor merges
them (``merge``) and tests the merged current side against the reference's sketches:

- numeric columns: a KLL quantile sketch (``k`` = 200, normalized rank error ~1.3 %);
  the two-sample K-S statistic is the largest gap between the two sketches' CDFs over the
  union of their quantiles at 401 ranks, and its p-value the asymptotic K-S distribution's
  (``scipy.stats.kstwo`` with the effective size n*m/(n+m)), as the exact path's test
  gives for large samples. (DataSketches' own ``ks_test`` widens the threshold by both
  sketches' rank error; on 1000-row windows it missed drifts Evidently found at p < 0.001.)
- categorical columns: a frequent-items sketch (up to 0.75 x 2^``lg_max_map_size``
  categories counted exactly; a column with more becomes approximate), then the same
  two-sample chi-square test as the exact path (``monitoring.drift.stattests``).

Memory per column does not grow with the rows: a KLL sketch with k = 200 stays within a
few kB at any n, a frequent-items sketch within its map size. Missing values are counted,
not sketched. The bench (bench/bench_drift.py) measures how often these verdicts agree
with Evidently's exact ones on the same data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import datasketches as ds
import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, kstwo

KLL_K = 200
LG_MAX_MAP_SIZE = 6


@dataclass
class ColumnSketches:
    """Sketches of the numeric and categorical columns of every row ``update`` saw."""

    numeric: dict[str, ds.kll_doubles_sketch] = field(default_factory=dict)
    categorical: dict[str, ds.frequent_strings_sketch] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    @classmethod
    def empty(cls, numeric: Iterable[str], categorical: Iterable[str]) -> ColumnSketches:
        return cls(
            numeric={name: ds.kll_doubles_sketch(KLL_K) for name in numeric},
            categorical={name: ds.frequent_strings_sketch(LG_MAX_MAP_SIZE) for name in categorical},
            missing={name: 0 for name in [*numeric, *categorical]},
        )

    def update(self, frame: pd.DataFrame) -> None:
        """Add every row of ``frame`` (which has all the sketched columns)."""
        self.rows += len(frame)
        for name, sketch in self.numeric.items():
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            self.missing[name] += len(values) - len(finite)
            if len(finite):
                sketch.update(finite)
        for name, items in self.categorical.items():
            column = frame[name]
            self.missing[name] += int(column.isna().sum())
            for value, count in column.dropna().astype(str).value_counts().items():
                items.update(str(value), int(count))

    def merge(self, other: ColumnSketches) -> None:
        """Fold ``other`` (same columns, e.g. another replica's window) into this one."""
        for name, sketch in self.numeric.items():
            sketch.merge(other.numeric[name])
        for name, items in self.categorical.items():
            items.merge(other.categorical[name])
        for name, count in other.missing.items():
            self.missing[name] += count
        self.rows += other.rows

    def serialize(self) -> dict[str, bytes]:
        """Bytes per column (what a replica ships); sizes show the memory per column."""
        data = {name: sketch.serialize() for name, sketch in self.numeric.items()}
        data.update({name: items.serialize() for name, items in self.categorical.items()})
        return data


def sketch_verdicts(
    reference: ColumnSketches, current: ColumnSketches, *, p_value: float = 0.05
) -> dict[str, bool]:
    """Per column: True when the current sketch drifted from the reference's (at ``p_value``)."""
    verdicts = {
        name: ks_p_value(sketch, current.numeric[name]) < p_value
        for name, sketch in reference.numeric.items()
    }
    for name, items in reference.categorical.items():
        verdicts[name] = _chi2_drifted(_counts(items), _counts(current.categorical[name]), p_value)
    return verdicts


def ks_p_value(first: ds.kll_doubles_sketch, second: ds.kll_doubles_sketch) -> float:
    """Two-sample K-S p-value from two KLL sketches (1.0 when either is empty)."""
    if first.is_empty() or second.is_empty():
        return 1.0
    ranks = np.linspace(0.0, 1.0, 401)
    points = np.unique(np.concatenate([first.get_quantiles(ranks), second.get_quantiles(ranks)]))
    gap = np.max(np.abs(np.asarray(first.get_cdf(points)) - np.asarray(second.get_cdf(points))))
    n, m = first.n, second.n
    return float(kstwo.sf(gap, max(1, round(n * m / (n + m)))))


def _counts(items: ds.frequent_strings_sketch) -> dict[str, int]:
    rows = items.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    return {str(item): int(estimate) for item, estimate, _low, _high in rows}


def _chi2_drifted(reference: Mapping[str, int], current: Mapping[str, int], p: float) -> bool:
    keys = sorted(set(reference) | set(current))
    table = np.array(
        [[reference.get(key, 0) for key in keys], [current.get(key, 0) for key in keys]]
    )
    if table.shape[1] < 2 or np.any(table.sum(axis=1) == 0):
        return False
    return bool(chi2_contingency(table, correction=False).pvalue < p)
