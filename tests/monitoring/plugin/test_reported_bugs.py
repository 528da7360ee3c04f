"""Issue 12's bugs, one test each: they failed on the code before the fix."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from canaria.cli import main as canaria
from canaria.testing.running import VENV_BIN, running
from monitoring import kubectl_plugin
from monitoring.api.status import Phase, RolloutStatus
from monitoring.operator.state import StateFile, default_state_dir, state_path_for
from tests.monitoring.plugin.operators import (
    ROLLOUT_PATH,
    local_operator,
    serving_metrics,
    stub_cluster,
    write_local_rollout,
)


def test_canaria_rollout_help_lists_the_plugin_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        canaria(["rollout", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for word in ("status", "list", "promote", "abort", "retry", "lint", "--namespace"):
        assert word in out


@pytest.mark.parametrize(
    "argv",
    [
        ["canaria", "rollout", "-n", "ml", "status", "churn"],
        ["canaria", "rollout", "status", "churn", "-n", "ml"],
        ["kubectl-canaria", "status", "churn", "-n", "ml"],
        ["kubectl-canaria", "status", "-n", "ml", "churn"],
        ["kubectl-canaria", "-n", "ml", "status", "churn"],
        ["kubectl-canaria", "status", "churn", "--namespace=ml", "--context", "stub"],
    ],
)
def test_global_flags_work_in_any_position(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        # --kubeconfig at the very end, after the sub-command and its NAME, as kubectl allows
        args = [*argv[1:], "--kubeconfig", config]
        code = canaria(args) if argv[0] == "canaria" else kubectl_plugin.main(args)
        assert code == 0, capsys.readouterr().err
        assert cluster.requests("GET", ROLLOUT_PATH), "the rollout was not read in namespace ml"
    assert "churn" in capsys.readouterr().out


def test_a_flag_before_the_sub_command_is_not_reset_by_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        assert kubectl_plugin.main(["--kubeconfig", config, "-n", "ml", "status", "churn"]) == 0
        assert cluster.requests("GET", ROLLOUT_PATH)


@pytest.mark.slow
def test_the_operator_without_a_cluster_says_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KUBERNETES_"))}
    env["HOME"] = str(tmp_path)  # no ~/.kube/config
    done = subprocess.run(
        [str(VENV_BIN / "canaria"), "operator"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 4
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: no Kubernetes configuration")
    assert "--kubeconfig" in line and "--local" in line


def test_operator_help_names_the_real_state_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        canaria(["operator", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "FILE.state.json" not in out
    assert "NAME-HASH.state.json" in out
    assert str(default_state_dir()) in out.replace(" ", "")  # a long path is wrapped
    assert "exit codes" in out


@pytest.mark.slow
def test_local_state_stays_out_of_the_source_tree_and_logs_each_decision_once(
    tmp_path: Path, state_dir: Path
) -> None:
    """The operator on a rollout file: nothing is written beside the file, no lock is
    left after a clean exit, each decision is logged once, and no HTTP call is logged."""
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    with serving_metrics() as metrics_url:
        path = write_local_rollout(workdir / "churn.yaml")
        doc = path.read_text().replace("http://127.0.0.1:9/metrics", metrics_url)
        path.write_text(doc)
        log = tmp_path / "operator.log"
        with running(
            ["canaria", "operator", "--local", str(path)], log_path=log, ready_path=None
        ) as operator:
            deadline = time.monotonic() + 60
            while len(_history(path)) < 3:
                assert operator.running() and time.monotonic() < deadline, operator.log()
                time.sleep(0.1)
    assert sorted(p.name for p in workdir.iterdir()) == ["churn.yaml"]
    assert [p.name for p in state_dir.iterdir()] == [state_path_for(path).name]  # no .lock
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in lines]
    for entry in _history(path):
        assert messages.count(entry["message"]) == 1, messages
    assert not [m for m in messages if "HTTP Request" in m]


def _history(path: Path) -> list[dict[str, object]]:
    if not state_path_for(path).exists():
        return []
    return list((StateFile(state_path_for(path)).read().get("status") or {}).get("history") or [])


@pytest.mark.parametrize("phase", [Phase.SUCCEEDED, Phase.FAILED])
def test_an_action_that_cannot_apply_is_refused_with_the_reason(
    phase: Phase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_local_rollout(tmp_path / "churn.yaml")
    operator = local_operator(path)
    operator.reconciler.reconcile(operator.ref)  # started
    state = StateFile(state_path_for(path))
    stored = RolloutStatus.from_dict(state.read()["status"])
    finished = RolloutStatus(**{**stored.__dict__, "phase": phase, "canary_weight": 0})
    state.update(lambda data: data.update(status=finished.to_dict()))

    code = canaria(["rollout", "promote", "--local", str(path)])
    assert code == 5
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot promote churn-local: phase {phase.value}")
    assert state.read()["action"] is None  # nothing was sent


def test_a_refused_action_sends_nothing_to_the_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        cluster.rollout["status"] = {"phase": "Succeeded", "stableModel": {"bentoTag": "x:v2"}}
        code = kubectl_plugin.main(["promote", "churn", "-n", "ml", "--kubeconfig", config])
        assert code == 5
        assert cluster.requests("PATCH", ROLLOUT_PATH) == []
    assert "phase Succeeded: x:v2 is already the stable model" in capsys.readouterr().err
