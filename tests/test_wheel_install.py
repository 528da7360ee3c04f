"""The wheel tells the truth: installed with no extras into a fresh venv, the router and
the classic service work, and nothing on their path needs torch or transformers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it into a fresh venv

REPO_ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 1800  # a cold pip cache on a busy 2-core machine took 18 min


def _run(
    args: list[str], *, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> str:
    # No PYTHONPATH pointing at this checkout and no venv of ours: only the wheel counts.
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env = {**clean, **(env or {})}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO_ROOT)],
        cwd=work,
    )
    (wheel,) = dist.glob("canaria-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        cwd=work,
        timeout=INSTALL_TIMEOUT,
    )
    return venv / "bin"


def test_no_extra_installs_neither_torch_nor_transformers(venv_bin: Path, tmp_path: Path) -> None:
    code = (
        "import importlib.util as u; "
        "print([m for m in ('torch', 'transformers') if u.find_spec(m)])"
    )
    assert _run([str(venv_bin / "python"), "-c", code], cwd=tmp_path).strip() == "[]"


@pytest.mark.parametrize("command", [["router", "--help"], ["train", "classic", "--help"]])
def test_the_cli_runs_without_the_llm_extra(
    venv_bin: Path, tmp_path: Path, command: list[str]
) -> None:
    assert "usage: canaria" in _run([str(venv_bin / "canaria"), *command], cwd=tmp_path)


def test_the_router_and_the_classic_service_import_without_the_llm_extra(
    venv_bin: Path, tmp_path: Path
) -> None:
    code = (
        "import sys; "
        "import services.classic.service, services.router.app, services.router.server; "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    env = {
        "BENTOML_HOME": str(tmp_path / "bentoml"),
        "CANARIA_CLASSIC_MODEL_TAG": "churn-classifier:none",
    }
    out = _run([str(venv_bin / "python"), "-c", code], cwd=tmp_path, env=env)
    assert out.strip().splitlines()[-1] == "[]"
