"""Both bentos, built by ``canaria build all``: a slim CPU image for the classic service, a
CUDA image for the LLM, each carrying the model its service declares."""

from __future__ import annotations

import re
from pathlib import Path

import bentoml
import pytest
import yaml

from canaria.cli.build import BuildTarget, build_environment, parse_tag, targets_for
from tests.services.classic.bentos import build_all

pytestmark = pytest.mark.slow  # starts real processes or trains a model


@pytest.fixture(scope="module")
def bentos(classic_model_tag: str, llm_model_tag: str) -> dict[str, bentoml.Bento]:
    tags = build_all(classic_model_tag=classic_model_tag, llm_model_tag=llm_model_tag)
    assert set(tags) == {"classic", "llm"}
    return {target: bentoml.bentos.get(tag) for target, tag in tags.items()}


def _dockerfile(bento: bentoml.Bento) -> str:
    return (Path(bento.path) / "env" / "docker" / "Dockerfile").read_text()


def _base_image(dockerfile: str) -> str:
    match = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert match is not None, dockerfile
    return match.group(1)


def _recorded_resources(bento: bentoml.Bento) -> dict[str, object]:
    """The resources the bento's manifest (``bento.yaml``) declares for its service."""
    info = yaml.safe_load((Path(bento.path) / "bento.yaml").read_text())
    (service,) = info["services"]
    return dict(service["config"]["resources"])


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
    assert re.search(r"^ENV CANARIA_LLM_GPU=", dockerfile, re.MULTILINE)
    requirements = (Path(bentos["llm"].path) / "env/python/requirements.txt").read_text()
    assert {"torch==2.13.0", "transformers==5.24.0"} <= set(requirements.split())


def test_llm_bento_declares_a_gpu_and_classic_does_not(bentos: dict[str, bentoml.Bento]) -> None:
    """canaria build sets CANARIA_LLM_GPU=1 for the LLM build (the test session does not)."""
    assert _recorded_resources(bentos["llm"])["gpu"] == 1
    assert "gpu" not in _recorded_resources(bentos["classic"])


def test_llm_build_defaults_the_gpu_request_and_keeps_an_explicit_choice() -> None:
    assert build_environment(BuildTarget.LLM, {"PATH": "/bin"}) == {
        "PATH": "/bin",
        "CANARIA_LLM_GPU": "1",
    }
    assert build_environment(BuildTarget.LLM, {"CANARIA_LLM_GPU": ""})["CANARIA_LLM_GPU"] == "1"
    assert build_environment(BuildTarget.LLM, {"CANARIA_LLM_GPU": "0"})["CANARIA_LLM_GPU"] == "0"
    assert build_environment(BuildTarget.CLASSIC, {"PATH": "/bin"}) == {"PATH": "/bin"}


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
    assert targets_for(BuildTarget.ALL) == [BuildTarget.CLASSIC, BuildTarget.LLM]
    assert targets_for(BuildTarget.LLM) == [BuildTarget.LLM]
    assert parse_tag("Building...\n__tag__:canaria-classic:abc123\n") == "canaria-classic:abc123"
    assert parse_tag("Error: no model") is None
