"""Parsing the classic service's environment variables (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classic.settings import (
    DEFAULT_MODEL_TAG,
    ClassicSettings,
    ServingSettings,
)


def test_defaults() -> None:
    settings = ClassicSettings.from_env({})
    assert settings.model_tag == DEFAULT_MODEL_TAG == "churn-classifier:latest"
    assert settings.max_batch == 1000
    assert settings.sample_log is None
    assert settings.never_log == frozenset({"customer_id"})
    assert ServingSettings.from_env({}) == ServingSettings()


def test_values_are_read() -> None:
    settings = ClassicSettings.from_env(
        {
            "CANARIA_CLASSIC_MODEL_TAG": "churn-classifier:abc",
            "CANARIA_MAX_BATCH": "10",
            "CANARIA_SAMPLE_LOG": "/tmp/x.jsonl",
            "CANARIA_SAMPLE_RATE": "0.25",
            "CANARIA_NEVER_LOG": "customer_id, email,,",
        }
    )
    assert settings == ClassicSettings(
        model_tag="churn-classifier:abc",
        max_batch=10,
        sample_log=Path("/tmp/x.jsonl"),
        sample_rate=0.25,
        never_log=frozenset({"customer_id", "email"}),
    )
    serving = ServingSettings.from_env(
        {
            "CANARIA_CLASSIC_WORKERS": "2",
            "CANARIA_CLASSIC_BATCH_SIZE": "32",
            "CANARIA_CLASSIC_BATCH_LATENCY_MS": "50",
        }
    )
    assert serving == ServingSettings(workers=2, batch_size=32, batch_latency_ms=50)


def test_an_empty_never_log_list_logs_everything() -> None:
    assert ClassicSettings.from_env({"CANARIA_NEVER_LOG": ""}).never_log == frozenset()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CANARIA_MAX_BATCH", "0"),
        ("CANARIA_MAX_BATCH", "many"),
        ("CANARIA_SAMPLE_RATE", "1.5"),
        ("CANARIA_SAMPLE_RATE", "nan"),
        ("CANARIA_SAMPLE_RATE", "half"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        ClassicSettings.from_env({name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CANARIA_CLASSIC_WORKERS", "0"),
        ("CANARIA_CLASSIC_BATCH_SIZE", "1"),
        ("CANARIA_CLASSIC_BATCH_LATENCY_MS", "soon"),
    ],
)
def test_a_bad_serving_value_is_refused_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        ServingSettings.from_env({name: value})
