"""Render each dashboard's panels from a real Prometheus to PNGs, as Grafana would lay
them out (no Grafana binary here): ``python -m monitoring.dashboards.pictures --prometheus
http://127.0.0.1:9090 --out DIR [--minutes 15]``.

Every panel's queries run as ``query_range`` over the window, with the dashboard's
variables set to "All"; time series and state timelines are drawn as lines, stats as
their last value, heatmaps as the per-bucket increases over time. Needs matplotlib (the
``pictures`` extra).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from monitoring.dashboards.command import add_picture_arguments, run_pictures
from monitoring.dashboards.generate import BUILDERS
from monitoring.dashboards.panels import PRICE_VARIABLE
from monitoring.dashboards.queries import substitute

Series = tuple[str, list[float], list[float]]  # legend, unix times, values
QueryRange = Callable[[str], list[tuple[Mapping[str, str], list[tuple[float, float]]]]]
VALUES = {PRICE_VARIABLE: "1"}


@dataclass(frozen=True)
class PanelData:
    """One panel's layout (Grafana grid units), kind and series."""

    title: str
    kind: str
    unit: str
    grid: Mapping[str, int]
    series: tuple[Series, ...]


def legend(template: str, labels: Mapping[str, str]) -> str:
    """Grafana's ``{{label}}`` legend format filled from ``labels`` (pure)."""
    text = template
    for name, value in labels.items():
        text = text.replace("{{" + name + "}}", value)
    return text or ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "value"


def panel_data(
    dashboard: Mapping[str, Any], query_range: QueryRange, *, rate_interval: str = "1m"
) -> list[PanelData]:
    """Query every panel of ``dashboard`` through ``query_range`` (rows are kept, empty);
    ``rate_interval`` stands for Grafana's ``$__rate_interval``."""
    values = {**VALUES, "__rate_interval": rate_interval}
    panels = []
    for panel in dashboard["panels"]:
        series: list[Series] = []
        for target in panel.get("targets", []):
            for labels, points in query_range(substitute(target["expr"], values)):
                name = legend(target.get("legendFormat", ""), labels)
                series.append((name, [t for t, _ in points], [v for _, v in points]))
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        panels.append(
            PanelData(panel["title"], panel["type"], unit, panel["gridPos"], tuple(series))
        )
    return panels


def prometheus_range(base_url: str, *, start: float, end: float, step: float) -> QueryRange:
    """A ``query_range`` function on the Prometheus at ``base_url`` (errors raise)."""

    def query(expr: str) -> list[tuple[Mapping[str, str], list[tuple[float, float]]]]:
        params: dict[str, str | float] = {"query": expr, "start": start, "end": end, "step": step}
        response = httpx.get(f"{base_url}/api/v1/query_range", params=params, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"{expr}: {body.get('error', response.text)}")
        return [
            (
                {k: v for k, v in item["metric"].items() if k != "__name__"},
                [(float(t), float(v)) for t, v in item["values"]],
            )
            for item in body["data"]["result"]
        ]

    return query


