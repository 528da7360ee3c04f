"""The LLM service in-process, configured with a Hugging Face model id.

A user with a GPU names a hub model in ``CANARIA_LLM_MODEL`` and changes no code. Nothing
may be downloaded here, so the session's tiny model is laid out as the hub cache keeps a
downloaded repository, and huggingface_hub runs in offline mode: the service then loads
the id exactly as it would after a download.

The service object is made by calling the class, as BentoML does in a worker, and its
OpenAI routes (mounted at ``/v1`` when served) are called over ASGI. Not through
``LLMService.to_asgi()``: BentoML's own HTTP metrics may be registered once per process,
and tests/services/classic/test_in_process.py does that.
"""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bentoml
import huggingface_hub.constants
import pytest
import torch
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from canaria.contracts.metrics import LLM_COMPLETION_TOKENS_TOTAL, LLM_REQUESTS_TOTAL

pytestmark = pytest.mark.slow  # starts real processes or trains a model

HUB_ID = "canaria-test/support-lm"
COMMIT = "0" * 40


def hub_cache_with(stored_path: Path, root: Path, repo_id: str) -> Path:
    """Write ``stored_path``'s files as the hub cache keeps ``repo_id`` at ``main``."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    for path in stored_path.iterdir():
        if path.is_file() and path.name != "model.yaml":
            shutil.copy2(path, snapshot / path.name)
    return root


@pytest.fixture(scope="module")
def service(llm_model_tag: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``LLMService`` imported with ``CANARIA_LLM_MODEL`` set to a hub id, offline."""
    cache = hub_cache_with(
        Path(bentoml.models.get(llm_model_tag).path), tmp_path_factory.mktemp("hub"), HUB_ID
    )
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        # huggingface_hub reads both at import; transformers looks them up on each load.
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        patch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
        patch.setenv("CANARIA_LLM_MODEL", HUB_ID)
        patch.setenv("CANARIA_LLM_DEVICE", "cpu")
        try:
            yield importlib.reload(importlib.import_module("services.llm.service"))
        finally:
            torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def client(service: Any) -> Iterator[TestClient]:
    """The OpenAI routes of one ``LLMService`` instance, which loads the model."""
    # Where bentoml.get_current_service() looks; a BentoML worker sets it the same way.
    bentoml_service = importlib.import_module("_bentoml_sdk.service")
    previous = bentoml_service._current_service
    bentoml_service.set_current_service(service.LLMService())
    try:
        with TestClient(service.openai_app) as test_client:
            yield test_client
    finally:
        bentoml_service.set_current_service(previous)


def test_a_hub_id_is_not_packed_but_loaded_when_the_service_starts(service: Any) -> None:
    # bentoml build packs the models a service declares: BentoML models only.
    assert service.LLMService.inner.bento_model is None and service.LLMService.models == []


def test_the_hub_model_is_served_under_its_id(client: TestClient) -> None:
    (entry,) = client.get("/models").json()["data"]
    assert (entry["id"], entry["version"], entry["context_length"]) == (HUB_ID, "hub", 256)

    response = client.post(
        "/chat/completions",
        json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6},
    )
    assert response.status_code == 200, response.text
    assert response.json()["model"] == HUB_ID
    assert 1 <= response.json()["usage"]["completion_tokens"] <= 6


def test_a_stream_arrives_as_server_sent_events(client: TestClient) -> None:
    body = {"prompt": "Customer: Hi\nAgent:", "max_tokens": 5, "ignore_eos": True, "stream": True}
    with client.stream("POST", "/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = [
            line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data")
        ]
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert len(chunks) >= 3


def test_bad_input_is_a_400_and_metrics_move(client: TestClient) -> None:
    labels = {"model": HUB_ID, "version": "hub"}

    def value(name: str, **extra: str) -> float:
        return REGISTRY.get_sample_value(name, {**labels, **extra}) or 0.0

    refused = value(LLM_REQUESTS_TOTAL, endpoint="completions", status="400")
    generated = value(LLM_COMPLETION_TOKENS_TOTAL)

    response = client.post("/completions", json={"prompt": "hi", "max_tokens": -1})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "max_tokens"
    client.post("/completions", json={"prompt": "hi", "max_tokens": 3, "ignore_eos": True})

    assert value(LLM_REQUESTS_TOTAL, endpoint="completions", status="400") == refused + 1
    assert value(LLM_COMPLETION_TOKENS_TOTAL) == generated + 3
