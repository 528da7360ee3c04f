"""The drift monitor's gauges are what the ``driftShare`` check reads: its PromQL only uses
labels the exporter sets, and the check (here through the scrape provider, which evaluates
the same table) takes the worst baseline of the queried variant."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, generate_latest

from canaria.contracts.checks import PROMQL_TEMPLATES, BuiltinCheck
from canaria.contracts.metrics import DRIFT_SHARE, Variant
from monitoring.drift.config import parse_config
from monitoring.drift.exporter import LABELS, DriftCollector, VariantResult
from monitoring.drift.summary import ColumnDrift, summarize
from monitoring.providers.interfaces import MetricQuery
from monitoring.providers.metrics.scrape import ScrapeProvider


def _result(variant: str, baseline: str, drifted: int, rows: int = 50) -> VariantResult:
    """A result whose drift share is ``drifted`` / 4 (``rows`` below 10 is no data)."""
    config = parse_config({"min_rows": 10})
    columns = [
        ColumnDrift(f"c{i}", "feature", "numeric", "ks", 0.05, 0.01, i < drifted) for i in range(4)
    ]
    summary = summarize(
        columns if rows >= 10 else [], quality={}, config=config, reference_rows=100,
        current_rows=rows, tested_rows={},
    )  # fmt: skip
    return VariantResult(variant, 1000.0, rows, summary, baseline=baseline)


def test_the_drift_share_promql_selects_only_labels_the_monitor_exports() -> None:
    template = PROMQL_TEMPLATES[BuiltinCheck.DRIFT_SHARE]
    assert template.startswith(f"max({DRIFT_SHARE}{{")  # the max over baselines
    matched = set(re.findall(r"([a-z_]+)=", template))
    assert matched == {"variant"} and matched <= set(LABELS[DRIFT_SHARE])


def test_the_check_reads_the_worst_baseline_and_no_data_stays_none() -> None:
    collector = DriftCollector("churn-classifier")
    collector.update(_result("stable", "reference", drifted=0))
    collector.update(_result("canary", "reference", drifted=1))
    collector.update(_result("canary", "stable", drifted=3))
    collector.update(_result("shadow", "reference", drifted=4, rows=3))
    registry = CollectorRegistry()
    registry.register(collector)
    exposition = generate_latest(registry).decode()
    # One target for every variant: not a variant group, so no variant target label.
    provider = ScrapeProvider(
        targets={"drift": ["http://drift/metrics"]}, fetch=lambda _: exposition
    )

    def share(variant: Variant) -> float | None:
        return provider.measure(MetricQuery("driftShare", variant, 300.0))

    assert share(Variant.STABLE) == 0.0
    assert share(Variant.CANARY) == 0.75  # against the stable's window, the worse baseline
    assert share(Variant.SHADOW) is None  # 3 rows: no data, not "no drift"
