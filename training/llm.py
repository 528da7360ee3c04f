"""Train the tiny support-desk language model and save it into the BentoML store.

A byte-level BPE tokenizer is trained on the project's own corpus (training/llm_corpus.py)
and a small GPT-2-style model is built from a ``GPT2Config`` and trained with a plain
torch loop on CPU for a bounded number of steps. Nothing is downloaded. The held-out
perplexity, before and after training, goes into the model metadata, so a retrained
candidate can be compared with the model it would replace.

Everything random is drawn from ``seed``: the same seed gives the same weights and the
same perplexity on the same machine.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canaria.contracts.chat import CHAT_TEMPLATE
from canaria.contracts.model_metadata import LLM_MODEL_NAME, ModelMetadata
from training.llm_corpus import Corpus, build_corpus

if TYPE_CHECKING:
    import bentoml
    import torch
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

EOS_TOKEN = "<|endoftext|>"  # nosec B105 # a tokenizer's special token, not a secret
PAD_TOKEN = "<|pad|>"  # nosec B105 # a tokenizer's special token, not a secret
SPECIAL_TOKENS = (EOS_TOKEN, PAD_TOKEN)

_SOURCE_FILES = (Path(__file__), Path(__file__).with_name("llm_corpus.py"))


@dataclass(frozen=True)
class LLMTrainingParams:
    """Everything that decides the trained model besides the code."""

    seed: int = 0
    max_steps: int = 300
    vocab_size: int = 1024
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    n_positions: int = 256
    block_size: int = 128
    batch_size: int = 16
    learning_rate: float = 3e-3
    warmup_steps: int = 20
    weight_decay: float = 0.01
    corpus_seed: int = 0
    n_dialogues: int = 2400
    # A model this small gains nothing from intra-op parallelism, and on a shared CPU
    # the extra threads mostly wait on each other (measured: 19 s with 1 thread, 52 s
    # with 2, for 30 steps on a busy 2-core machine). Results are reproducible for the
    # same seed and thread count.
    torch_threads: int = 1

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}")
        if not 0 < self.block_size <= self.n_positions:
            raise ValueError(
                f"block_size must be in 1..n_positions ({self.n_positions}), got {self.block_size}"
            )
        if self.torch_threads < 1:
            raise ValueError(f"torch_threads must be at least 1, got {self.torch_threads}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head")


@dataclass
class TrainedLM:
    """A trained model with its tokenizer, evaluation and provenance."""

    model: GPT2LMHeadModel
    tokenizer: PreTrainedTokenizerFast
    params: LLMTrainingParams
    metrics: dict[str, float]
    data_fingerprint: str
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> ModelMetadata:
        return ModelMetadata(
            kind="llm",
            metrics=dict(self.metrics),
            training_params=asdict(self.params),
            data_fingerprint=self.data_fingerprint,
            code_version=code_version(),
            extra=dict(self.extra),
        )


def code_version() -> str:
    """The package version plus a hash of this module and the corpus generator."""
    from canaria import __version__

    digest = hashlib.sha256()
    for path in _SOURCE_FILES:
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def train_tokenizer(
    texts: list[str], *, vocab_size: int, max_length: int
) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts``, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    # Byte-level: any text, in any script, encodes without an unknown token.
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=max_length,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(params: LLMTrainingParams, tokenizer: PreTrainedTokenizerFast) -> GPT2LMHeadModel:
    """A freshly initialised GPT-2-style model sized by ``params`` (seeded by the caller)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=params.n_positions,
        n_embd=params.n_embd,
        n_layer=params.n_layer,
        n_head=params.n_head,
        # No dropout: a few hundred steps on a small corpus do not overfit, and it keeps
        # training and evaluation the same computation.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    # The class name does not match transformers' loss registry; say which loss it is
    # rather than have every forward pass warn that it fell back to this default.
    model.loss_type = "ForCausalLM"
    return model


def token_stream(texts: tuple[str, ...], tokenizer: PreTrainedTokenizerFast) -> torch.Tensor:
    """All ``texts`` encoded and joined, each followed by the end-of-text token."""
    import torch

    ids: list[int] = []
    for encoded in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        ids.append(tokenizer.eos_token_id)
    return torch.tensor(ids, dtype=torch.long)


def perplexity(model: GPT2LMHeadModel, stream: torch.Tensor, *, block_size: int) -> float:
    """exp(mean next-token loss) over consecutive ``block_size`` windows of ``stream``."""
    import torch

    n_blocks = (len(stream) - 1) // block_size
    if n_blocks < 1:
        raise ValueError(f"need more than {block_size} tokens to evaluate, got {len(stream)}")
    blocks = stream[: n_blocks * block_size].view(n_blocks, block_size)
    was_training = model.training
    model.eval()
    total_loss, total_tokens = 0.0, 0
    with torch.no_grad():
        for batch in blocks.split(32):
            # The model shifts labels itself: block_size - 1 predicted tokens per row.
            loss = model(input_ids=batch, labels=batch).loss
            predicted = batch.shape[0] * (block_size - 1)
            total_loss += float(loss) * predicted
            total_tokens += predicted
    model.train(was_training)
    return math.exp(total_loss / total_tokens)


