"""The picture command's pure parts: legends, variables, gaps, and a drawing of every
dashboard from canned query results; every dashboard has a committed picture the README
shows; and (slow) the drift and LLM dashboards drawn from a real Prometheus scraping the
drift monitor and the LLM service (``picture_models``; the alert-path test draws the
rollout dashboards from its own run)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pytest

from monitoring.dashboards import rollout
from monitoring.dashboards.generate import BUILDERS
from monitoring.dashboards.pictures import _with_gaps, legend, panel_data, render_png
from monitoring.dashboards.queries import dashboard_queries, substitute
from tests.monitoring.dashboards import picture_models

ROOT = Path(__file__).resolve().parents[3]
PICTURES = ROOT / "monitoring" / "dashboards" / "pictures"
PNG = b"\x89PNG\r\n\x1a\n"


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


@pytest.mark.parametrize("uid", sorted(BUILDERS))
def test_every_dashboard_draws_from_canned_results(uid: str, tmp_path: Path) -> None:
    dashboard = BUILDERS[uid]()

    def canned(expr: str) -> list[tuple[Mapping[str, str], list[tuple[float, float]]]]:
        return [({"variant": "canary", "le": "0.5"}, [(100.0, 0.5), (101.0, 0.7)])]

    panels = panel_data(dashboard, canned, rate_interval="5s")
    drawn = [p for p in panels if p.kind != "row"]
    assert drawn and all(p.series for p in drawn), uid
    render_png(dashboard["title"], panels, tmp_path / f"{uid}.png", start=100.0)
    assert (tmp_path / f"{uid}.png").read_bytes()[:8] == PNG


def test_every_dashboard_has_a_committed_picture_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for uid in BUILDERS:
        picture = PICTURES / f"{uid}.png"
        assert picture.read_bytes()[:8] == PNG and picture.stat().st_size > 10_000, uid
        assert f"(monitoring/dashboards/pictures/{uid}.png)" in readme, uid


@pytest.mark.slow
def test_drift_and_llm_dashboards_draw_from_a_real_run(
    classic_model_tag: str, llm_model_tag: str, tmp_path: Path
) -> None:
    """The drift monitor judges a canary log that drifts further each batch and the LLM
    service answers completions, both scraped by a real Prometheus; every panel fed by
    them has data (the retraining panel needs an operator's retraining loop)."""
    drawn = picture_models.run(
        tmp_path / "pictures", tmp_path, classic_tag=classic_model_tag,
        llm_tag=llm_model_tag, seconds=12, batches=3,
    )  # fmt: skip
    assert drawn == {picture_models.DRIFT_UID: 2, picture_models.LLM_UID: 6}
    for uid in drawn:
        assert (tmp_path / "pictures" / f"{uid}.png").stat().st_size > 10_000, uid
