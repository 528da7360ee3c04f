"""The LLM service's settings, read once from the environment.

The service module reads them at import time, because the GPU resource request and the
model declared at class scope are decided when the BentoML service is defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from canaria.contracts.env import env_choice, env_flag, env_int, env_str
from canaria.contracts.model_metadata import LLM_MODEL_NAME

ENV_MODEL = "CANARIA_LLM_MODEL"
ENV_DEVICE = "CANARIA_LLM_DEVICE"
ENV_DTYPE = "CANARIA_LLM_DTYPE"
ENV_GPU = "CANARIA_LLM_GPU"
ENV_MAX_TOKENS = "CANARIA_LLM_MAX_TOKENS"
ENV_TORCH_THREADS = "CANARIA_LLM_TORCH_THREADS"

DEFAULT_MODEL = f"{LLM_MODEL_NAME}:latest"
DEFAULT_MAX_TOKENS_LIMIT = 512


class Device(StrEnum):
    """Where the model runs; ``auto`` picks CUDA when torch sees a GPU."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


class DType(StrEnum):
    """Weight precision; ``auto`` is bfloat16 (or float16) on CUDA and float32 on CPU."""

    AUTO = "auto"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"


@dataclass(frozen=True)
class LLMServiceConfig:
    """What to serve and how.

    ``model`` is a BentoML model tag, a local directory saved with ``save_pretrained``, or a
    Hugging Face model id (see services/llm/loader.py). ``max_tokens_limit`` bounds the
    ``max_tokens`` a request may ask for. ``torch_threads`` is torch's intra-op thread
    count on CPU (0 keeps torch's default, one per core): one thread suits the tiny model
    on a busy small machine (``bench/bench_llm.py`` measures it).
    """

    model: str = DEFAULT_MODEL
    device: Device = Device.AUTO
    dtype: DType = DType.AUTO
    gpu: bool = False
    max_tokens_limit: int = DEFAULT_MAX_TOKENS_LIMIT
    torch_threads: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LLMServiceConfig:
        """Parse the ``CANARIA_LLM_*`` variables (pure); a bad value names its variable."""
        return cls(
            model=env_str(environ, ENV_MODEL, DEFAULT_MODEL),
            device=env_choice(Device, environ, ENV_DEVICE, Device.AUTO),
            dtype=env_choice(DType, environ, ENV_DTYPE, DType.AUTO),
            gpu=env_flag(environ, ENV_GPU),
            max_tokens_limit=env_int(environ, ENV_MAX_TOKENS, DEFAULT_MAX_TOKENS_LIMIT, minimum=1),
            torch_threads=env_int(environ, ENV_TORCH_THREADS, 1, minimum=0),
        )
