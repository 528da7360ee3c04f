"""Which model a built bento packs, for both services (moved from their settings tests)."""

from __future__ import annotations

from pathlib import Path

import yaml

from canaria.contracts.bento import packed_model_tag, recorded_model_tag
from canaria.contracts.model_metadata import CLASSIC_MODEL_NAME


def test_bento_model_tag_finds_the_packed_classifier() -> None:
    info = {
        "services": [
            {"name": "ClassicService", "models": [{"tag": "churn-classifier:v7"}, {"tag": "x:1"}]}
        ]
    }
    assert packed_model_tag(info, CLASSIC_MODEL_NAME) == "churn-classifier:v7"
    assert packed_model_tag({"services": [{"models": []}]}, CLASSIC_MODEL_NAME) is None
    assert packed_model_tag({}, CLASSIC_MODEL_NAME) is None


def test_a_bento_manifest_names_the_model_it_was_built_with() -> None:
    info = {
        "services": [
            {"name": "canaria-llm", "models": [{"tag": "support-lm:v7", "module": ""}]},
        ]
    }
    assert packed_model_tag(info) == "support-lm:v7"
    assert packed_model_tag({"services": [{"name": "canaria-llm", "models": []}]}) is None
    assert packed_model_tag({}) is None


def test_outside_a_bento_nothing_is_recorded(tmp_path: Path) -> None:
    manifest = tmp_path / "bento.yaml"
    assert recorded_model_tag(manifest) is None
    manifest.write_text(yaml.safe_dump({"services": [{"models": [{"tag": "m:v1"}]}]}))
    assert recorded_model_tag(manifest) == "m:v1"
