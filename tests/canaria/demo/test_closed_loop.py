"""Rollout 4's pure parts: the rollout it writes, the drift gauges it reads, the report."""

from __future__ import annotations

import json
from pathlib import Path

from canaria.contracts.metrics import (
    DRIFT_COLUMN_DRIFTED,
    DRIFT_COLUMN_SCORE,
    DRIFT_LAST_RUN,
    DRIFT_SHARE,
    DRIFT_WINDOW_ROWS,
)
from canaria.demo.closed_loop import DRIFT_ABOVE, NAME, loop_rollout
from canaria.demo.drift_watch import changed, describe, drift_point, window_since
from canaria.demo.handshake import handshake_paths, with_canary
from canaria.demo.report_loop import closed_loop_section
from canaria.demo.results import ClosedLoopOutcome, ColumnDrift, DriftPoint, LoopEvent
from canaria.demo.settings import demo_settings
from monitoring.api.spec import parse_spec
from monitoring.operator.retraining import HandshakeWorkload


def test_the_loop_rollout_is_a_valid_spec_that_retrains_on_drift(tmp_path: Path) -> None:
    settings = demo_settings(quick=True, output_dir=tmp_path, environ={})
    doc = loop_rollout(
        stable_tag="churn-classifier:a",
        router_url="http://127.0.0.1:1",
        monitor_url="http://127.0.0.1:2",
        settings=settings,
    )
    spec = parse_spec(doc["spec"])
    assert spec.target.canary == spec.target.stable  # nothing rolls out before a retraining
    assert spec.retrain is not None and spec.retrain.launcher == "local"
    assert spec.retrain.drift is not None and spec.retrain.drift.above == DRIFT_ABOVE
    assert str(settings.stable_sample_log) in spec.retrain.job.args
    assert {check.name for check in spec.analysis.checks} == {"success-rate", "latency-p99"}
    targets = doc["spec"]["metricsProvider"]["targets"]
    assert targets["drift"] == ["http://127.0.0.1:2/metrics"]


def test_handshake_file_names_match_the_operators(tmp_path: Path) -> None:
    from monitoring.operator.events import RolloutRef

    ours = handshake_paths(tmp_path, NAME)
    assert ours == HandshakeWorkload(tmp_path).paths(RolloutRef("demo", NAME))
    config = {"upstreams": {"stable": {"url": "a"}, "canary": {"url": "a", "timeout_seconds": 3}}}
    moved = with_canary(config, "b")
    assert moved["upstreams"]["canary"] == {"url": "b", "timeout_seconds": 3}
    assert config["upstreams"]["canary"]["url"] == "a"  # pure


def _metrics_page(share: float) -> str:
    """What ``canaria drift monitor`` serves (names from the contracts, as the exporter)."""
    base = 'model="churn-classifier",variant="stable",baseline="reference"'
    return "\n".join(
        [
            f"# TYPE {DRIFT_SHARE} gauge",
            f"{DRIFT_SHARE}{{{base}}} {share}",
            f"{DRIFT_SHARE}{{{base.replace('stable', 'canary')}}} 0.9",
            f"# TYPE {DRIFT_WINDOW_ROWS} gauge",
            f"{DRIFT_WINDOW_ROWS}{{{base}}} 180",
            f"# TYPE {DRIFT_LAST_RUN} gauge",
            f"{DRIFT_LAST_RUN}{{{base}}} 1.7e+09",
            f"# TYPE {DRIFT_COLUMN_DRIFTED} gauge",
            f'{DRIFT_COLUMN_DRIFTED}{{{base},column="age"}} 1',
            f"# TYPE {DRIFT_COLUMN_SCORE} gauge",
            f'{DRIFT_COLUMN_SCORE}{{{base},column="age",method="ks"}} 0.001',
            "",
        ]
    )


def test_drift_point_reads_the_monitors_gauges() -> None:
    found = drift_point(_metrics_page(0.5), seconds=3.0)
    assert found is not None
    last_run, point = found
    assert last_run == 1.7e9
    assert point.share == 0.5 and point.rows == 180
    assert point.columns == (ColumnDrift("age", 0.001, "ks", True),)
    assert describe(point) == "share 0.50 over 180 rows; drifted: age"
    assert drift_point("", seconds=1.0) is None
    assert changed(None, point) and not changed(point, point)
    assert changed(point, DriftPoint(4.0, 0.6, 180, point.columns))


def test_window_since_keeps_the_records_after_the_drift(tmp_path: Path) -> None:
    log = tmp_path / "stable.jsonl"
    lines = [
        {"ts": "2026-01-01T00:00:00Z", "features": {"a": 1}},
        {"ts": "2026-01-01T00:00:10Z", "features": {"a": 2}},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n")
    out = window_since(log, 1767225605.0, tmp_path / "drift" / "current.jsonl")
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert [record["features"]["a"] for record in kept] == [2]


def test_report_section_shows_drift_retraining_and_links_evidently() -> None:
    column = ColumnDrift("contract_type", 0.2, "psi", True)
    outcome = ClosedLoopOutcome(
        drift=(DriftPoint(1.0, 0.0, 120, ()), DriftPoint(5.0, 0.6, 150, (column,))),
        drift_threshold=0.3,
        drift_started=3.0,
        retrain_steps=(LoopEvent("t", "RetrainStarted", "Job <x> started"),),
        events=(LoopEvent("t", "Promoted", "promoted"),),
        retrain_result={"status": "registered", "champion": "m:a", "new_tag": "m:b",
                        "champion_metrics": {"roc_auc": 0.61}, "trigger": "drift:share",
                        "challenger_metrics": {"roc_auc": 0.83}, "margin": 0.01},
        evidently_report="drift/evidently-report.html",
    )  # fmt: skip
    html = closed_loop_section(outcome)
    assert '<a href="drift/evidently-report.html">' in html
    assert "retrain above 0.3" in html and "contract_type" in html
    assert "0.6100" in html and "0.8300" in html and "drift:share" in html
    assert "Job &lt;x&gt; started" in html and "Promoted" in html
    assert html.count("<svg") == 2
    assert closed_loop_section(None) == ""
