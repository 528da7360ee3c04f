"""The LLM service's settings, read once from the environment.

The service module reads them at import time, because the GPU resource request and the
model declared at class scope are decided when the BentoML service is defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from training.metadata import LLM_MODEL_NAME

ENV_MODEL = "CANARIA_LLM_MODEL"
ENV_DEVICE = "CANARIA_LLM_DEVICE"
ENV_DTYPE = "CANARIA_LLM_DTYPE"
ENV_GPU = "CANARIA_LLM_GPU"
ENV_MAX_TOKENS = "CANARIA_LLM_MAX_TOKENS"
ENV_TORCH_THREADS = "CANARIA_LLM_TORCH_THREADS"
ENV_REVISION = "CANARIA_LLM_REVISION"

DEFAULT_MODEL = f"{LLM_MODEL_NAME}:latest"
DEFAULT_MAX_TOKENS_LIMIT = 512

E = TypeVar("E", bound=StrEnum)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


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
    ``max_tokens`` a request may ask for. ``revision`` pins a hub model to a commit (or a
    tag or branch) and is refused for any other kind of model. ``torch_threads`` is
    torch's intra-op thread count on CPU (0 keeps torch's default, one per core): one
    thread suits the tiny model, which measured 260 tokens/s with 1 thread and 25 with 2
    on a busy 2-core machine.
    """

    model: str = DEFAULT_MODEL
    device: Device = Device.AUTO
    dtype: DType = DType.AUTO
    gpu: bool = False
    max_tokens_limit: int = DEFAULT_MAX_TOKENS_LIMIT
    torch_threads: int = 1
    revision: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LLMServiceConfig:
        """Parse the ``CANARIA_LLM_*`` variables (pure); a bad value names its variable."""
        return cls(
            model=environ.get(ENV_MODEL, "").strip() or DEFAULT_MODEL,
            device=_enum(Device, environ, ENV_DEVICE, Device.AUTO),
            dtype=_enum(DType, environ, ENV_DTYPE, DType.AUTO),
            gpu=_flag(environ, ENV_GPU),
            max_tokens_limit=_count(environ, ENV_MAX_TOKENS, DEFAULT_MAX_TOKENS_LIMIT),
            torch_threads=_count(environ, ENV_TORCH_THREADS, 1, minimum=0),
            revision=_revision(environ, ENV_REVISION),
        )


def bento_model_reference(bento_info: Mapping[str, Any]) -> str | None:
    """The model tag a built bento's ``bento.yaml`` records for the service, if any (pure).

    The LLM service declares at most one model, so the first one recorded is it.
    """
    for service in bento_info.get("services") or ():
        for model in service.get("models") or ():
            if tag := str(model.get("tag", "")).strip():
                return tag
    return None


def _enum(kind: type[E], environ: Mapping[str, str], name: str, default: E) -> E:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise ValueError(f"{name}={raw!r} is not one of: {allowed}") from None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use 1 or 0)")


def _count(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name}={raw!r} is not an integer >= {minimum}")
    return int(raw)


def _revision(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    if any(character.isspace() for character in raw) or len(raw) > 255:
        raise ValueError(f"{name}={raw!r} is not a hub revision (a commit, tag or branch)")
    return raw
