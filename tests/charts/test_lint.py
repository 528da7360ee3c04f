"""``helm lint --strict`` of both charts with Helm 3 and Helm 4, and the install notes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.charts.helm import APP_CHART, OPERATOR_CHART, helm_run

pytestmark = pytest.mark.slow  # runs a real helm


@pytest.mark.parametrize("chart", [APP_CHART, OPERATOR_CHART], ids=lambda c: c.name)
def test_lint_strict(helm: Path, chart: Path) -> None:
    result = helm_run(helm, "lint", "--strict", chart)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_lint_strict_fails_on_a_broken_template(helm: Path, tmp_path: Path) -> None:
    """The lint can fail: a template with an unclosed action is reported."""
    broken = tmp_path / "canaria"
    subprocess.run(["cp", "-r", str(APP_CHART), str(broken)], check=True)
    (broken / "templates" / "broken.yaml").write_text("kind: {{ .Values.model.kind\n")
    assert helm_run(helm, "lint", "--strict", broken).returncode != 0


def test_notes_tell_how_to_watch_and_roll_back(helm4: Path) -> None:
    # Helm 4 renders NOTES.txt in a client-side dry run (Helm 3 insists on a cluster).
    result = subprocess.run(
        [
            str(helm4),
            "install",
            "churn",
            str(APP_CHART),
            "-n",
            "ml",
            "--dry-run=client",
            "--set",
            "canary.bentoTag=churn-classifier:v2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "kubectl canaria status churn -n ml --watch" in notes
    assert "kubectl canaria rollback churn -n ml" in notes
    assert "canaria.dev/action=rollback" in notes
    assert "Candidate:    ghcr.io/canaria/churn-classifier:v2" in notes
    assert "create secret generic churn-router-admin" in notes
