"""The README's promises: its two commands, and ModelRollout examples the CRD accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring.api.spec import parse_spec
from tests.k8s.test_crd import errors_for

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()


def yaml_blocks() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.DOTALL)
    return [yaml.safe_load(block) for block in blocks]


def rollout_examples() -> list[dict[str, Any]]:
    return [block for block in yaml_blocks() if block.get("kind") == "ModelRollout"]


def test_readme_shows_the_two_commands_first() -> None:
    first_code_block = re.search(r"```bash\n(.*?)```", TEXT, flags=re.DOTALL)
    assert first_code_block is not None
    assert "make demo" in first_code_block.group(1)
    assert "make test" in first_code_block.group(1)


def test_readme_has_a_rollout_example() -> None:
    assert rollout_examples(), "README.md shows no ModelRollout"


@pytest.mark.parametrize("index", range(len(rollout_examples())))
def test_readme_rollouts_are_accepted_by_the_crd_and_the_parser(index: int) -> None:
    rollout = rollout_examples()[index]
    assert errors_for(rollout) == []
    parse_spec(rollout["spec"])


def test_every_linked_file_exists() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", TEXT)
    missing = [link for link in links if not (README.parent / link).exists()]
    assert missing == []


# --- the command line, exactly as the README writes it ------------------------------------

# Every `kubectl canaria` / `canaria rollout` line of the README's bash blocks, what it
# needs first, and the exit code it must give against the stub API server (or locally).
CLI_COMMANDS: dict[str, tuple[str, int]] = {
    "kubectl canaria list -A": ("started", 0),
    "kubectl canaria status churn -n ml": ("started", 0),
    "kubectl canaria status churn -n ml --watch --timeout 10m": ("running", 0),
    "kubectl canaria get churn -n ml -o yaml": ("started", 0),
    "kubectl canaria promote churn -n ml": ("started", 0),
    "kubectl canaria abort churn -n ml": ("started", 0),
    "kubectl canaria retry churn -n ml": ("aborted", 0),
    "kubectl canaria pause churn -n ml --no-wait": ("started", 0),
    "kubectl canaria rollback churn -n ml --dry-run": ("started", 0),
    "kubectl canaria rollback churn -n ml": ("started", 0),
    "kubectl canaria lint k8s/examples/churn-canary.yaml": ("started", 0),
    "canaria rollout status --local k8s/examples/churn-local.yaml": ("local", 0),
}


def documented_cli_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", TEXT, flags=re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(("kubectl canaria ", "canaria rollout "))]


def test_every_documented_cli_command_is_tested() -> None:
    assert sorted(set(documented_cli_commands())) == sorted(CLI_COMMANDS)


@pytest.mark.parametrize("command", sorted(CLI_COMMANDS))
def test_documented_cli_command_runs_as_written(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kubernetes.config import kube_config

    from canaria.cli import main as canaria
    from monitoring import kubectl_plugin
    from tests.monitoring.plugin.operators import cluster_operator, stub_cluster

    setup, code = CLI_COMMANDS[command]
    monkeypatch.chdir(README.parent)
    words = shlex.split(command)
    before = sorted(p.name for p in (README.parent / "k8s" / "examples").iterdir())
    with stub_cluster(tmp_path) as (cluster, config):
        # kubectl runs the plugin with the user's $KUBECONFIG; the client reads it at import.
        monkeypatch.setenv("KUBECONFIG", config)
        monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", config)
        operator = cluster_operator(cluster, step=30 if setup == "running" else 0)
        operator.reconciler.reconcile(operator.ref)
        if setup == "aborted":
            cluster.edit(lambda obj: obj["metadata"].setdefault("annotations", {}).update(
                {"canaria.dev/action": "abort"}
            ))  # fmt: skip
            operator.reconciler.reconcile(operator.ref)
            assert cluster.rollout["status"]["phase"] == "Aborted"
        run = (lambda: kubectl_plugin.main(words[2:])) if words[0] == "kubectl" else None
        with operator.running():
            result = run() if run is not None else canaria(words[1:])
    captured = capsys.readouterr()
    assert result == code, captured.err
    assert captured.out.strip()
    assert sorted(p.name for p in (README.parent / "k8s" / "examples").iterdir()) == before


@pytest.mark.slow
def test_the_documented_local_operator_writes_nothing_beside_the_example(
    tmp_path: Path, state_dir: Path
) -> None:
    """`canaria operator --local k8s/examples/churn-local.yaml`, as written, from the
    repository root: its state goes to the state directory, and it stops cleanly."""
    import time

    from canaria.testing.running import running

    command = "canaria operator --local k8s/examples/churn-local.yaml"
    assert f"`{command}`" in TEXT
    examples = README.parent / "k8s" / "examples"
    before = sorted(p.name for p in examples.iterdir())
    with running(shlex.split(command), log_path=tmp_path / "op.log", ready_path=None) as op:
        deadline = time.monotonic() + 60
        while not list(state_dir.glob("churn-local-*.state.json")):
            assert op.running() and time.monotonic() < deadline, op.log()
            time.sleep(0.1)
    assert op.popen.returncode == 0, op.log()
    assert sorted(p.name for p in examples.iterdir()) == before
    assert [p.name for p in state_dir.iterdir() if p.suffix == ".lock"] == []
