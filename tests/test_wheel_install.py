"""The wheel tells the truth: installed with no extras into a fresh venv, the router and
the classic service work, and nothing on their path needs torch or transformers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it into a fresh venv

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_IGNORED = (".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")
INSTALL_TIMEOUT = 900  # uv, cold cache, busy 2-core machine: well under this
UV = Path(sys.executable).parent / "uv"  # the dev extra's pinned uv, beside this Python

# This machine's pip configuration (``pip config list``), given to uv (which reads no pip
# configuration) only where the paths exist, so a fresh machine installs from PyPI alone.
LOCAL_INDEXES = (Path("/opt/pypi/simple"), Path("/opt/pypi-more/simple"))
LOCAL_WHEELS = Path("/opt/wheels")
PIP_CONSTRAINTS = Path("/etc/xdg/pip/constraints.txt")


def uv_install_options(
    *,
    indexes: tuple[Path, ...] = LOCAL_INDEXES,
    wheels: Path = LOCAL_WHEELS,
    constraints: Path = PIP_CONSTRAINTS,
) -> list[str]:
    """uv options equal to pip's configuration here: each local index, the wheel folder
    and the constraints file that exist; pip's best match over every index (uv's default
    takes the first index naming a package); the system's certificates, as pip has."""
    options = ["--index-strategy", "unsafe-best-match", "--native-tls"]
    for index in indexes:
        if index.is_dir():
            options += ["--extra-index-url", index.as_uri()]
    if wheels.is_dir():
        options += ["--find-links", str(wheels)]
    if constraints.is_file():
        options += ["--constraint", str(constraints)]
    return options


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
    # Built from a clean copy: a checkout's build/ may hold modules that no longer exist.
    source = work / "src"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*BUILD_IGNORED))
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)],
        cwd=work,
    )
    (wheel,) = dist.glob("canaria-*.whl")
    venv = work / "venv"
    _run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=work)
    python = str(venv / "bin" / "python")
    _run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            python,
            *uv_install_options(),
            str(wheel),
        ],
        cwd=work,
        timeout=INSTALL_TIMEOUT,
    )
    return venv / "bin"


def test_uv_gets_only_the_pip_settings_whose_paths_exist(tmp_path: Path) -> None:
    index = tmp_path / "simple"
    index.mkdir()
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy<3\n")
    options = uv_install_options(
        indexes=(index, tmp_path / "missing"),
        wheels=tmp_path / "no-wheels",
        constraints=constraints,
    )
    assert options == [
        "--index-strategy",
        "unsafe-best-match",
        "--native-tls",
        "--extra-index-url",
        index.as_uri(),
        "--constraint",
        str(constraints),
    ]
    assert "--find-links" not in uv_install_options(wheels=tmp_path / "none")


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
