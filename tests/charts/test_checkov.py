"""checkov's Kubernetes checks on each chart, as rendered by helm: 0 failed checks. The
skipped checks are listed, each with its reason, in the chart's .checkov.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from canaria.cli.chart_tools import tools_dir
from tests.charts.helm import APP_CHART, OPERATOR_CHART, ROOT

pytestmark = pytest.mark.slow  # checkov renders the chart with helm and runs ~200 checks


def checkov() -> str:
    """checkov lives in its own virtualenv (`make tools`): its pins clash with ours."""
    own = tools_dir() / "checkov" / "bin" / "checkov"
    found = str(own) if own.exists() else shutil.which("checkov")
    if found is None:
        pytest.skip(f"checkov is not installed on this machine: `make tools` puts it in {own}")
    return found


@pytest.mark.parametrize("chart", [APP_CHART, OPERATOR_CHART], ids=lambda c: c.name)
def test_no_failed_checks(chart: Path, helm3: Path) -> None:
    config = chart / ".checkov.yaml"
    skips = yaml.safe_load(config.read_text())["skip-check"]
    text = config.read_text()
    for check in skips:  # each skip has its reason in a comment just above it
        above = text.split(f"  - {check}")[0].rstrip().splitlines()[-1]
        assert above.strip().startswith("#"), f"{check}: no reason given"
    env = {**os.environ, "PATH": f"{helm3.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            checkov(),
            "-d",
            str(chart),
            "--config-file",
            str(config),
            "--framework",
            "helm",
            "--skip-download",
            "--compact",
            "--quiet",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
        cwd=ROOT,
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [f"{c['check_id']} {c['resource']}" for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50  # it did look at the rendered objects
