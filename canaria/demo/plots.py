"""Inline SVG line charts for the HTML report (pure string builders, no dependencies)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 420
HEIGHT = 170
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 24
MARGIN_BOTTOM = 30
PASS_COLOR = "#2e7d32"  # nosec B105 # a colour for passing checks, not a password
FAIL_COLOR = "#c62828"
LINE_COLOR = "#1565c0"
LIMIT_COLOR = "#ef6c00"

Axis = Callable[[float], float]


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    failed: bool = False


@dataclass(frozen=True)
class Chart:
    """What to draw: points in data units, the axes' ranges and an optional limit line."""

    title: str
    points: Sequence[ChartPoint]
    x_max: float
    y_min: float
    y_max: float
    limit: float | None = None
    limit_label: str = ""
    step: bool = False
    y_unit: str = ""


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high <= low:
        return out_low
    return out_low + (value - low) / (high - low) * (out_high - out_low)


def _tick(value: float) -> str:
    return f"{value:.3g}"


def svg_chart(chart: Chart) -> str:
    """One chart as an ``<svg>`` element (pure). A step chart holds each value until the
    next point (a weight); a line chart joins measurements and marks failed ones red."""
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    x_max = max(chart.x_max, 1e-9)

    def px(x: float) -> float:
        return _scale(x, 0.0, x_max, left, right)

    def py(y: float) -> float:
        clamped = min(max(y, chart.y_min), chart.y_max)
        return _scale(clamped, chart.y_min, chart.y_max, bottom, top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(chart.title)}">',
        f'<text x="{left}" y="15" font-size="12" font-weight="bold">{escape(chart.title)}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>',
    ]
    for value in (chart.y_min, (chart.y_min + chart.y_max) / 2, chart.y_max):
        y = py(value)
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{_tick(value)}{escape(chart.y_unit)}</text>"
        )
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>')
    for value in (0.0, x_max / 2, x_max):
        parts.append(
            f'<text x="{px(value):.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">'
            f"{value:.0f}s</text>"
        )
    if chart.limit is not None:
        y = py(chart.limit)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{LIMIT_COLOR}" '
            'stroke-dasharray="5,3"/>'
        )
        parts.append(
            f'<text x="{right}" y="{y - 3:.1f}" font-size="10" text-anchor="end" '
            f'fill="{LIMIT_COLOR}">{escape(chart.limit_label)}</text>'
        )
    parts.extend(_series(chart, px, py))
    parts.append("</svg>")
    return "".join(parts)


def _series(chart: Chart, px: Axis, py: Axis) -> list[str]:
    points = list(chart.points)
    if not points:
        return [
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="11" text-anchor="middle" '
            'fill="#777">no data</text>'
        ]
    coords: list[tuple[float, float]] = []
    for index, point in enumerate(points):
        if chart.step and index > 0:
            coords.append((px(point.x), py(points[index - 1].y)))
        coords.append((px(point.x), py(point.y)))
    if chart.step:
        coords.append((px(chart.x_max), py(points[-1].y)))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [f'<polyline fill="none" stroke="{LINE_COLOR}" stroke-width="2" points="{path}"/>']
    if not chart.step:
        for point in points:
            color = FAIL_COLOR if point.failed else PASS_COLOR
            parts.append(
                f'<circle cx="{px(point.x):.1f}" cy="{py(point.y):.1f}" r="3.5" fill="{color}">'
                f"<title>{point.x:.1f}s: {point.y:.4g}</title></circle>"
            )
    return parts


@dataclass(frozen=True)
class HeatCell:
    """One column in one evaluation: ``drifted`` (``None``: not measured), a tooltip."""

    x: float
    drifted: bool | None
    tip: str = ""


@dataclass(frozen=True)
class HeatRow:
    label: str
    cells: Sequence[HeatCell]


def svg_heatmap(title: str, rows: Sequence[HeatRow], *, x_max: float, mark: float | None) -> str:
    """Rows of cells over time (pure): red drifted, green not, grey not measured; each cell
    lasts until the next one; ``mark`` draws a dashed line at that time (seconds)."""
    row_height, left, width = 13, 150, 840
    right = width - MARGIN_RIGHT
    height = MARGIN_TOP + row_height * max(len(rows), 1) + MARGIN_BOTTOM
    bottom = height - MARGIN_BOTTOM
    x_max = max(x_max, 1e-9)

    def px(x: float) -> float:
        return _scale(x, 0.0, x_max, left, right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="15" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for index, row in enumerate(rows):
        y = MARGIN_TOP + index * row_height
        parts.append(
            f'<text x="{left - 4}" y="{y + row_height - 3}" font-size="10" '
            f'text-anchor="end">{escape(row.label)}</text>'
        )
        for position, cell in enumerate(row.cells):
            end = row.cells[position + 1].x if position + 1 < len(row.cells) else x_max
            color = "#bbb" if cell.drifted is None else FAIL_COLOR if cell.drifted else PASS_COLOR
            parts.append(
                f'<rect x="{px(cell.x):.1f}" y="{y}" width="{max(px(end) - px(cell.x), 1.0):.1f}" '
                f'height="{row_height - 2}" fill="{color}"><title>{escape(cell.tip)}</title></rect>'
            )
    for value in (0.0, x_max / 2, x_max):
        parts.append(
            f'<text x="{px(value):.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">'
            f"{value:.0f}s</text>"
        )
    if mark is not None:
        parts.append(
            f'<line x1="{px(mark):.1f}" y1="{MARGIN_TOP - 4}" x2="{px(mark):.1f}" y2="{bottom}" '
            f'stroke="{LIMIT_COLOR}" stroke-dasharray="5,3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
