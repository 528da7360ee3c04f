"""``lint FILE...``: every problem of a bad file at once, with field paths; unknown fields
as unknown; the shipped examples are clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from canaria.cli import main as canaria
from monitoring import kubectl_plugin
from monitoring.plugin.lint import field_path, lint_file

ROOT = Path(__file__).resolve().parents[3]
BAD = """\
apiVersion: canaria.dev/v1alpha1
kind: ModelRollout
metadata: {name: churn}
spec:
  target:
    stable: {bentoTag: "churn-classifier:v1"}
    canary: {bentoTag: "churn-classifier:v2"}
  trafficProvider: {name: router, router: {adminUrl: "http://router:8080"}}
  analysis:
    interval: 30 seconds
    stepWieght: 10
    failureLimit: -1
    checks:
      - {name: success-rate, builtin: requestSuccessRate, min: 0.99}
      - {name: success-rate, builtin: latencyP99, max: 0.5, colour: red}
"""


def test_a_bad_file_gets_every_problem_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert kubectl_plugin.main(["lint", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    pattern = "' does not match '"  # the CRD's duration regex, whatever it is today
    lines = [
        line.split(pattern)[0] + "' does not match the CRD's pattern" if pattern in line else line
        for line in lines
    ]
    assert lines == [
        f"{path}: spec.analysis.stepWieght: unknown field (did you mean stepWeight?)",
        f"{path}: spec.analysis.checks[1].colour: unknown field (known: name, builtin, query, "
        "min, max, comparison, window)",
        f"{path}: spec.analysis.failureLimit: -1 is less than the minimum of 0",
        f"{path}: spec.analysis.interval: '30 seconds' does not match the CRD's pattern",
        f"{path}: spec.analysis.checks[1].name: duplicate check name 'success-rate'",
        f"{path}: 5 problems",
    ]
    assert not any("needs stepWeight" in line for line in lines)  # the typo, not its effect


def test_the_shipped_examples_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    examples = sorted(str(p) for p in (ROOT / "k8s" / "examples").glob("*.yaml"))
    assert canaria(["rollout", "lint", *examples]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{p}: ok" for p in examples]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: ModelRollout\nspec: [unclosed\n", "line 3, column 1: not valid YAML"),
        ("", "(file): no ModelRollout in the file"),
        ("kind: Deployment\nmetadata: {name: a}\nspec: {}\n", "kind: must be ModelRollout"),
        ("apiVersion: canaria.dev/v1alpha1\nkind: ModelRollout\nspec: {}\n",
         "metadata.name: required field missing"),
    ],
)  # fmt: skip
def test_files_that_are_not_rollouts_are_named(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    assert any(str(p).startswith(problem) for p in lint_file(path)), lint_file(path)


def test_several_documents_are_numbered(tmp_path: Path) -> None:
    good = (ROOT / "k8s" / "examples" / "churn-canary.yaml").read_text()
    path = tmp_path / "two.yaml"
    path.write_text(good + "\n---\n" + good.replace("failureLimit", "failureLimmit"))
    assert [str(p).split(":")[0] for p in lint_file(path)] == ["#2 spec.analysis.failureLimmit"]


def test_a_missing_file_and_a_missing_crd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kubectl_plugin.main(["lint", str(tmp_path / "none.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().out
    argv = ["lint", str(tmp_path / "none.yaml"), "--crd", str(tmp_path / "crd.yaml")]
    assert kubectl_plugin.main(argv) == 4
    assert "pass --crd FILE" in capsys.readouterr().err


def test_field_paths() -> None:
    assert field_path(["spec", "analysis", "checks", 1, "max"]) == "spec.analysis.checks[1].max"
    assert field_path([]) == "(top)"
