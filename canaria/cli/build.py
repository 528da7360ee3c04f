"""``canaria build [classic|llm|all|operator|router]``: build the bentos or the images.

``classic``, ``llm`` and ``all`` (the two) build bentos, as below. ``operator`` and
``router`` build the operator's and the router's container images with ``docker build``
(Dockerfiles ``monitoring/operator/Dockerfile`` and ``services/router/Dockerfile``, context
the project root; see ``canaria.cli.images``); ``--dry-run`` prints the command instead of
running it (no Docker engine needed), ``--registry`` and ``--tag`` name the image.

Each target is one ``bentoml build`` run in a subprocess, from the project root (the
bentofiles' ``include`` paths are relative to it): ``bentofile.yaml`` for the classic CPU
service, ``services/llm/bentofile.yaml`` for the CUDA LLM service. The model each bento
packs is the one its service declares: set ``CANARIA_CLASSIC_MODEL_TAG`` or
``CANARIA_LLM_MODEL`` to choose another than the latest. Building writes the bento and
its Dockerfile (``env/docker/Dockerfile``); it needs no Docker engine.

``bentoml build`` imports the service to record its configuration, but does not apply the
bentofile's image environment while doing so: the LLM build therefore runs with
``CANARIA_LLM_GPU=1`` (unless set otherwise), so that the bento's recorded resources ask
for the GPU its CUDA image is made for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess  # nosec B404 # bentoml and docker run with argument lists, never a shell
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from canaria import __version__
from canaria.cli.images import DEFAULT_REGISTRY, docker_build_command, image_ref
from services.llm.config import ENV_GPU

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TAG_PREFIX = "__tag__:"


class BuildTarget(StrEnum):
    """Which bento to build."""

    CLASSIC = "classic"
    LLM = "llm"
    ALL = "all"
    OPERATOR = "operator"
    ROUTER = "router"


IMAGE_TARGETS = (BuildTarget.OPERATOR, BuildTarget.ROUTER)


BENTOFILES: dict[BuildTarget, str] = {
    BuildTarget.CLASSIC: "bentofile.yaml",
    BuildTarget.LLM: "services/llm/bentofile.yaml",
}
# Environment each build defaults, where the caller's environment leaves it empty.
BUILD_DEFAULTS: dict[BuildTarget, dict[str, str]] = {
    BuildTarget.CLASSIC: {},
    BuildTarget.LLM: {ENV_GPU: "1"},
}


@dataclass(frozen=True)
class BuildResult:
    """The outcome of one ``bentoml build``: the bento tag, or the error output."""

    target: BuildTarget
    tag: str | None
    error: str = ""


def targets_for(choice: BuildTarget) -> list[BuildTarget]:
    """The bentos a choice builds, in build order (pure)."""
    return [BuildTarget.CLASSIC, BuildTarget.LLM] if choice is BuildTarget.ALL else [choice]


def parse_tag(output: str) -> str | None:
    """The bento tag in ``bentoml build -o tag`` output (pure)."""
    for line in reversed(output.splitlines()):
        if line.strip().startswith(TAG_PREFIX):
            return line.strip()[len(TAG_PREFIX) :]
    return None


def build_environment(target: BuildTarget, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the target's build defaults filled in where unset or empty (pure)."""
    env = dict(environ)
    for name, value in BUILD_DEFAULTS[target].items():
        if not env.get(name, "").strip():
            env[name] = value
    return env


def _bentoml_executable() -> str | None:
    """The absolute path of ``bentoml``: this interpreter's own first, else PATH's."""
    beside = Path(sys.executable).parent / "bentoml"
    return str(beside) if beside.exists() else shutil.which("bentoml")


def build_bento(target: BuildTarget, *, project_root: Path) -> BuildResult:
    """Run ``bentoml build`` for one target from ``project_root``."""
    bentofile = project_root / BENTOFILES[target]
    if not bentofile.is_file():
        return BuildResult(target, None, f"{bentofile} does not exist")
    bentoml = _bentoml_executable()
    if bentoml is None:
        return BuildResult(target, None, "bentoml not found beside this Python nor on PATH")
    command = [bentoml, "build", "-f", str(bentofile), "-o", "tag", str(project_root)]
    completed = subprocess.run(  # nosec B603 # argv: resolved bentoml path and fixed flags
        command,
        cwd=project_root,
        capture_output=True,
        text=True,
        check=False,
        env=build_environment(target, os.environ),
    )
    tag = parse_tag(completed.stdout) if completed.returncode == 0 else None
    if tag is None:
        output = (completed.stderr or completed.stdout).strip()
        return BuildResult(target, None, "\n".join(output.splitlines()[-20:]))
    return BuildResult(target, tag)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "build",
        help="build the classic (CPU) and LLM (CUDA) bentos",
        description="Run bentoml build for the classic and/or LLM service; print the tags.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        default=BuildTarget.ALL.value,
        choices=[target.value for target in BuildTarget],
        help="which bento to build (default: all)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_ROOT,
        help="the project root holding the bentofiles (default: this checkout)",
    )
    parser.add_argument("--json", action="store_true", help="print {target: tag} as JSON")
    parser.add_argument(
        "--registry", default=DEFAULT_REGISTRY, help="operator/router: image registry prefix"
    )
    parser.add_argument("--tag", default=__version__, help="operator/router: image tag")
    parser.add_argument(
        "--dry-run", action="store_true", help="operator/router: print the docker command only"
    )
    parser.set_defaults(handler=_build)


def build_image(args: argparse.Namespace) -> int:
    """``docker build`` one image (or print the command with ``--dry-run``)."""
    image = image_ref(args.target, registry=args.registry, tag=args.tag)
    try:
        command = docker_build_command(
            args.target, project_root=args.project_dir.resolve(), image=image
        )
    except FileNotFoundError as error:
        print(f"canaria build {args.target}: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(" ".join(command))
        return 0
    try:
        completed = subprocess.run(command, check=False)  # nosec B603 # docker argv from images.py, no shell
    except FileNotFoundError:
        print(
            f"canaria build {args.target}: docker not found; run: {' '.join(command)}",
            file=sys.stderr,
        )
        return 2
    if completed.returncode == 0:
        print(json.dumps({args.target: image}) if args.json else f"{args.target}: {image}")
    return completed.returncode


def _build(args: argparse.Namespace) -> int:
    if BuildTarget(args.target) in IMAGE_TARGETS:
        return build_image(args)
    from canaria.cli.progress import bentoml_home, stages

    results = []
    with stages() as stage:
        for target in targets_for(BuildTarget(args.target)):
            stage(f"bentoml build {target.value} ({BENTOFILES[target]}) into {bentoml_home()}")
            results.append(build_bento(target, project_root=args.project_dir.resolve()))
    failed = [result for result in results if result.tag is None]
    for result in failed:
        print(f"canaria build {result.target.value}: failed\n{result.error}", file=sys.stderr)
    if args.json:
        print(json.dumps({result.target.value: result.tag for result in results}))
    else:
        for result in results:
            if result.tag is not None:
                print(f"{result.target.value}: {result.tag}")
        print(f"BentoML store: {bentoml_home()} (BENTOML_HOME)")
    return 1 if failed else 0
