"""Step 6: the HTML report, one self-contained file (inline CSS and SVG, nothing fetched).

``render_report`` is pure: a ``DemoReport`` in, the page out. Per rollout it draws the
canary weight and each check's value over time (with the check's limit and failed
analyses in red) and lists every decision with its message; then the models' metrics.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from canaria.demo.plots import Chart, ChartPoint, svg_chart
from canaria.demo.report_loop import closed_loop_section
from canaria.demo.results import DemoReport, ModelSummary, PrometheusOutcome, RolloutResult

MODEL_METRICS = ("accuracy", "roc_auc", "f1", "ece", "perplexity")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2e7d32; font-weight: bold; } .bad { color: #c62828; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; } pre { background: #f7f7f7; padding: 8px; }
section { border-top: 2px solid #eee; margin-top: 1.5em; }
"""
_LIMIT_NUMBER = re.compile(r"^(min|max) (\S+)$")


def _cell(value: object, *, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f"<td{css}>{escape(str(value))}</td>"


def _table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def weight_chart(rollout: RolloutResult) -> Chart:
    """The canary weight (0-100 %) over the rollout, as a step chart (pure)."""
    points = [ChartPoint(point.seconds, float(point.weight)) for point in rollout.timeline]
    return Chart(
        title="canary weight (%)",
        points=points,
        x_max=max(rollout.seconds, points[-1].x if points else 0.0),
        y_min=0.0,
        y_max=100.0,
        step=True,
    )


def check_charts(rollout: RolloutResult) -> list[Chart]:
    """One chart per check: its value at each analysis, its limit as a dashed line (pure)."""
    names: list[str] = list(rollout.check_limits)
    for point in rollout.timeline:
        names.extend(sample.name for sample in point.checks if sample.name not in names)
    charts = []
    for name in names:
        points = [
            ChartPoint(point.seconds, sample.value, failed=sample.verdict != "pass")
            for point in rollout.timeline
            for sample in point.checks
            if sample.name == name and sample.value is not None
        ]
        limit_text = rollout.check_limits.get(name, "")
        match = _LIMIT_NUMBER.match(limit_text)
        limit = float(match.group(2)) if match else None
        values = [p.y for p in points] + ([limit] if limit is not None else [])
        largest = max(values, default=1.0)
        charts.append(
            Chart(
                title=name,
                points=points,
                x_max=max(rollout.seconds, 1.0),
                y_min=0.0,
                # Ratios keep their natural 0-1 scale; anything else (seconds) its own.
                y_max=1.0 if largest <= 1.0 else largest * 1.2,
                limit=limit,
                limit_label=limit_text,
            )
        )
    return charts


def _rollout_section(rollout: RolloutResult) -> str:
    css = "ok" if rollout.as_expected else "bad"
    expectation = "as expected" if rollout.as_expected else f"expected {rollout.expectation}"
    charts = [weight_chart(rollout), *check_charts(rollout)]
    decision_rows = [
        "<tr>"
        + _cell(entry.time)
        + _cell(entry.decision)
        + _cell(entry.phase)
        + _cell(f"{entry.weight}%", numeric=True)
        + _cell(entry.message)
        + "</tr>"
        for entry in rollout.decisions
    ]
    traffic = rollout.traffic
    statuses = ", ".join(f"{code}: {count}" for code, count in traffic.by_status.items())
    variants = ", ".join(f"{name}: {count}" for name, count in traffic.by_variant.items())
    limits = ", ".join(f"{name} {bound}" for name, bound in rollout.check_limits.items())
    return (
        f'<section id="{escape(rollout.name)}"><h2>{escape(rollout.title)}</h2>'
        f"<p>stable <code>{escape(rollout.stable_tag)}</code> &rarr; canary "
        f"<code>{escape(rollout.canary_tag)}</code>: "
        f'<span class="{css}">{escape(rollout.final_phase)}</span> ({escape(expectation)}) '
        f"after {rollout.seconds:.1f}s, canary weight now {rollout.final_weight}%.</p>"
        f"<p><b>Evidence:</b> {escape(rollout.message)}</p>"
        f"<p>Checks: {escape(limits)}. Traffic: {traffic.sent} requests "
        f"({escape(statuses)}; {escape(variants)}).</p>"
        f'<div class="charts">{"".join(svg_chart(chart) for chart in charts)}</div>'
        "<h3>Decisions</h3>"
        + _table(["time (UTC)", "decision", "phase", "weight", "message"], decision_rows)
        + "</section>"
    )


def _models_table(models: tuple[ModelSummary, ...]) -> str:
    rows = []
    for model in models:
        metrics = "".join(
            _cell(f"{model.metrics[name]:.3f}" if name in model.metrics else "-", numeric=True)
            for name in MODEL_METRICS
        )
        rows.append(
            "<tr>"
            + _cell(model.role.value)
            + _cell(model.tag)
            + _cell(model.trained_on)
            + metrics
            + _cell(f"{model.seconds:.1f}s", numeric=True)
            + "</tr>"
        )
    return _table(["role", "tag", "trained on", *MODEL_METRICS, "training time"], rows)


def _prometheus_section(outcome: PrometheusOutcome | None) -> str:
    if outcome is None:
        return ""
    body = f"<p>{escape(outcome.detail)}</p>"
    for answer in outcome.answers:
        body += f"<pre>{escape(answer.query)}\n\n{escape(answer.result)}</pre>"
    return f"<section><h2>Prometheus</h2>{body}</section>"


def render_report(report: DemoReport) -> str:
    """The whole page (pure)."""
    summary_rows = [
        "<tr>"
        + _cell(rollout.title)
        + f'<td class="{"ok" if rollout.as_expected else "bad"}">{escape(rollout.final_phase)}</td>'
        + _cell(rollout.expectation)
        + _cell(f"{rollout.seconds:.1f}s", numeric=True)
        + "</tr>"
        for rollout in report.rollouts
    ]
    showcase = "".join(f"<li>{escape(kind)}: {escape(text)}</li>" for kind, text in report.showcase)
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>canaria demo report</title><style>{STYLE}</style></head><body>"
        "<h1>canaria demo report</h1>"
        f'<p class="sub">{escape(report.started)} &middot; {escape(report.mode)} run &middot; '
        f"{report.seconds:.0f}s &middot; BentoML store <code>{escape(report.bentoml_home)}</code>"
        "</p><h2>Rollouts</h2>"
        + _table(["rollout", "final phase", "expected", "duration"], summary_rows)
        + "".join(_rollout_section(rollout) for rollout in report.rollouts)
        + closed_loop_section(report.closed_loop)
        + "<section><h2>Models</h2>"
        + _models_table(report.models)
        + (f"<h3>Serving</h3><ul>{showcase}</ul>" if showcase else "")
        + "</section>"
        + _prometheus_section(report.prometheus)
        + (f"<section><h2>Notes</h2><ul>{notes}</ul></section>" if notes else "")
        + "</body></html>\n"
    )


def write_report(path: Path, report: DemoReport) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(report), encoding="utf-8")
    return path
