"""Rollout 4's part of the HTML report: drift over time, the retraining result, the Events.

Pure: a ``ClosedLoopOutcome`` in, an HTML ``<section>`` out. The drift share over time is
a line chart with the retraining threshold; every column's verdict over time is a heat
map (hover a cell for its score); the retraining result is a champion/challenger table
and its JSON; the Evidently report the demo wrote with ``canaria drift`` is linked
(a relative link to a file beside the report: nothing is fetched when the page opens).
"""

from __future__ import annotations

import json
from html import escape

from canaria.demo.drift_watch import column_names
from canaria.demo.plots import Chart, ChartPoint, HeatCell, HeatRow, svg_chart, svg_heatmap
from canaria.demo.results import ClosedLoopOutcome, DriftPoint, LoopEvent

RESULT_METRICS = ("roc_auc", "accuracy", "f1", "log_loss", "brier_score", "ece")


def drift_share_chart(outcome: ClosedLoopOutcome) -> Chart:
    """The stable's drift share at each evaluation, the trigger threshold dashed (pure)."""
    points = [
        ChartPoint(p.seconds, p.share, failed=p.share > outcome.drift_threshold)
        for p in outcome.drift
        if p.share is not None
    ]
    return Chart(
        title="stable's drift share (drifted columns / all)",
        points=points,
        x_max=_x_max(outcome.drift),
        y_min=0.0,
        y_max=1.0,
        limit=outcome.drift_threshold,
        limit_label=f"retrain above {outcome.drift_threshold:g}",
    )


def column_rows(points: tuple[DriftPoint, ...]) -> list[HeatRow]:
    """One heat-map row per column: its verdict at each evaluation (pure)."""
    rows = []
    for name in column_names(points):
        cells = []
        for point in points:
            found = next((c for c in point.columns if c.column == name), None)
            score = "-" if found is None or found.score is None else f"{found.score:.3g}"
            method = f" ({found.method})" if found is not None and found.method else ""
            tip = f"{name} at {point.seconds:.0f}s: {score}{method}"
            cells.append(HeatCell(point.seconds, None if found is None else found.drifted, tip))
        rows.append(HeatRow(name, cells))
    return rows


def _x_max(points: tuple[DriftPoint, ...]) -> float:
    return max((p.seconds for p in points), default=1.0)


def _events_table(title: str, events: tuple[LoopEvent, ...]) -> str:
    rows = "".join(
        f"<tr><td>{escape(e.time)}</td><td>{escape(e.reason)}</td><td>{escape(e.message)}</td></tr>"
        for e in events
    )
    return (
        f"<h3>{escape(title)}</h3><table><tr><th>time (UTC)</th><th>step</th>"
        f"<th>message</th></tr>{rows}</table>"
    )


def retrain_table(result: dict[str, object]) -> str:
    """Champion and challenger on the same fresh hold-out, metric by metric (pure)."""
    champion = result.get("champion_metrics") or {}
    challenger = result.get("challenger_metrics") or {}
    if not isinstance(champion, dict) or not isinstance(challenger, dict):
        return ""
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="num">{champion[name]:.4f}</td>'
        f'<td class="num">{challenger[name]:.4f}</td></tr>'
        for name in RESULT_METRICS
        if name in champion and name in challenger
    )
    head = (
        f"<tr><th>metric</th><th>champion {escape(str(result.get('champion', '')))}</th>"
        f"<th>challenger {escape(str(result.get('new_tag') or 'not registered'))}</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def closed_loop_section(outcome: ClosedLoopOutcome | None) -> str:
    """The section (pure); empty when rollout 4 did not run."""
    if outcome is None:
        return ""
    result = outcome.retrain_result
    started = (
        f"The traffic drifted at {outcome.drift_started:.0f}s (dashed line in the map). "
        if outcome.drift_started is not None
        else "The traffic did not drift (the run stopped before). "
    )
    decision = (
        f"<p><b>Retraining:</b> {escape(str(result.get('status', '-')))}, "
        f"{escape(str(result.get('reason', '')))}; metric {escape(str(result.get('metric')))},"
        f" margin {escape(str(result.get('margin')))}; triggered by "
        f"<code>{escape(str(result.get('trigger', '-')))}</code>.</p>"
        if result
        else "<p><b>Retraining:</b> no result recorded.</p>"
    )
    evidently = (
        f'<p><b>Evidently report</b> of the drifted window: <a href="'
        f'{escape(outcome.evidently_report)}">{escape(outcome.evidently_report)}</a> '
        f"(<code>canaria drift</code> {escape(outcome.evidently_line)})</p>"
        if outcome.evidently_report
        else "<p>No Evidently report was written.</p>"
    )
    prometheus = "".join(
        f"<pre>{escape(answer.query)}\n\n{escape(answer.result)}</pre>"
        for answer in outcome.prometheus
    )
    heat = svg_heatmap(
        "drift per column over time (red: drifted)",
        column_rows(outcome.drift),
        x_max=_x_max(outcome.drift),
        mark=outcome.drift_started,
    )
    return (
        '<section id="closed-loop"><h2>Closed loop: drift, retraining, canary</h2>'
        f"<p>{escape(started)}The operator retrains when the stable's drift share stays "
        f"above {outcome.drift_threshold:g}.</p>"
        f'<div class="charts">{svg_chart(drift_share_chart(outcome))}</div>{heat}'
        f"{evidently}{decision}{retrain_table(result)}"
        f"<h3>Retraining result (JSON)</h3><pre>{escape(json.dumps(result, indent=2))}</pre>"
        + _events_table("Retraining steps (status.retrain.history)", outcome.retrain_steps)
        + _events_table("Events", outcome.events)
        + prometheus
        + "</section>"
    )
