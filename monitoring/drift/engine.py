"""Run the drift tests with Evidently 0.7 (``Report``, ``Dataset``, ``DataDefinition``).

Everything Evidently-specific lives here: the rest of monitoring/drift only prepares frames
and reads plain results. One ``ValueDrift`` metric per column with its method and threshold
set explicitly; the verdict per column is Evidently's own (the metric's test fails when the
column drifted), the score its p-value or distance.

Rendering the report's plots takes most of a ``Report.run`` (about 0.3 s per column), so
when no HTML is wanted (the monitor, the canary check, ``canaria drift`` without
``--report``) the same Evidently stattests are called directly on the same cleaned columns
(infinities dropped like missing values, as ``ValueDrift`` does); tests check that both
paths give the same scores and verdicts. A column with no values on one side is not
tested and counts as drifted (score ``None``, method ``all-missing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from canaria.contracts.model_metadata import FeatureSchema
from monitoring.drift import stattests  # noqa: F401  (registers chi2_2sample in Evidently)
from monitoring.drift.config import DriftConfig
from monitoring.drift.quality import (
    PlannedColumn,
    data_quality,
    infer_schema,
    plan_columns,
    prepared,
)
from monitoring.drift.summary import ColumnDrift, DriftSummary, summarize


@dataclass
class DriftResult:
    """A summary plus, when tests ran, the Evidently snapshot behind it (for the HTML)."""

    summary: DriftSummary
    snapshot: Any | None = None

    def save_html(self, path: Path) -> None:
        """Write Evidently's HTML report; a no-data window gets a one-paragraph page."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.snapshot is None:
            path.write_text(
                "<!doctype html><title>canaria drift</title>"
                f"<p>No drift tests ran: {self.summary.current_rows} current rows, at least "
                f"{self.summary.config.min_rows} needed.</p>\n",
                encoding="utf-8",
            )
            return
        self.snapshot.save_html(str(path))


def analyse(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    config: DriftConfig,
    schema: FeatureSchema | None = None,
    context: dict[str, Any] | None = None,
    report: bool = True,
    predictions_in_share: bool = False,
) -> DriftResult:
    """Compare ``current`` with ``reference`` column by column.

    ``schema`` (the model's) decides the columns, their types and the data-quality bounds;
    without it one is inferred from the reference. Raises ``DriftInputError`` for columns
    that do not match. A current side shorter than ``config.min_rows`` is ``no_data``.
    ``report=False`` skips Evidently's ``Report`` (no HTML) and runs its stattests directly.
    ``predictions_in_share`` counts prediction columns in the drifted share.
    """
    schema = schema or infer_schema(reference)
    columns = plan_columns(reference, current, schema)
    quality = data_quality(current, schema)
    if len(current) < config.min_rows:
        summary = summarize(
            [],
            quality=quality,
            config=config,
            reference_rows=len(reference),
            current_rows=len(current),
            tested_rows={"reference": 0, "current": 0},
            context=context,
        )
        return DriftResult(summary)
    ref = prepared(_sample(reference, config), columns)
    cur = prepared(_sample(current, config), columns)
    testable = [column for column in columns if _has_values(ref, cur, column.name)]
    if report:
        results, snapshot = run_value_drift(ref, cur, testable, config)
    else:
        results, snapshot = run_stattests(ref, cur, testable, config), None
    untested = [_all_missing(column) for column in columns if column not in testable]
    results = _in_plan_order(columns, [*results, *untested])
    summary = summarize(
        results,
        quality=quality,
        config=config,
        reference_rows=len(reference),
        current_rows=len(current),
        tested_rows={"reference": len(ref), "current": len(cur)},
        context=context,
        predictions_in_share=predictions_in_share,
    )
    return DriftResult(summary, snapshot)


def _has_values(reference: pd.DataFrame, current: pd.DataFrame, name: str) -> bool:
    return all(_finite(frame[name]).size > 0 for frame in (reference, current))


def _finite(values: pd.Series) -> pd.Series:
    return values.replace([np.inf, -np.inf], np.nan).dropna()


def _all_missing(column: PlannedColumn) -> ColumnDrift:
    return ColumnDrift(
        column=column.name,
        role=column.role,
        column_type=_type_name(column),
        method="all-missing",
        threshold=0.0,
        score=None,
        drifted=True,
    )


def _type_name(column: PlannedColumn) -> str:
    return "categorical" if column.categorical else "numeric"


def _in_plan_order(columns: list[PlannedColumn], results: list[ColumnDrift]) -> list[ColumnDrift]:
    by_name = {result.column: result for result in results}
    return [by_name[column.name] for column in columns]


def run_stattests(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[PlannedColumn],
    config: DriftConfig,
) -> list[ColumnDrift]:
    """Evidently's registered stattest per column, without a ``Report`` (no rendering)."""
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    results = []
    for column in columns:
        test = config.test_for(column.name, categorical=column.categorical)
        kind = ColumnType.Categorical if column.categorical else ColumnType.Numerical
        stattest = get_registered_stattest(test.method, kind)
        outcome = stattest(
            _finite(reference[column.name]), _finite(current[column.name]), kind, test.threshold
        )
        results.append(
            ColumnDrift(
                column=column.name,
                role=column.role,
                column_type=_type_name(column),
                method=test.method,
                threshold=test.threshold,
                score=float(outcome.drift_score),
                drifted=bool(outcome.drifted),
            )
        )
    return results


def _sample(frame: pd.DataFrame, config: DriftConfig) -> pd.DataFrame:
    if len(frame) <= config.max_rows:
        return frame
    return frame.sample(n=config.max_rows, random_state=config.seed)


def run_value_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[PlannedColumn],
    config: DriftConfig,
) -> tuple[list[ColumnDrift], Any]:
    """One Evidently ``ValueDrift`` per column; returns the results and the snapshot."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    definition = DataDefinition(
        numerical_columns=[column.name for column in columns if not column.categorical],
        categorical_columns=[column.name for column in columns if column.categorical],
    )
    tests = {
        column.name: config.test_for(column.name, categorical=column.categorical)
        for column in columns
    }
    metrics = [
        ValueDrift(column=name, method=test.method, threshold=test.threshold)
        for name, test in tests.items()
    ]
    report = Report(metrics, include_tests=True)
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    scores, verdicts = parse_snapshot(snapshot.dict())
    results = [
        ColumnDrift(
            column=column.name,
            role=column.role,
            column_type=_type_name(column),
            method=tests[column.name].method,
            threshold=tests[column.name].threshold,
            score=scores[column.name],
            drifted=verdicts[column.name],
        )
        for column in columns
    ]
    return results, snapshot


def parse_snapshot(data: dict[str, Any]) -> tuple[dict[str, float], dict[str, bool]]:
    """Per-column scores and verdicts from ``Snapshot.dict()`` (pure).

    Metrics carry ``config.column`` and ``value``; tests carry ``metric_config.metric_id``
    and ``status`` (``FAIL`` when the column drifted).
    """
    column_of = {}
    scores = {}
    for metric in data.get("metrics", []):
        column = metric["config"]["column"]
        column_of[metric["id"]] = column
        scores[column] = float(metric["value"])
    verdicts = {}
    for test in data.get("tests", []):
        column = column_of.get(test.get("metric_config", {}).get("metric_id"))
        if column is not None:
            verdicts[column] = test.get("status") == "FAIL"
    missing = sorted(set(scores) - set(verdicts))
    if missing:
        raise RuntimeError(f"Evidently returned no verdict for {missing}")
    return scores, verdicts
