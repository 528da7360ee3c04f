"""The operator and router container images: where their Dockerfiles are, what they are
called, and the ``docker build`` command that makes them (pure builders).

Both are built from the repository root (the build context holds the ``canaria`` package
they install) and run as the non-root user 10001 on ``python:3.11-slim`` pinned by digest.
The charts and ``k8s/operator/deployment.yaml`` name exactly these repositories; a test
checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from canaria import __version__

DEFAULT_REGISTRY = "ghcr.io/canaria"


@dataclass(frozen=True)
class ImageSpec:
    """One image: its Dockerfile (relative to the project root) and repository name."""

    name: str
    dockerfile: str
    description: str

    def repository(self, registry: str = DEFAULT_REGISTRY) -> str:
        return f"{registry.rstrip('/')}/{self.name}"


IMAGES: dict[str, ImageSpec] = {
    "operator": ImageSpec(
        "canaria-operator", "monitoring/operator/Dockerfile", "the ModelRollout operator"
    ),
    "router": ImageSpec(
        "canaria-router", "services/router/Dockerfile", "the traffic router and shadow sidecar"
    ),
}


def image_ref(target: str, *, registry: str = DEFAULT_REGISTRY, tag: str = __version__) -> str:
    """``REGISTRY/NAME:TAG`` of one image (``KeyError`` for an unknown target)."""
    return f"{IMAGES[target].repository(registry)}:{tag}"


def docker_build_command(
    target: str,
    *,
    project_root: Path,
    image: str,
    docker: str = "docker",
    platform: str | None = None,
) -> list[str]:
    """The ``docker build`` argv for one image, context = ``project_root`` (pure).

    Raises ``FileNotFoundError`` naming the Dockerfile when it is missing.
    """
    spec = IMAGES[target]
    dockerfile = project_root / spec.dockerfile
    if not dockerfile.is_file():
        raise FileNotFoundError(f"{dockerfile}: no Dockerfile for the {target} image")
    command = [docker, "build", "--file", str(dockerfile), "--tag", image]
    if platform:
        command += ["--platform", platform]
    return [*command, str(project_root)]
