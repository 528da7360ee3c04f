"""Load a causal language model and its tokenizer from wherever configuration says.

A reference is one of:

- a BentoML model tag (``support-lm:latest``, ``support-lm:abc123``, or a bare name that
  is in the local store): the model directory saved by training/llm.py;
- a local directory written with ``save_pretrained``;
- a Hugging Face model id (``Qwen/Qwen2.5-0.5B-Instruct``): passed to
  ``AutoModelForCausalLM.from_pretrained``, which downloads it, at ``revision`` when one is
  given (``CANARIA_LLM_REVISION``: pin a commit). The model's version is that revision, or
  else the commit the hub resolved, so what is served is recorded either way. That is for
  a GPU user who configures it; training and tests only use the first two.

Hugging Face ids never contain ``:`` and BentoML tags never contain ``/``, which is what
tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canaria.contracts.chat import CHAT_TEMPLATE
from services.llm.config import DEFAULT_MODEL, Device, DType

if TYPE_CHECKING:
    import torch
    from bentoml import Model as StoredModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Used when neither the model config nor the tokenizer states a usable context length.
_FALLBACK_CONTEXT_LENGTH = 2048
# Tokenizers without a limit report a huge sentinel (int(1e30)) as model_max_length.
_UNBOUNDED_TOKENIZER_LENGTH = 1_000_000


class SourceKind(StrEnum):
    """Where a model reference points."""

    BENTOML = "bentoml"
    PATH = "path"
    HUB = "hub"


@dataclass(frozen=True)
class ModelSource:
    """A classified model reference."""

    kind: SourceKind
    reference: str


@dataclass
class LoadedLM:
    """A model ready to generate, with what the service reports about it."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    name: str
    version: str
    device: str
    context_length: int
    metadata: dict[str, Any] = field(default_factory=dict)


def classify_source(reference: str, *, is_directory: bool, in_bento_store: bool) -> ModelSource:
    """Decide what kind of reference ``reference`` is (pure; the caller checks the disk)."""
    if is_directory:
        return ModelSource(SourceKind.PATH, reference)
    if in_bento_store or (":" in reference and "/" not in reference):
        return ModelSource(SourceKind.BENTOML, reference)
    return ModelSource(SourceKind.HUB, reference)


def resolve_source(reference: str) -> ModelSource:
    """Classify ``reference`` by looking at the disk and the local BentoML store."""
    import bentoml
    from bentoml.exceptions import BentoMLException

    is_directory = Path(reference).expanduser().is_dir()
    in_store = False
    if not is_directory and "/" not in reference:
        try:
            bentoml.models.get(reference)
            in_store = True
        except (BentoMLException, ValueError):
            in_store = False
    return classify_source(reference, is_directory=is_directory, in_bento_store=in_store)


def pick_device(device: Device, *, cuda_available: bool) -> str:
    """The torch device string for ``device`` (pure); refuses CUDA where there is none."""
    if device is Device.CUDA and not cuda_available:
        raise ValueError("CANARIA_LLM_DEVICE=cuda but torch sees no CUDA device")
    if device is Device.AUTO:
        return "cuda" if cuda_available else "cpu"
    return device.value


def pick_dtype(dtype: DType, *, device: str) -> torch.dtype:
    """The torch dtype for ``dtype`` on ``device``: half precision only on a GPU by default.

    ``auto`` on CUDA prefers bfloat16, which most current checkpoints are trained in and
    which does not overflow where float16 can; float16 on GPUs without it.
    """
    import torch

    if dtype is DType.AUTO:
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {
        DType.FLOAT32: torch.float32,
        DType.FLOAT16: torch.float16,
        DType.BFLOAT16: torch.bfloat16,
    }[dtype]


def context_length(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int:
    """How many tokens (prompt plus completion) the model can attend to."""
    for attribute in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(model.config, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _UNBOUNDED_TOKENIZER_LENGTH:
        return limit
    return _FALLBACK_CONTEXT_LENGTH


def load_pretrained(
    location: str,
    *,
    name: str,
    version: str,
    device: Device = Device.AUTO,
    dtype: DType = DType.AUTO,
    local_only: bool = True,
    metadata: dict[str, Any] | None = None,
    revision: str | None = None,
) -> LoadedLM:
    """Load model and tokenizer from a directory (or, with ``local_only=False``, a hub id,
    at ``revision`` when given)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device_name = pick_device(device, cuda_available=torch.cuda.is_available())
    pinned: dict[str, Any] = {"revision": revision} if revision is not None else {}
    tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=local_only, **pinned)  # nosec B615 # revision pinned via **pinned when given; commit recorded
    model = AutoModelForCausalLM.from_pretrained(  # nosec B615 # revision pinned via **pinned when given; commit recorded
        location,
        dtype=pick_dtype(dtype, device=device_name),
        local_files_only=local_only,
        **pinned,
    )
    # transformers types ``to`` through a decorator that mypy cannot see through.
    model.to(device_name)  # type: ignore[arg-type]
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        # A base model without a template: use the support-desk dialogue format.
        tokenizer.chat_template = CHAT_TEMPLATE
    return LoadedLM(
        model=model,
        tokenizer=tokenizer,
        name=name,
        version=version,
        device=device_name,
        context_length=context_length(model, tokenizer),
        metadata=dict(metadata or {}),
    )


def load_stored_model(
    stored: StoredModel, *, device: Device = Device.AUTO, dtype: DType = DType.AUTO
) -> LoadedLM:
    """Load a model saved by training/llm.py from its BentoML store entry."""
    return load_pretrained(
        stored.path,
        name=stored.tag.name,
        version=stored.tag.version or "",
        device=device,
        dtype=dtype,
        metadata=dict(stored.info.metadata),
    )


def cached_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit of ``repo_id`` at ``revision`` (default branch when None) that the local
    hub cache holds, which is what was just loaded; None when the cache does not say."""
    from huggingface_hub import try_to_load_from_cache

    path = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    return Path(path).parent.name if isinstance(path, str) else None


def hub_version(revision: str | None, resolved_commit: object) -> str:
    """The version a hub model is served under: the requested revision, else the commit
    the hub resolved, else ``hub`` (pure)."""
    if revision:
        return revision
    return resolved_commit if isinstance(resolved_commit, str) and resolved_commit else "hub"


def load_causal_lm(
    reference: str = DEFAULT_MODEL,
    *,
    device: Device = Device.AUTO,
    dtype: DType = DType.AUTO,
    revision: str | None = None,
) -> LoadedLM:
    """Load whatever ``reference`` names: a BentoML tag, a local directory or a hub id.

    ``revision`` applies to a hub id only; given with anything else it is refused
    (``ValueError``) rather than ignored.
    """
    source = resolve_source(reference)
    if revision is not None and source.kind is not SourceKind.HUB:
        raise ValueError(
            f"a revision ({revision!r}) pins a Hugging Face hub id; {reference!r} is a "
            f"{source.kind.value} model"
        )
    if source.kind is SourceKind.BENTOML:
        import bentoml

        return load_stored_model(bentoml.models.get(reference), device=device, dtype=dtype)
    if source.kind is SourceKind.PATH:
        path = Path(reference).expanduser().resolve()
        return load_pretrained(
            str(path), name=path.name, version="local", device=device, dtype=dtype
        )
    loaded = load_pretrained(
        reference,
        name=reference,
        version=revision or "hub",
        device=device,
        dtype=dtype,
        local_only=False,
        revision=revision,
    )
    commit = cached_commit(reference, revision)
    loaded.version = hub_version(revision, commit)
    loaded.metadata.update(hub_revision=revision, hub_commit=commit)
    return loaded
