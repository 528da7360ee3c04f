"""The rolling window over a growing sample log, and the gauges built from results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canaria.contracts.metrics import DRIFT_COLUMN_SCORE, DRIFT_LAST_RUN, DRIFT_SHARE
from monitoring.drift.config import parse_config
from monitoring.drift.exporter import VariantResult, gauge_samples
from monitoring.drift.monitor import parse_logs
from monitoring.drift.summary import ColumnDrift, summarize
from monitoring.drift.window import LogWindow, parse_ts


def _line(ts: str, **fields: object) -> str:
    return json.dumps({"ts": ts, "features": {"a": 1, **fields}}) + "\n"


def test_the_window_reads_increments_waits_for_whole_lines_and_forgets_old_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    window = LogWindow(path, window_seconds=60)
    assert window.poll(0.0) == []  # no file yet: an empty window
    t0 = parse_ts("2026-01-01T00:00:00.000Z")
    assert t0 is not None
    path.write_text(_line("2026-01-01T00:00:00.000Z") + _line("2026-01-01T00:00:30.000Z"))
    assert len(window.poll(t0 + 30)) == 2
    with path.open("a") as handle:
        handle.write("not json\n" + _line("2026-01-01T00:01:10.000Z") + '{"ts": "2026-01')
    assert len(window.poll(t0 + 70)) == 2  # the first fell out; the partial line waits
    assert window.skipped == 1
    with path.open("a") as handle:
        handle.write('-01T00:01:20.000Z", "features": {}}\n')
    assert len(window.poll(t0 + 80)) == 3
    path.write_text(_line("2026-01-01T00:01:25.000Z"))  # rotated: shorter than the offset
    assert len(window.poll(t0 + 90)) == 1


def test_out_of_order_lines_are_kept_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(_line("2026-01-01T00:00:50.000Z", b=1) + _line("2026-01-01T00:00:10.000Z"))
    window = LogWindow(path, window_seconds=30)
    t0 = parse_ts("2026-01-01T00:00:00.000Z") or 0.0
    records = window.poll(t0 + 60)
    assert [record["features"] for record in records] == [{"a": 1, "b": 1}]


def _summary(rows: int) -> VariantResult:
    config = parse_config({"min_rows": 10})
    columns = [ColumnDrift("a", "feature", "numeric", "ks", 0.05, 0.01, True)]
    summary = summarize(
        columns if rows >= 10 else [], quality={}, config=config, reference_rows=100,
        current_rows=rows, tested_rows={},
    )  # fmt: skip
    return VariantResult("canary", 1000.0, rows, summary)


def test_no_data_exports_rows_and_last_run_but_no_share_or_scores() -> None:
    empty = gauge_samples("m", {("canary", "reference"): _summary(3)})
    assert {name for name, _, _ in empty} == {"canaria_drift_window_rows", DRIFT_LAST_RUN}
    full = gauge_samples("m", {("canary", "reference"): _summary(50)})
    share = [value for name, _, value in full if name == DRIFT_SHARE]
    assert share == [1.0]
    score = next(labels for name, labels, _ in full if name == DRIFT_COLUMN_SCORE)
    assert score == {
        "model": "m", "variant": "canary", "baseline": "reference", "column": "a", "method": "ks",
    }  # fmt: skip


def test_log_arguments_are_checked() -> None:
    assert parse_logs(["stable=/a.jsonl"]) == {"stable": Path("/a.jsonl")}
    for bad in (["stable"], ["=x"], ["a=1", "a=2"], []):
        with pytest.raises(ValueError):
            parse_logs(bad)
