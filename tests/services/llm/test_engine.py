"""The generation engine in-process: streaming, stop reasons and cancellation."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from services.llm import engine as engine_module
from services.llm.config import Device
from services.llm.engine import Finished, FinishReason, LLMEngine, SamplingParams, TextDelta
from services.llm.loader import load_causal_lm
from services.llm.metrics import GenerationStats

pytestmark = pytest.mark.slow  # starts real processes or trains a model


@pytest.fixture(scope="module")
def engine(llm_model_tag: str) -> LLMEngine:
    return LLMEngine(load_causal_lm(llm_model_tag, device=Device.CPU))


def _generate_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "llm-generate"]


def collect(engine: LLMEngine, prompt: str, params: SamplingParams) -> tuple[str, Finished]:
    async def run() -> tuple[str, Finished]:
        parts: list[str] = []
        finished = None
        async for event in engine.stream(engine.encode(prompt), params):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                finished = event
        assert finished is not None
        return "".join(parts), finished

    return asyncio.run(run())


def test_greedy_generation_is_deterministic_and_reports_length(engine: LLMEngine) -> None:
    params = SamplingParams(max_tokens=12, temperature=0.0, ignore_eos=True)
    text, finished = collect(engine, "Customer: Hi\nAgent:", params)
    again, _ = collect(engine, "Customer: Hi\nAgent:", params)

    assert text == again and text
    assert finished.finish_reason is FinishReason.LENGTH
    assert finished.stats.completion_tokens == 12
    assert finished.stats.prompt_tokens == len(engine.encode("Customer: Hi\nAgent:"))
    assert finished.stats.time_to_first_token_s is not None
    assert 0 < finished.stats.time_to_first_token_s <= finished.stats.duration_s


def test_closing_a_stream_stops_the_generate_thread(
    engine: LLMEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    done: list[GenerationStats] = []
    produced: list[int] = []  # every token the worker thread generated, read or not
    original_put = engine_module._QueueStreamer.put

    def counting_put(self: engine_module._QueueStreamer, value: Any) -> None:
        produced.append(value.numel())
        original_put(self, value)

    monkeypatch.setattr(engine_module._QueueStreamer, "put", counting_put)

    async def first_delta_then_leave() -> None:
        params = SamplingParams(max_tokens=250, ignore_eos=True)
        events = engine.stream(engine.encode("Customer: Hi"), params, on_done=done.append)
        async for event in events:
            assert isinstance(event, TextDelta)
            break
        await events.aclose()

    asyncio.run(first_delta_then_leave())
    deadline = time.monotonic() + 10
    while _generate_threads() and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not _generate_threads()
    (stats,) = done
    assert 1 <= stats.completion_tokens < 250
    # The first put is the prompt; without cancellation the thread would produce 250 more.
    assert sum(produced[1:]) < 200
