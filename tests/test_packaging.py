"""Both bentos, built by ``canaria build all``: a slim CPU image for the classic service, a
CUDA image for the LLM, each carrying the model its service declares."""

from __future__ import annotations

import re
from pathlib import Path

import bentoml
import pytest

from canaria.commands.build import Target, parse_tag, targets_for
from tests.services.classic.bentos import canaria_build


@pytest.fixture(scope="module")
def bentos(classic_model_tag: str, llm_model_tag: str) -> dict[str, bentoml.Bento]:
    env = {"CANARIA_CLASSIC_MODEL_TAG": classic_model_tag, "CANARIA_LLM_MODEL": llm_model_tag}
    tags = canaria_build("all", env=env)
    assert set(tags) == {"classic", "llm"}
    return {target: bentoml.bentos.get(tag) for target, tag in tags.items()}


def _dockerfile(bento: bentoml.Bento) -> str:
    return (Path(bento.path) / "env" / "docker" / "Dockerfile").read_text()


def _base_image(dockerfile: str) -> str:
    match = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert match is not None, dockerfile
    return match.group(1)


def _model_tags(bento: bentoml.Bento) -> set[str]:
    return {str(model.tag) for service in bento.info.services for model in service.models}


def test_classic_image_is_slim_python_without_cuda(bentos: dict[str, bentoml.Bento]) -> None:
    dockerfile = _dockerfile(bentos["classic"])
    assert _base_image(dockerfile) == "python:3.11-slim"
    assert "cuda" not in dockerfile.lower()
    assert "torch" not in (Path(bentos["classic"].path) / "env/python/requirements.txt").read_text()
    assert re.search(r"^USER bentoml", dockerfile, re.MULTILINE)
    assert "ENV OMP_NUM_THREADS" in dockerfile


def test_llm_image_is_cuda(bentos: dict[str, bentoml.Bento]) -> None:
    dockerfile = _dockerfile(bentos["llm"])
    assert _base_image(dockerfile).startswith("nvidia/cuda:")
    assert _base_image(dockerfile) != _base_image(_dockerfile(bentos["classic"]))


def test_each_bento_carries_its_model(
    bentos: dict[str, bentoml.Bento], classic_model_tag: str, llm_model_tag: str
) -> None:
    assert _model_tags(bentos["classic"]) == {classic_model_tag}
    assert _model_tags(bentos["llm"]) == {llm_model_tag}


def test_classic_requirements_are_pinned(bentos: dict[str, bentoml.Bento]) -> None:
    requirements = (Path(bentos["classic"].path) / "env/python/requirements.txt").read_text()
    lines = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert lines and all("==" in line for line in lines), lines
    assert any(line.startswith("scikit-learn==") for line in lines)


def test_build_targets_and_tag_parsing() -> None:
    assert targets_for(Target.ALL) == [Target.CLASSIC, Target.LLM]
    assert targets_for(Target.LLM) == [Target.LLM]
    assert parse_tag("Building...\n__tag__:canaria-classic:abc123\n") == "canaria-classic:abc123"
    assert parse_tag("Error: no model") is None
