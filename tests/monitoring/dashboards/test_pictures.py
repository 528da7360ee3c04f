"""The picture command's pure parts: legends, variables, gaps, and a drawing from canned
query results (the alert-path test draws from a real Prometheus)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from monitoring.dashboards import rollout
from monitoring.dashboards.pictures import _with_gaps, legend, panel_data, render_png
from monitoring.dashboards.queries import dashboard_queries, substitute


def test_legend_fills_labels_and_falls_back_to_the_label_set() -> None:
    assert legend("{{rollout}} {{phase}}", {"rollout": "ml/a", "phase": "Failed"}) == "ml/a Failed"
    assert legend("", {"b": "2", "a": "1"}) == "a=1,b=2"
    assert legend("", {}) == "value"


def test_substitute_sets_builtins_numbers_and_all() -> None:
    expr = 'rate(x{rollout=~"$namespace/$rollout"}[$__rate_interval]) * $price'
    assert substitute(expr, {"price": "2"}) == 'rate(x{rollout=~".*/.*"}[1m]) * 2'
    assert substitute("x[$__rate_interval]", {"__rate_interval": "4s"}) == "x[4s]"


def test_gaps_break_lines_where_samples_are_missing() -> None:
    xs, ys = _with_gaps([0, 1, 2, 6, 7], [1, 1, 1, 2, 2])
    assert xs == [0, 1, 2, 4, 6, 7]
    assert math.isnan(ys[3]) and ys[:3] == [1, 1, 1] and ys[4:] == [2, 2]


def test_every_query_of_a_dashboard_is_asked_and_drawn(tmp_path: Path) -> None:
    dashboard = rollout.build()
    asked: list[str] = []

    def canned(expr: str) -> list[tuple[Mapping[str, str], list[tuple[float, float]]]]:
        asked.append(expr)
        return [({"rollout": "ml/churn", "phase": "Failed"}, [(100.0, 1.0), (101.0, 1.0)])]

    panels = panel_data(dashboard, canned, rate_interval="5s")
    expected = [q for q in dashboard_queries(dashboard) if "annotation" not in q.where]
    assert len(asked) == len([q for q in expected if "variable" not in q.where])
    assert all("$" not in expr for expr in asked)
    assert any("[5s]" in expr for expr in asked)
    phase = next(p for p in panels if p.title == "Phase")
    assert phase.series[0][0] == "ml/churn Failed"
    render_png(dashboard["title"], panels, tmp_path / "r.png", start=100.0)
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
