"""The tiny support-desk LLM: corpus, tokenizer, reproducible training, saved metadata."""

from __future__ import annotations

from pathlib import Path

import bentoml
import pytest
import torch

from canaria.contracts.chat import AGENT_PREFIX, CUSTOMER_PREFIX
from canaria.contracts.model_metadata import LLM_MODEL_NAME, ModelMetadata
from services.llm.config import Device
from services.llm.loader import load_causal_lm
from training.llm import (
    EOS_TOKEN,
    PAD_TOKEN,
    LLMTrainingParams,
    build_model,
    code_version,
    perplexity,
    token_stream,
    train,
    train_tokenizer,
)
from training.llm_corpus import build_corpus

pytestmark = pytest.mark.slow  # starts real processes or trains a model

# Small enough to train twice in a few seconds, large enough for the loss to move.
QUICK = {"max_steps": 5, "n_dialogues": 300, "batch_size": 4, "block_size": 64}


def test_corpus_is_deterministic_distinct_and_split() -> None:
    corpus = build_corpus(seed=0, n_dialogues=500)
    again = build_corpus(seed=0, n_dialogues=500)
    other = build_corpus(seed=1, n_dialogues=500)

    assert corpus == again and corpus.fingerprint == again.fingerprint
    assert other.fingerprint != corpus.fingerprint
    assert len(corpus.train) + len(corpus.held_out) == 500
    assert 30 <= len(corpus.held_out) <= 70
    assert not set(corpus.train) & set(corpus.held_out)
    for text in corpus.train[:20]:
        customer, agent = text.split("\n")
        assert customer.startswith(CUSTOMER_PREFIX) and agent.startswith(AGENT_PREFIX)


def test_corpus_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError, match="n_dialogues"):
        build_corpus(n_dialogues=1)
    with pytest.raises(ValueError, match="held_out_share"):
        build_corpus(held_out_share=1.0)


@pytest.mark.parametrize(
    "text",
    [
        "Customer: Can I pay by credit card?\nAgent: Yes.",
        "  leading spaces, tabs\tand trailing  ",
        "Prix: 12,50 € — naïve café, 日本語, emoji 📱",
        "",
    ],
)
def test_tokenizer_round_trips_any_text(text: str) -> None:
    corpus = build_corpus(n_dialogues=200)
    tokenizer = train_tokenizer(list(corpus.train), vocab_size=400, max_length=256)

    ids = tokenizer(text, add_special_tokens=False)["input_ids"]

    assert tokenizer.decode(ids) == text
    assert len(tokenizer) <= 400
    assert tokenizer.eos_token == EOS_TOKEN and tokenizer.pad_token == PAD_TOKEN
    assert tokenizer.eos_token_id != tokenizer.pad_token_id


def test_chat_template_ends_where_the_agent_answers() -> None:
    tokenizer = train_tokenizer(
        list(build_corpus(n_dialogues=100).train), vocab_size=300, max_length=64
    )
    prompt = tokenizer.apply_chat_template(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Bill?"},
        ],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert prompt == "System: Be brief.\nCustomer: Hi\nAgent: Hello.\nCustomer: Bill?\nAgent:"


def test_same_seed_gives_the_same_model_and_perplexity() -> None:
    first = train(LLMTrainingParams(seed=3, **QUICK))
    second = train(LLMTrainingParams(seed=3, **QUICK))
    other_seed = train(LLMTrainingParams(seed=4, **QUICK))

    assert first.metrics == second.metrics
    first_state, second_state = first.model.state_dict(), second.model.state_dict()
    assert all(torch.equal(first_state[key], second_state[key]) for key in first_state)
    assert other_seed.metrics["perplexity"] != first.metrics["perplexity"]


def test_training_params_are_checked() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        LLMTrainingParams(max_steps=0)
    with pytest.raises(ValueError, match="block_size"):
        LLMTrainingParams(block_size=512, n_positions=256)
    with pytest.raises(ValueError, match="n_head"):
        LLMTrainingParams(n_embd=100, n_head=3)


def test_saved_model_carries_complete_metadata(llm_model_tag: str) -> None:
    stored = bentoml.models.get(llm_model_tag)
    metadata = ModelMetadata.from_bentoml(stored.info.metadata)

    assert stored.tag.name == LLM_MODEL_NAME
    assert metadata.kind == "llm"
    assert metadata.feature_schema is None
    assert {"perplexity", "untrained_perplexity", "final_train_loss"} <= set(metadata.metrics)
    assert metadata.training_params["seed"] == 7
    assert metadata.training_params["max_steps"] == 30
    assert metadata.data_fingerprint == build_corpus().fingerprint
    assert metadata.code_version == code_version()
    assert metadata.extra["context_length"] == 256
    files = {path.name for path in Path(stored.path).iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= files


def test_trained_model_beats_an_untrained_one_on_held_out_text(llm_model_tag: str) -> None:
    """Reloaded from the store, the model reproduces its recorded perplexity."""
    loaded = load_causal_lm(llm_model_tag, device=Device.CPU)
    metadata = ModelMetadata.from_bentoml(bentoml.models.get(llm_model_tag).info.metadata)
    params = LLMTrainingParams(**metadata.training_params)
    held_out = token_stream(build_corpus().held_out, loaded.tokenizer)

    trained = perplexity(loaded.model, held_out, block_size=params.block_size)
    torch.manual_seed(params.seed)
    untrained = perplexity(
        build_model(params, loaded.tokenizer), held_out, block_size=params.block_size
    )

    assert trained == pytest.approx(metadata.metrics["perplexity"], rel=1e-4)
    assert trained < untrained / 10
    assert untrained == pytest.approx(metadata.metrics["untrained_perplexity"], rel=1e-4)
