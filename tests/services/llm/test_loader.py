"""Loading a causal LM by BentoML tag or by local directory (hub ids need a network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.llm.config import Device
from services.llm.loader import SourceKind, load_causal_lm, resolve_source

pytestmark = pytest.mark.slow  # starts real processes or trains a model


def test_a_bentoml_tag_and_its_bare_name_resolve_to_the_store(llm_model_tag: str) -> None:
    name = llm_model_tag.split(":")[0]
    assert resolve_source(llm_model_tag).kind is SourceKind.BENTOML
    assert resolve_source(name).kind is SourceKind.BENTOML
    assert resolve_source("someone/some-model").kind is SourceKind.HUB


def test_a_model_saved_to_a_local_directory_loads_by_path(
    llm_model_tag: str, tmp_path: Path
) -> None:
    stored = load_causal_lm(llm_model_tag, device=Device.CPU)
    directory = tmp_path / "my-support-lm"
    stored.model.save_pretrained(directory)
    stored.tokenizer.save_pretrained(directory)

    assert resolve_source(str(directory)).kind is SourceKind.PATH
    loaded = load_causal_lm(str(directory), device=Device.CPU)

    assert (loaded.name, loaded.version, loaded.device) == ("my-support-lm", "local", "cpu")
    assert loaded.context_length == stored.context_length == 256
    prompt = "Customer: Hi\nAgent:"
    assert loaded.tokenizer(prompt)["input_ids"] == stored.tokenizer(prompt)["input_ids"]
