"""The LLM service packaged: built into a bento on a CUDA base image, then served from it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import bentoml
import httpx
import pytest
import yaml

from tests.support.processes import REPO_ROOT, VENV_BIN, free_port, running

BENTOFILE = "services/llm/bentofile.yaml"


@pytest.fixture(scope="module")
def bento(llm_model_tag: str) -> Iterator[bentoml.Bento]:
    """Built as for a GPU cluster: CANARIA_LLM_GPU=1 makes the service request a GPU."""
    result = subprocess.run(
        [str(VENV_BIN / "bentoml"), "build", "-f", BENTOFILE, ".", "--output", "tag"],
        cwd=REPO_ROOT,
        env={**os.environ, "CANARIA_LLM_MODEL": llm_model_tag, "CANARIA_LLM_GPU": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tag = result.stdout.strip().splitlines()[-1].removeprefix("__tag__:")
    built = bentoml.get(tag)
    yield built
    bentoml.delete(built.tag)


def test_bento_targets_cuda_and_pins_the_model(bento: bentoml.Bento, llm_model_tag: str) -> None:
    info = yaml.safe_load((Path(bento.path) / "bento.yaml").read_text())
    (service,) = info["services"]
    assert [model["tag"] for model in service["models"]] == [llm_model_tag]
    assert service["config"]["resources"]["gpu"] == 1
    assert info["docker"]["cuda_version"].startswith("12.")
    dockerfile = (Path(bento.path) / "env" / "docker" / "Dockerfile").read_text()
    assert "FROM nvidia/cuda:" in dockerfile
    requirements = (Path(bento.path) / "env" / "python" / "requirements.txt").read_text()
    assert {"torch==2.13.0", "transformers==5.24.0"} <= set(requirements.split())


def test_served_from_the_bento(bento: bentoml.Bento, llm_model_tag: str, tmp_path: Path) -> None:
    port = free_port()
    with running(
        ["bentoml", "serve", str(bento.tag), "--host", "127.0.0.1", "--port", str(port)],
        log_path=tmp_path / "serve.log",
        port=port,
        ready_path="/readyz",
        env={"CANARIA_LLM_MODEL": llm_model_tag, "CANARIA_LLM_DEVICE": "cpu"},
        timeout=180,
    ) as process:
        response = httpx.post(
            f"{process.base_url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5},
            timeout=60,
        )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == llm_model_tag.split(":")[0]
