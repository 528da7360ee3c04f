"""Every PromQL expression canaria ships (dashboards and rules), ready for promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

from monitoring.dashboards.generate import BUILDERS
from monitoring.dashboards.panels import PRICE_VARIABLE
from monitoring.dashboards.queries import Query, dashboard_queries, substitute
from monitoring.rules.build import rule_groups

NUMERIC_VALUES = {PRICE_VARIABLE: "1"}


def dashboard_expressions() -> list[Query]:
    """Every dashboard query with Grafana's variables substituted."""
    return [
        Query(query.where, substitute(query.expr, NUMERIC_VALUES), query.legend)
        for build in BUILDERS.values()
        for query in dashboard_queries(json.loads(json.dumps(build())))
    ]


def rule_expressions() -> list[Query]:
    return [
        Query(f"rules / {rule.get('alert') or rule.get('record')}", rule["expr"])
        for group in rule_groups()
        for rule in group["rules"]
    ]


def recorded_names() -> set[str]:
    return {
        rule["record"] for group in rule_groups() for rule in group["rules"] if "record" in rule
    }


def promtool_check(queries: list[Query], workdir: Path) -> subprocess.CompletedProcess[str]:
    """``promtool check rules`` on a rule file recording each expression: Prometheus's own
    parser judges every one, offline."""
    rules = [{"record": f"check:expr_{i}", "expr": q.expr} for i, q in enumerate(queries)]
    path = workdir / "expressions.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "all", "rules": rules}]}))
    binary = shutil.which("promtool")
    assert binary, "promtool missing: run `make system-deps` (Debian package prometheus)"
    return subprocess.run(
        [binary, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
