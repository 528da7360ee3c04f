"""The LLM service served from its built bento, with a newer model in the store.

The bento is the one ``canaria build all`` makes for tests/test_packaging.py (which checks
its CUDA image, its GPU request and the model it carries); here it is served.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import bentoml
import httpx
import pytest

from canaria.contracts.model_metadata import LLM_MODEL_NAME
from canaria.testing.running import RunningProcess
from tests.services.classic.bentos import build_all, serving_bento

pytestmark = pytest.mark.slow  # starts real processes or trains a model


@pytest.fixture(scope="module")
def bento_tag(classic_model_tag: str, llm_model_tag: str) -> str:
    return build_all(classic_model_tag=classic_model_tag, llm_model_tag=llm_model_tag)["llm"]


@pytest.fixture(scope="module")
def newer_model(bento_tag: str, llm_model_tag: str) -> Iterator[str]:
    """A copy of the session's model saved after the bento was built, removed afterwards."""
    stored = bentoml.models.get(llm_model_tag)
    with bentoml.models.create(
        LLM_MODEL_NAME,
        labels={"purpose": "test-newer-than-bento"},
        metadata=dict(stored.info.metadata),
    ) as model:
        for path in Path(stored.path).iterdir():
            if path.is_file() and path.name != "model.yaml":
                shutil.copy2(path, model.path_of(path.name))
    yield str(model.tag)
    bentoml.models.delete(model.tag)


@pytest.fixture(scope="module")
def bento_server(
    bento_tag: str, newer_model: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    with serving_bento(
        bento_tag,
        workdir=tmp_path_factory.mktemp("llm-bento-serve"),
        # As in the image (ENV CANARIA_LLM_GPU=1), minus the GPU this machine lacks.
        env={"CANARIA_LLM_MODEL": "", "CANARIA_LLM_DEVICE": "cpu", "CANARIA_LLM_GPU": ""},
        timeout=180,
    ) as process:
        yield process


def test_the_bento_serves_the_model_it_was_built_with(
    bento_server: RunningProcess, llm_model_tag: str, newer_model: str
) -> None:
    name, version = llm_model_tag.split(":")
    (entry,) = httpx.get(f"{bento_server.base_url}/v1/models", timeout=30).json()["data"]
    assert (entry["id"], entry["version"]) == (name, version)
    assert newer_model != llm_model_tag


def test_the_bento_answers_a_chat_completion(bento_server: RunningProcess) -> None:
    response = httpx.post(
        f"{bento_server.base_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == LLM_MODEL_NAME


def test_the_bento_refuses_bad_input_with_a_4xx(bento_server: RunningProcess) -> None:
    response = httpx.post(
        f"{bento_server.base_url}/v1/completions",
        json={"prompt": "Hi", "temperature": -1},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "temperature"
