"""The classic service served from its built bento, with a newer model in the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import bentoml
import httpx
import pytest

from canaria.testing.running import RunningProcess
from tests.services.classic.bentos import canaria_build, serving_bento
from tests.services.classic.cases import record

pytestmark = pytest.mark.slow  # starts real processes or trains a model


@pytest.fixture(scope="module")
def bento_tag(classic_model_tag: str) -> str:
    return canaria_build("classic", env={"CANARIA_CLASSIC_MODEL_TAG": classic_model_tag})["classic"]


@pytest.fixture(scope="module")
def newer_model() -> Iterator[str]:
    """A churn-classifier saved after the bento was built, removed afterwards."""
    from training.classic import train_and_save

    tag = str(train_and_save(seed=8, n_rows=600, labels={"purpose": "test-newer-than-bento"}))
    yield tag
    bentoml.models.delete(tag)


@pytest.fixture(scope="module")
def bento_server(
    bento_tag: str, newer_model: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcess]:
    with serving_bento(
        bento_tag,
        workdir=tmp_path_factory.mktemp("bento-serve"),
        env={"CANARIA_CLASSIC_MODEL_TAG": ""},
        timeout=120,
    ) as process:
        yield process


def test_the_bento_serves_the_model_it_was_built_with(
    bento_server: RunningProcess, classic_model_tag: str, newer_model: str
) -> None:
    response = httpx.post(f"{bento_server.base_url}/predict", json=record(), timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["model_tag"] == classic_model_tag != newer_model


def test_the_bento_refuses_bad_input_with_a_4xx(bento_server: RunningProcess) -> None:
    response = httpx.post(
        f"{bento_server.base_url}/predict_batch",
        json={"records": [record(), record(contract_type="weekly")]},
        timeout=30,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "records[1].contract_type"


def test_the_bento_exports_its_metrics(bento_server: RunningProcess) -> None:
    text = httpx.get(f"{bento_server.base_url}/metrics", timeout=30).text
    assert "canaria_model_info{" in text
    assert "canaria_predictions_total{" in text


def test_the_bento_holds_only_the_service_files(bento_tag: str) -> None:
    source = Path(bentoml.bentos.get(bento_tag).path) / "src"
    files = {str(path.relative_to(source)) for path in source.rglob("*.py")}
    assert "services/classic/service.py" in files
    assert "canaria/contracts/model_metadata.py" in files
    assert not any(name.startswith(("tests/", "services/llm/", "bench/")) for name in files)
    assert "training/classic.py" not in files
    info = json.loads(json.dumps(bentoml.bentos.get(bento_tag).info.to_dict(), default=str))
    assert info["services"][0]["config"]["resources"]["cpu"] == "1"
