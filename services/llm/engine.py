"""Token-by-token generation on a worker thread, delivered to the event loop as text.

``model.generate`` blocks, so it runs on its own thread; a streamer hands each new token id
to the event loop, which turns ids into text deltas and stop decisions. Setting the
request's cancel flag (the client left, or a stop sequence appeared) ends ``generate``
after its current token, so an abandoned request stops using the CPU or GPU.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from services.llm.metrics import GenerationStats

if TYPE_CHECKING:
    import torch

    from services.llm.loader import LoadedLM


class FinishReason(StrEnum):
    STOP = "stop"  # end-of-text token or a stop sequence
    LENGTH = "length"  # max_tokens reached


@dataclass(frozen=True)
class SamplingParams:
    """How to generate; ``temperature == 0`` means greedy decoding."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Finished:
    finish_reason: FinishReason
    stats: GenerationStats


class _End:
    """Queue marker: generate returned."""


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class StopMatcher:
    """Finds stop sequences in growing text and holds back what might start one.

    A tail of the text that could be the beginning of a stop sequence is not released
    until later tokens show it is not one, so a client never sees part of a stop sequence.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stops)
        self._longest = max((len(stop) for stop in self._stops), default=0)

    def _held_back(self, text: str) -> int:
        """Length of the longest tail of ``text`` that begins some stop sequence."""
        for size in range(min(len(text), self._longest - 1), 0, -1):
            tail = text[-size:]
            if any(stop.startswith(tail) for stop in self._stops):
                return size
        return 0

    def split(self, text: str, *, final: bool) -> tuple[str, bool]:
        """The releasable prefix of ``text`` and whether a stop sequence ended it (pure)."""
        cut = min((index for stop in self._stops if (index := text.find(stop)) >= 0), default=-1)
        if cut >= 0:
            return text[:cut], True
        if final:
            return text, False
        return text[: len(text) - self._held_back(text)], False


class _IncrementalText:
    """Turns a growing list of token ids into text deltas safe to send.

    Decoding the whole list each time (rather than token by token) keeps multi-byte
    characters and tokenizer-specific spacing right; a trailing incomplete UTF-8 sequence
    and a possible stop-sequence start are held back until the next tokens settle them.
    """

    def __init__(self, decode: Callable[[list[int]], str], stops: Sequence[str]) -> None:
        self._decode = decode
        self._matcher = StopMatcher(stops)
        self.token_ids: list[int] = []
        self.sent = ""  # text released so far
        self.stopped = False  # a stop sequence appeared

    def add(self, token_id: int) -> str:
        """Record one token; returns the newly releasable text (maybe empty)."""
        self.token_ids.append(token_id)
        text = self._decode(self.token_ids)
        if text.endswith("\ufffd"):
            return ""
        released, self.stopped = self._matcher.split(text, final=False)
        return self._release(released)

    def flush(self) -> str:
        """What was held back, once no more tokens will come."""
        if self.stopped:
            return ""
        # A completion cut off inside a UTF-8 sequence drops the partial character.
        text = self._decode(self.token_ids).rstrip("\ufffd")
        released, _ = self._matcher.split(text, final=True)
        return self._release(released)

    def _release(self, released: str) -> str:
        if len(released) <= len(self.sent):
            return ""
        delta, self.sent = released[len(self.sent) :], released
        return delta


class _QueueStreamer:
    """A transformers streamer: skips the prompt, forwards token ids to the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> None:
        self._loop = loop
        self._queue = queue
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True  # generate's first call carries the prompt
            return
        for token_id in value.reshape(-1).tolist():
            self.send(token_id)

    def end(self) -> None:
        self.send(_End())

    def send(self, item: object) -> None:
        # The loop may already be gone when the server shuts down mid-generation.
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)


