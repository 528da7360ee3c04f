"""``status --watch`` exit codes (stub API server and local mode), ``get``/``list`` and
``-o json|yaml``, and the live view."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from monitoring import kubectl_plugin
from monitoring.plugin.live import rollout_view
from monitoring.plugin.render import format_list
from monitoring.plugin.sources import LocalSource
from monitoring.plugin.watch import Watch, follow
from tests.monitoring.operator.conftest import ERRORS
from tests.monitoring.plugin.operators import (
    ALL_PATH,
    LIST_PATH,
    cluster_operator,
    local_operator,
    stub_cluster,
    write_local_rollout,
)

WATCH = ["--watch", "--poll-interval", "0.02", "--timeout", "30s"]


@pytest.mark.parametrize(
    ("values", "code", "phase"), [(None, 0, "Succeeded"), (ERRORS, 1, "Failed")]
)
def test_status_watch_exits_by_the_final_phase_against_the_api_server(
    values: dict[str, float] | None,
    code: int,
    phase: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with stub_cluster(tmp_path, values=values) as (cluster, config):  # noqa: SIM117
        # Each state lasts half a second: the watch (polling every 20 ms) sees every one
        # even on a loaded machine (with 20 ms ticks it could miss the 10 % step).
        with cluster_operator(cluster, step=30, period=0.5).running():
            argv = ["status", "churn", *WATCH, "-n", "ml", "--kubeconfig", config]
            assert kubectl_plugin.main(argv) == code
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith(f"churn: {phase} canary 0%")  # one line per change, no TTY
    assert any(" 10% " in line for line in lines)


@pytest.mark.parametrize(
    ("values", "code", "phase"), [(None, 0, "Succeeded"), (ERRORS, 1, "Failed")]
)
def test_status_watch_exits_by_the_final_phase_in_local_mode(
    values: dict[str, float] | None,
    code: int,
    phase: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_local_rollout(tmp_path / "churn.yaml")
    with local_operator(path, values=values, step=1).running():
        assert kubectl_plugin.main(["status", "--local", str(path), *WATCH]) == code
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"churn-local: {phase}")


def test_status_watch_times_out_with_its_own_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_local_rollout(tmp_path / "churn.yaml")
    operator = local_operator(path)  # the clock stands still: the rollout never finishes
    operator.reconciler.reconcile(operator.ref)
    argv = [
        "status",
        "--local",
        str(path),
        "--watch",
        "--poll-interval",
        "0.02",
        "--timeout",
        "0.2",
    ]
    assert kubectl_plugin.main(argv) == 3
    assert "timed out after 0.2s waiting for churn-local (phase Progressing)" in (
        capsys.readouterr().err
    )


def test_status_without_watch_exits_by_the_phase_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        base = ["status", "churn", "-n", "ml", "--kubeconfig", config]
        cluster.reconciler.reconcile(cluster_operator(cluster).ref)
        assert kubectl_plugin.main(base) == 0  # progressing is healthy
        cluster.rollout["status"]["phase"] = "RolledBack"
        assert kubectl_plugin.main(base) == 1
        assert kubectl_plugin.main(["get", *base[1:]]) == 0  # get only shows
    assert "Last analysis" not in capsys.readouterr().out  # none ran yet


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_read_commands_print_json_and_yaml(
    output: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load = json.loads if output == "json" else yaml.safe_load
    with stub_cluster(tmp_path) as (cluster, config):
        cluster.reconciler.reconcile(cluster_operator(cluster).ref)
        flags = ["-o", output, "--kubeconfig", config, "-n", "ml"]
        for command in (["status", "churn"], ["get", "churn"]):
            assert kubectl_plugin.main([*command, *flags]) == 0
            one = load(capsys.readouterr().out)
            assert one["metadata"]["name"] == "churn"
            assert one["status"]["canaryWeight"] == 10
        assert kubectl_plugin.main(["list", *flags]) == 0
        listed = load(capsys.readouterr().out)
        assert listed["kind"] == "List" and [i["metadata"]["name"] for i in listed["items"]] == [
            "churn"
        ]
        assert kubectl_plugin.main(["list", "-A", "-o", "name", "--kubeconfig", config]) == 0
        assert capsys.readouterr().out.strip() == "modelrollout/churn"
        assert cluster.kube.requests_matching("GET", ALL_PATH)
        assert cluster.kube.requests_matching("GET", LIST_PATH)


def test_list_has_kubectl_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with stub_cluster(tmp_path) as (cluster, config):
        cluster.reconciler.reconcile(cluster_operator(cluster).ref)
        cluster.rollout["metadata"]["creationTimestamp"] = "2025-01-01T11:00:00Z"
        assert kubectl_plugin.main(["list", "-A", "--kubeconfig", config]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "NAMESPACE", "NAME", "PHASE", "WEIGHT", "STEP", "STABLE", "CANARY", "FAILED", "AGE",
    ]  # fmt: skip
    assert row.split()[:8] == [
        "ml", "churn", "Progressing", "10%", "0/2",
        "churn-classifier:v1", "churn-classifier:v2", "0",
    ]  # fmt: skip
    assert row.split()[8].endswith("d")  # created long ago


def test_age_and_missing_times() -> None:
    from datetime import UTC, datetime

    obj: dict[str, Any] = {"metadata": {"name": "a", "creationTimestamp": "2025-01-01T12:00:00Z"}}
    now = datetime(2025, 1, 1, 12, 5, 30, tzinfo=UTC)
    assert format_list([obj], now=now).splitlines()[1].split()[-1] == "5m"
    assert format_list([{"metadata": {"name": "b"}}], now=now).splitlines()[1].split()[-1] == "-"


def _progressed(tmp_path: Path) -> tuple[LocalSource, dict[str, Any]]:
    path = write_local_rollout(tmp_path / "churn.yaml")
    operator = local_operator(path, step=1)
    for _ in range(2):  # start, then an analysis that advances
        operator.reconciler.reconcile(operator.ref)
        operator.clock.advance(1)
    source = LocalSource([path], state_dir=None)
    return source, source.get(None)


def test_the_live_view_shows_weights_checks_against_limits_and_history(tmp_path: Path) -> None:
    _, obj = _progressed(tmp_path)
    console = Console(record=True, width=140, file=io.StringIO())
    console.print(rollout_view(obj))
    text = console.export_text()
    assert "default/churn-local" in text and "Progressing" in text and "step 1/3" in text
    assert "stable" in text and " 60%" in text and "canary" in text and " 40%" in text
    check = next(line for line in text.splitlines() if "success-rate" in line)
    assert "pass" in check and "1.00" in check and ">= 0.99" in check
    assert "start" in text and "advance" in text  # the decision history


def test_watch_redraws_in_place_on_a_terminal(tmp_path: Path) -> None:
    source, _ = _progressed(tmp_path)
    state = source.paths[0]
    operator = local_operator(state, step=1)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with operator.running():
        code = follow(source, "churn-local", Watch(poll=0.02, timeout=30), console=console)
    assert code == 0
    drawn = out.getvalue()
    assert "\x1b[2K" in drawn or "\x1b[1A" in drawn  # lines erased and redrawn, not appended
    assert "Succeeded" in drawn
