"""The metrics catalog is the one source: every check's template uses only names from it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from canaria.contracts import metrics as catalog
from canaria.contracts.checks import BUILTIN_CHECKS, PROMQL_TEMPLATES, BuiltinCheck
from canaria.contracts.metrics import Variant
from monitoring.providers.interfaces import MetricQuery
from monitoring.providers.metrics.promql import promql_for

METRIC_NAMES = {
    value
    for name, value in vars(catalog).items()
    if name.isupper() and isinstance(value, str) and value.startswith("canaria_")
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# An identifier directly followed by a label matcher list is a metric name in PromQL.
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def test_metric_names_are_unique_and_prefixed() -> None:
    constants = [
        value
        for name, value in vars(catalog).items()
        if name.isupper() and isinstance(value, str) and value.startswith("canaria_")
    ]
    assert len(constants) == len(set(constants))
    assert all(re.fullmatch(r"canaria_[a-z0-9_]+", name) for name in constants)


def test_every_builtin_check_has_a_template_and_nothing_else_does() -> None:
    assert set(PROMQL_TEMPLATES) == {check.value for check in BuiltinCheck}
    assert set(BUILTIN_CHECKS) == {check.value for check in BuiltinCheck}
    assert all(info.check is check for check, info in BUILTIN_CHECKS.items())


@pytest.mark.parametrize("check", list(BuiltinCheck))
def test_templates_only_reference_catalog_metrics(check: BuiltinCheck) -> None:
    template = PROMQL_TEMPLATES[check]
    referenced = SELECTOR.findall(template)
    assert referenced, template
    for name in referenced:
        base = next((name.removesuffix(s) for s in HISTOGRAM_SUFFIXES if name.endswith(s)), name)
        assert name in METRIC_NAMES or base in METRIC_NAMES, f"{name} is not in the catalog"


@pytest.mark.parametrize("check", list(BuiltinCheck))
def test_templates_use_only_known_placeholders(check: BuiltinCheck) -> None:
    template = PROMQL_TEMPLATES[check]
    placeholders = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", template))
    assert placeholders <= {"variant", "window", "selector"}
    assert "selector" in placeholders
    variant_scoped = BUILTIN_CHECKS[check].query.per_variant
    assert ("variant" in placeholders) is variant_scoped


def test_templates_are_valid_promql_when_rendered(tmp_path: Path) -> None:
    """promtool (Prometheus's own parser) accepts every rendered template."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: run `make system-deps`"
    rules = []
    for check in BuiltinCheck:
        for selector in ({}, {"namespace": "ml", "service": 'a"b'}):
            query = MetricQuery(check.value, Variant.CANARY, 60.0, selector=selector)
            record = f"canaria:{check.value}:{len(selector)}"
            rules.append({"record": record, "expr": promql_for(query)})
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "checks", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
