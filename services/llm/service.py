"""The LLM BentoML service: an OpenAI-compatible completions server for one causal LM.

Run from the repository root::

    bentoml serve services.llm.service:LLMService --port 3000

What it serves comes from the environment (services/llm/config.py): ``CANARIA_LLM_MODEL``
(a BentoML tag; a local directory; or a Hugging Face id; without it, the version a built
bento was built with, or else ``support-lm:latest``),
``CANARIA_LLM_DEVICE`` (auto|cpu|cuda), ``CANARIA_LLM_DTYPE``, ``CANARIA_LLM_MAX_TOKENS``,
``CANARIA_LLM_TORCH_THREADS`` and ``CANARIA_LLM_GPU=1``, which makes the service request
a GPU. A BentoML tag is declared at class scope, so
``bentoml build`` packs that model into the bento.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import bentoml

from canaria.contracts.bento import bento_info_file, recorded_model_tag
from canaria.contracts.logs import configure_canaria_loggers, get_logger
from services.llm.config import ENV_MODEL, LLMServiceConfig
from services.llm.loader import SourceKind, resolve_source
from services.llm.openai_app import OpenAIBackend, build_openai_app

logger = get_logger("llm.service")

# A built bento keeps its source in <bento>/src, next to <bento>/bento.yaml.
BENTO_INFO_FILE = bento_info_file(__file__)


def _config() -> LLMServiceConfig:
    """The environment's settings; in a built bento without ``CANARIA_LLM_MODEL``, the
    model version it was built with (``bentoml serve <bento>`` reads the shared store,
    where "latest" may be newer)."""
    config = LLMServiceConfig.from_env(os.environ)
    if os.environ.get(ENV_MODEL, "").strip():
        return config
    recorded = recorded_model_tag(BENTO_INFO_FILE)
    return dataclasses.replace(config, model=recorded) if recorded else config


CONFIG = _config()
MODEL_SOURCE = resolve_source(CONFIG.model)

# One worker: the model is loaded once and generation threads share it. A GPU service
# asks the scheduler for a GPU; a CPU one for the two cores it can use.
RESOURCES: dict[str, Any] = {"gpu": 1, "memory": "16Gi"} if CONFIG.gpu else {"cpu": "2"}


def _backend() -> OpenAIBackend:
    backend: OpenAIBackend = bentoml.get_current_service().backend
    return backend


openai_app = build_openai_app(_backend)


@bentoml.asgi_app(openai_app, path="/v1")
@bentoml.service(
    name="canaria-llm",
    resources=RESOURCES,
    workers=1,
    traffic={"timeout": 300},
)
class LLMService:
    """OpenAI-compatible ``/v1/completions`` and ``/v1/chat/completions`` for one model."""

    # None unless the configured model is a BentoML tag (a path or hub id is loaded in
    # __init__ instead); BentoML resolves it from the store, or from the bento when built.
    bento_model = (
        bentoml.models.BentoModel(CONFIG.model) if MODEL_SOURCE.kind is SourceKind.BENTOML else None
    )

    def __init__(self) -> None:
        from services.llm.engine import LLMEngine
        from services.llm.loader import load_causal_lm, load_stored_model
        from services.llm.metrics import create_metrics

        configure_canaria_loggers()
        if CONFIG.torch_threads:
            import torch

            torch.set_num_threads(CONFIG.torch_threads)
        if self.bento_model is not None:
            loaded = load_stored_model(self.bento_model, device=CONFIG.device, dtype=CONFIG.dtype)
        else:
            loaded = load_causal_lm(CONFIG.model, device=CONFIG.device, dtype=CONFIG.dtype)
        self.backend = OpenAIBackend(
            engine=LLMEngine(loaded),
            metrics=create_metrics(),
            max_tokens_limit=CONFIG.max_tokens_limit,
        )
        logger.info(
            "llm service ready",
            extra={
                "model": loaded.name,
                "version": loaded.version,
                "device": loaded.device,
                "context_length": loaded.context_length,
            },
        )
