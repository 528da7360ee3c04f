"""Every PromQL expression in the dashboards and the rules parses (promtool) and reads
only metrics canaria defines; ``test_exported_names`` checks them against real processes."""

from __future__ import annotations

from pathlib import Path

from canaria.contracts import metrics as catalog
from tests.monitoring.dashboards.expressions import (
    dashboard_expressions,
    promtool_check,
    recorded_names,
    rule_expressions,
)
from tests.monitoring.dashboards.promql_names import metric_names

CATALOG = {
    value
    for name, value in vars(catalog).items()
    if name.isupper() and isinstance(value, str) and value.startswith("canaria_")
}
SUFFIXES = ("_bucket", "_sum", "_count")
PROMETHEUS_OWN = {"up"}  # synthesised by Prometheus for every target


def test_every_expression_parses_with_promtool(tmp_path: Path) -> None:
    queries = dashboard_expressions() + rule_expressions()
    assert len(queries) > 50
    result = promtool_check(queries, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_promtool_check_refuses_a_broken_expression(tmp_path: Path) -> None:
    broken = [*dashboard_expressions()[:3]]
    broken.append(type(broken[0])("broken", "sum(rate(canaria_router_requests_total[1m])"))
    assert promtool_check(broken, tmp_path).returncode != 0


def test_every_expression_reads_catalog_metrics_or_recording_rules() -> None:
    known = CATALOG | recorded_names() | PROMETHEUS_OWN
    for query in dashboard_expressions() + rule_expressions():
        names = metric_names(query.expr)
        assert names, query
        for name in names:
            base = next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)
            assert name in known or base in known, f"{query.where}: {name} is not canaria's"


def test_metric_names_finds_names_not_functions_labels_or_durations() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (variant, le) (rate(a_bucket{x="y{z}"}[5m])))'
        " / on (variant) group_left b:rec unless c offset 1m > 1e3"
    )
    assert metric_names(expr) == {"a_bucket", "b:rec", "c"}