class LLMEngine:
    """Generates completions for one loaded model."""

    def __init__(self, loaded: LoadedLM) -> None:
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        generation_config = loaded.model.generation_config
        configured = generation_config.eos_token_id if generation_config is not None else None
        # Chat models often end turns with a token other than the tokenizer's eos.
        eos_ids = configured if isinstance(configured, list) else [configured]
        self.eos_token_ids = frozenset(
            int(token) for token in [*eos_ids, self.tokenizer.eos_token_id] if token is not None
        )
        # No token stands for more UTF-8 bytes than its vocabulary entry spells (byte-level
        # BPE spells a byte with one character, SentencePiece a space with "▁", byte
        # fallback a byte with "<0x41>"), so a prompt longer than this cannot fit the
        # context and is refused before tokenizing.
        longest_token = max(
            (len(token.encode()) for token in self.tokenizer.get_vocab()), default=1
        )
        self.max_prompt_bytes = self.context_length * max(longest_token, 1)

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def version(self) -> str:
        return self.loaded.version

    @property
    def context_length(self) -> int:
        return self.loaded.context_length

    def decode(self, token_ids: list[int]) -> str:
        return str(self.tokenizer.decode(token_ids, skip_special_tokens=True))

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt text for a conversation, ending where the assistant's answer starts."""
        rendered = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return str(rendered)

    def _generate_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        # The model's generation config keeps its own end-of-text tokens.
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if params.ignore_eos:
            kwargs["min_new_tokens"] = params.max_tokens  # suppresses end-of-text until then
        if params.temperature == 0.0:
            kwargs["do_sample"] = False
        else:
            # OpenAI semantics: temperature and nucleus sampling only, no top-k cut-off.
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            kwargs["top_k"] = 0
        return kwargs

    def _run_generate(
        self,
        prompt_ids: list[int],
        params: SamplingParams,
        streamer: _QueueStreamer,
        cancel: threading.Event,
    ) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
                return torch.full(
                    (input_ids.shape[0],),
                    cancel.is_set(),
                    dtype=torch.bool,
                    device=input_ids.device,
                )

        device = self.loaded.device
        input_ids = torch.tensor([prompt_ids], dtype=torch.long, device=device)
        model: Any = self.loaded.model  # generate's stubs do not type-check
        with torch.inference_mode():
            model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                streamer=streamer,
                stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                **self._generate_kwargs(params),
            )

    async def stream(
        self,
        prompt_ids: list[int],
        params: SamplingParams,
        *,
        on_done: Callable[[GenerationStats], None] | None = None,
    ) -> AsyncGenerator[TextDelta | Finished, None]:
        """Yield text deltas as tokens arrive, then one ``Finished``.

        Leaving the iteration early (client disconnect) stops the worker thread.
        ``on_done`` gets the measurements however the generation ended, abandoned or
        failed ones included, since they used the accelerator too.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()
        streamer = _QueueStreamer(loop, queue)

        def work() -> None:
            try:
                self._run_generate(prompt_ids, params, streamer, cancel)
            except BaseException as error:
                streamer.send(_Failed(error))  # re-raised on the event loop
            finally:
                streamer.end()

        started = time.perf_counter()
        first_token_at: float | None = None
        text = _IncrementalText(self.decode, params.stop)
        threading.Thread(target=work, name="llm-generate", daemon=True).start()
        try:
            while not text.stopped:
                item = await queue.get()
                if isinstance(item, _End):
                    break
                if isinstance(item, _Failed):
                    raise item.error
                first_token_at = first_token_at or time.perf_counter()
                if delta := text.add(int(item)):
                    yield TextDelta(delta)
            if delta := text.flush():
                yield TextDelta(delta)
            stats = self._stats(prompt_ids, text.token_ids, started, first_token_at)
            yield Finished(self._finish_reason(text, params), stats)
        finally:
            cancel.set()
            if on_done is not None:
                on_done(self._stats(prompt_ids, text.token_ids, started, first_token_at))

    def _finish_reason(self, text: _IncrementalText, params: SamplingParams) -> FinishReason:
        """``length`` only when max_tokens ran out; an eos or stop sequence is ``stop``."""
        ids = text.token_ids
        ended_on_eos = bool(ids) and ids[-1] in self.eos_token_ids
        if text.stopped or ended_on_eos or len(ids) < params.max_tokens:
            return FinishReason.STOP
        return FinishReason.LENGTH

    @staticmethod
    def _stats(
        prompt_ids: list[int], token_ids: list[int], started: float, first_token_at: float | None
    ) -> GenerationStats:
        return GenerationStats(
            prompt_tokens=len(prompt_ids),
            completion_tokens=len(token_ids),
            time_to_first_token_s=None if first_token_at is None else first_token_at - started,
            duration_s=time.perf_counter() - started,
        )