def _learning_rate(step: int, params: LLMTrainingParams) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak (pure)."""
    if step < params.warmup_steps:
        return params.learning_rate * (step + 1) / params.warmup_steps
    progress = (step - params.warmup_steps) / max(1, params.max_steps - params.warmup_steps)
    return params.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


StepCallback = Callable[[int, float], None]
"""Called after every optimizer step with (steps done, that step's loss)."""


def _train_loop(
    model: GPT2LMHeadModel,
    stream: torch.Tensor,
    params: LLMTrainingParams,
    on_step: StepCallback | None = None,
) -> list[float]:
    """Train ``model`` in place on random windows of ``stream``; returns the losses."""
    import torch

    generator = torch.Generator().manual_seed(params.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=params.learning_rate, weight_decay=params.weight_decay
    )
    max_start = len(stream) - params.block_size
    losses: list[float] = []
    model.train()
    for step in range(params.max_steps):
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(step, params)
        starts = torch.randint(0, max_start, (params.batch_size,), generator=generator)
        batch = torch.stack([stream[start : start + params.block_size] for start in starts])
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step + 1, losses[-1])
    model.eval()
    return losses


def train(
    params: LLMTrainingParams | None = None,
    *,
    corpus: Corpus | None = None,
    on_step: StepCallback | None = None,
) -> TrainedLM:
    """Train tokenizer and model from ``params`` and evaluate them on held-out text;
    ``on_step`` follows the optimizer steps (a progress bar)."""
    import torch

    params = params or LLMTrainingParams()
    corpus = corpus or build_corpus(seed=params.corpus_seed, n_dialogues=params.n_dialogues)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(params.torch_threads)
    try:
        return _train(params, corpus, on_step)
    finally:
        torch.set_num_threads(previous_threads)


def _train(
    params: LLMTrainingParams, corpus: Corpus, on_step: StepCallback | None = None
) -> TrainedLM:
    import torch

    started = time.perf_counter()
    tokenizer = train_tokenizer(
        list(corpus.train), vocab_size=params.vocab_size, max_length=params.n_positions
    )
    train_stream = token_stream(corpus.train, tokenizer)
    held_out_stream = token_stream(corpus.held_out, tokenizer)
    torch.manual_seed(params.seed)
    model = build_model(params, tokenizer)
    untrained = perplexity(model, held_out_stream, block_size=params.block_size)
    losses = _train_loop(model, train_stream, params, on_step)
    trained = perplexity(model, held_out_stream, block_size=params.block_size)
    return TrainedLM(
        model=model,
        tokenizer=tokenizer,
        params=params,
        metrics={
            "perplexity": trained,
            "untrained_perplexity": untrained,
            "final_train_loss": losses[-1],
        },
        data_fingerprint=corpus.fingerprint,
        extra={
            "architecture": "gpt2",
            "n_parameters": sum(p.numel() for p in model.parameters()),
            # At most params.vocab_size: BPE stops when the corpus has no pair left to merge.
            "tokenizer_vocab_size": len(tokenizer),
            "train_tokens": len(train_stream),
            "held_out_tokens": len(held_out_stream),
            "training_seconds": round(time.perf_counter() - started, 3),
            "context_length": params.n_positions,
        },
    )


def save(trained: TrainedLM, *, name: str = LLM_MODEL_NAME) -> bentoml.Tag:
    """Save model and tokenizer (``save_pretrained``) as a new BentoML model version."""
    import bentoml

    metadata = trained.metadata()
    with bentoml.models.create(
        name,
        labels={"kind": metadata.kind, "architecture": "gpt2"},
        metadata=metadata.to_bentoml(),
    ) as model_ref:
        trained.model.save_pretrained(model_ref.path)
        trained.tokenizer.save_pretrained(model_ref.path)
    return model_ref.tag


def train_and_save(
    *,
    seed: int = 0,
    max_steps: int = 300,
    name: str = LLM_MODEL_NAME,
    on_step: StepCallback | None = None,
    **overrides: Any,
) -> bentoml.Tag:
    """Train with ``seed`` for ``max_steps`` (other params from ``overrides``) and save;
    ``on_step(steps_done, loss)`` after every optimizer step."""
    params = LLMTrainingParams(seed=seed, max_steps=max_steps, **overrides)
    return save(train(params, on_step=on_step), name=name)
