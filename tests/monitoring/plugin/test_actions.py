"""Actions wait until the operator applied them and say what changed; ``--no-wait``,
``--dry-run``, the wait's timeout; against the stub API server and in local mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring import kubectl_plugin
from monitoring.operator.state import StateFile, state_path_for
from tests.monitoring.plugin.operators import (
    ROLLOUT_PATH,
    cluster_operator,
    local_operator,
    stub_cluster,
    write_local_rollout,
)

ACTION_PATCH = "canaria.dev/action"


@pytest.mark.parametrize(
    ("argv", "applied"),
    [
        (["promote"], "applied: canary 10% -> 50%, step 0 -> 1: manual promote: advancing to 50%"),
        (["promote", "--full"], "applied: phase Progressing -> Promoting, canary 10% -> 100%"),
        (["abort"], "applied: phase Progressing -> Aborted, canary 10% -> 0%: aborted: traffic"),
        (["pause"], "applied: phase Progressing -> Paused: paused by a pause action"),
        (["rollback"], "applied: phase Progressing -> RolledBack, canary 10% -> 0%"),
    ],
)
def test_an_action_waits_for_the_operator_and_says_what_changed(
    argv: list[str], applied: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        operator = cluster_operator(cluster)
        operator.reconciler.reconcile(operator.ref)  # started at 10%
        with operator.running():
            code = kubectl_plugin.main([*argv, "churn", "-n", "ml", "--kubeconfig", config])
        assert code == 0, capsys.readouterr().err
        assert "canaria.dev/action" not in cluster.rollout["metadata"].get("annotations", {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{argv[0]}{'-full' if '--full' in argv else ''} requested for churn")
    assert out[1].startswith(applied)


def test_abort_then_retry_then_resume_after_pause_in_local_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_local_rollout(tmp_path / "churn.yaml")
    operator = local_operator(path)
    operator.reconciler.reconcile(operator.ref)
    with operator.running():
        for action, change in (
            ("abort", "phase Progressing -> Aborted"),
            ("retry", "phase Aborted -> Progressing, canary 0% -> 20%: retry of canary"),
            ("pause", "phase Progressing -> Paused"),
            ("resume", "phase Paused -> Progressing"),
        ):
            assert kubectl_plugin.main([action, "--local", str(path)]) == 0
            assert f"applied: {change}" in capsys.readouterr().out


def test_no_wait_only_asks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        cluster.reconciler.reconcile(cluster_operator(cluster).ref)
        argv = ["rollback", "churn", "-n", "ml", "--kubeconfig", config, "--no-wait"]
        assert kubectl_plugin.main(argv) == 0
        (patch,) = cluster.requests("PATCH", ROLLOUT_PATH)
        assert patch.body == {"metadata": {"annotations": {ACTION_PATCH: "rollback"}}}
    assert "applies it at its next tick" in capsys.readouterr().out


def test_an_operator_that_does_not_apply_it_times_out_and_leaves_it_pending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_local_rollout(tmp_path / "churn.yaml")
    operator = local_operator(path)
    operator.reconciler.reconcile(operator.ref)  # then the operator stops
    argv = ["pause", "--local", str(path), "--wait-timeout", "0.3"]
    assert kubectl_plugin.main(argv) == 3
    assert "has not applied pause to churn-local within 0.3s" in capsys.readouterr().err
    assert StateFile(state_path_for(path)).read()["action"] == "pause"


def test_dry_run_validates_and_previews_without_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_local_rollout(tmp_path / "churn.yaml")
    operator = local_operator(path)
    operator.reconciler.reconcile(operator.ref)
    assert kubectl_plugin.main(["promote", "--full", "--local", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: promote-full churn-local would change phase Progressing -> Promoting" in out
    assert StateFile(state_path_for(path)).read()["action"] is None

    path.write_text(path.read_text().replace("failureLimit", "failureLimmit"))
    assert kubectl_plugin.main(["abort", "--local", str(path), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "spec.analysis.failureLimmit: unknown field (did you mean failureLimit?)" in out
