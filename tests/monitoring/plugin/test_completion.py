"""``--version`` and bash/zsh completion for both commands (shtab)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from canaria.cli import main as canaria
from monitoring import kubectl_plugin


@pytest.mark.parametrize("run", [canaria, kubectl_plugin.main])
def test_version(run: object, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["--version"])  # type: ignore[operator]
    assert exited.value.code == 0
    out = capsys.readouterr().out.split()
    assert out[0] in ("canaria", "kubectl-canaria") and out[1][0].isdigit()


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_know_commands_flags_and_rollout_names(
    shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kubectl_plugin.main(["completion", shell]) == 0
    plugin = capsys.readouterr().out
    for word in ("promote", "abort", "retry", "lint", "--namespace", "--watch", "--no-wait"):
        assert word in plugin
    assert "kubectl-canaria list -o name" in plugin  # rollout names come from the cluster
    assert canaria(["completion", shell]) == 0
    top = capsys.readouterr().out
    for word in ("train", "operator", "rollout", "promote", "--log-format"):
        assert word in top
    script = tmp_path / f"completion.{shell}"
    script.write_text(plugin)
    binary = shutil.which(shell)
    if binary is None:
        print(f"{shell} is not installed on this machine: syntax not checked")
        return
    checked = subprocess.run([binary, "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_bash_completes_commands_and_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kubectl_plugin.main(["completion", "bash"]) == 0
    script = tmp_path / "kubectl-canaria.bash"
    script.write_text(capsys.readouterr().out)
    binary = shutil.which("bash")
    if binary is None:
        print("bash is not installed on this machine: completion not exercised")
        return
    probe = (
        f"source {script}; "
        "COMP_WORDS=(kubectl-canaria pro); COMP_CWORD=1; _shtab_kubectl_canaria; "
        'echo "${COMPREPLY[@]}"; '
        "COMP_WORDS=(kubectl-canaria status --wa); COMP_CWORD=2; _shtab_kubectl_canaria; "
        'echo "${COMPREPLY[@]}"'
    )
    done = subprocess.run([binary, "-c", probe], capture_output=True, text=True, check=False)
    assert done.stdout.split("\n")[:2] == ["promote", "--watch"], done.stderr