def _draw(axis: Any, panel: PanelData, start: float) -> None:
    axis.set_title(panel.title, fontsize=9, loc="left")
    axis.tick_params(labelsize=7)
    finite = [
        (name, [t - start for t in ts], vs)
        for name, ts, vs in panel.series
        if any(math.isfinite(v) for v in vs)
    ]
    if not finite:
        axis.text(0.5, 0.5, "no data", ha="center", va="center", color="grey", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
        return
    if panel.kind == "stat":
        value = next(v for v in reversed(finite[0][2]) if math.isfinite(v))
        axis.text(0.5, 0.4, f"{value:.3g}", ha="center", va="center", fontsize=20)
        axis.set_xticks([])
        axis.set_yticks([])
        return
    if panel.kind == "heatmap":
        _heatmap(axis, finite)
        return
    if panel.kind == "state-timeline":
        for lane, (_, ts, _) in enumerate(finite):
            xs, ys = _with_gaps(ts, [float(lane)] * len(ts))
            axis.plot(xs, ys, linewidth=8, solid_capstyle="butt")
        axis.set_yticks(range(len(finite)), [name for name, _, _ in finite], fontsize=7)
        axis.set_ylim(-0.7, len(finite) - 0.3)
        axis.set_xlabel("seconds", fontsize=7)
        return
    stepped = "weight" in panel.title.lower()
    for name, ts, vs in finite[:12]:
        xs, ys = _with_gaps(ts, vs)
        axis.plot(xs, ys, label=name, linewidth=1, drawstyle="steps-post" if stepped else "default")
    axis.set_xlabel("seconds", fontsize=7)
    if panel.unit:
        axis.set_ylabel(panel.unit, fontsize=7)
    axis.legend(fontsize=6, loc="best")


def _with_gaps(ts: list[float], vs: list[float]) -> tuple[list[float], list[float]]:
    """Insert NaN where samples are missing (a gap over 1.5 steps), so lines break there."""
    if len(ts) < 2:
        return ts, vs
    step = min(b - a for a, b in itertools.pairwise(ts))
    xs, ys = [ts[0]], [vs[0]]
    for (t0, _), (t1, v1) in itertools.pairwise(zip(ts, vs, strict=True)):
        if t1 - t0 > 1.5 * step:
            xs.append((t0 + t1) / 2)
            ys.append(math.nan)
        xs.append(t1)
        ys.append(v1)
    return xs, ys


def _heatmap(axis: Any, series: Sequence[tuple[str, list[float], list[float]]]) -> None:
    """Buckets (legend = ``le``) de-cumulated and drawn as an image over time."""
    ordered = sorted(series, key=lambda s: float(s[0]) if s[0] != "+Inf" else math.inf)
    length = min(len(vs) for _, _, vs in ordered)
    cumulative = [[v if math.isfinite(v) else 0.0 for v in vs[:length]] for _, _, vs in ordered]
    rows = [cumulative[0]] + [
        [b - a for a, b in zip(lower, upper, strict=True)]
        for lower, upper in itertools.pairwise(cumulative)
    ]
    axis.imshow(rows, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest")
    axis.set_yticks(range(len(ordered)), [name for name, _, _ in ordered], fontsize=6)
    axis.set_xlabel("samples", fontsize=7)


def render_png(title: str, panels: Sequence[PanelData], path: Path, *, start: float) -> None:
    """Lay ``panels`` out on Grafana's 24-column grid and write a PNG to ``path``.

    Raises RuntimeError when matplotlib (the ``pictures`` extra) is not installed."""
    try:
        import matplotlib
    except ImportError as error:
        raise RuntimeError(
            "drawing dashboards needs matplotlib: pip install 'canaria[pictures]'"
        ) from error

    matplotlib.use("Agg")
    from matplotlib import pyplot

    height = max(p.grid["y"] + p.grid["h"] for p in panels)
    figure = pyplot.figure(figsize=(16, height * 0.32 + 0.6))
    grid = figure.add_gridspec(
        height, 24, hspace=2.5, wspace=1.5, top=0.96, bottom=0.02, left=0.05, right=0.99
    )
    for panel in panels:
        y, x, h, w = (panel.grid[k] for k in ("y", "x", "h", "w"))
        if panel.kind == "row":
            axis = figure.add_subplot(grid[y, :])
            axis.axis("off")
            axis.text(0, 0.5, panel.title, fontsize=11, weight="bold", va="center")
            continue
        _draw(figure.add_subplot(grid[y : y + h, x : x + w]), panel, start)
    figure.suptitle(title, fontsize=13, x=0.05, y=0.995, ha="left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80, bbox_inches="tight")
    pyplot.close(figure)


def render_all(
    base_url: str,
    out_dir: Path,
    *,
    start: float,
    end: float,
    scrape_interval: float = 15.0,
    uids: Sequence[str] | None = None,
) -> dict[str, int]:
    """One PNG per dashboard (those in ``uids``, default all) in ``out_dir``; returns the
    number of panels with data, per dashboard uid.
    ``$__rate_interval`` becomes 4 scrape intervals (or 4 steps), as Grafana computes it."""
    step = max(1.0, (end - start) / 300)
    query = prometheus_range(base_url, start=start, end=end, step=step)
    rate_interval = f"{max(4 * scrape_interval, 4 * step):g}s"
    filled = {}
    for uid in uids or list(BUILDERS):
        dashboard = BUILDERS[uid]()
        panels = panel_data(dashboard, query, rate_interval=rate_interval)
        render_png(dashboard["title"], panels, out_dir / f"{uid}.png", start=start)
        filled[uid] = sum(1 for p in panels if p.series)
    return filled


def main(argv: list[str] | None = None) -> int:
    """``python -m monitoring.dashboards.pictures`` (also ``canaria dashboards pictures``)."""
    parser = argparse.ArgumentParser(prog="python -m monitoring.dashboards.pictures")
    add_picture_arguments(parser)
    return run_pictures(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
