"""The LLM service's Prometheus metrics: latency to the first token, per-token latency,
throughput and token counts, each labelled with the served model and version.

``bentoml serve`` runs workers in prometheus_client's multiprocess mode and sets
``PROMETHEUS_MULTIPROC_DIR`` before it starts them; prometheus_client decides its storage
when first imported, so it is imported here only when the metrics are created, in the
service's ``__init__``. Its ``/metrics`` route then reports these next to BentoML's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from canaria.contracts.metrics import (
    LLM_COMPLETION_TOKENS_TOTAL,
    LLM_PROMPT_TOKENS_TOTAL,
    LLM_REQUESTS_TOTAL,
    LLM_TIME_PER_OUTPUT_TOKEN,
    LLM_TIME_TO_FIRST_TOKEN,
    LLM_TOKENS_PER_SECOND,
)

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

MODEL_LABELS = ("model", "version")
REQUEST_LABELS = (*MODEL_LABELS, "endpoint", "status")

# A tiny model on CPU answers in milliseconds; a 7B model on a busy GPU can take seconds.
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TPOT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
TOKENS_PER_SECOND_BUCKETS = (1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0)


@dataclass(frozen=True)
class GenerationStats:
    """What one finished (or abandoned) generation measured."""

    prompt_tokens: int
    completion_tokens: int
    time_to_first_token_s: float | None
    duration_s: float

    @property
    def time_per_output_token_s(self) -> float | None:
        """Mean gap between output tokens after the first (pure)."""
        if self.time_to_first_token_s is None or self.completion_tokens < 2:
            return None
        decode = self.duration_s - self.time_to_first_token_s
        return max(0.0, decode) / (self.completion_tokens - 1)

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens over the whole generation, prompt processing included (pure)."""
        if self.completion_tokens < 1 or self.duration_s <= 0:
            return None
        return self.completion_tokens / self.duration_s


@dataclass(frozen=True)
class LLMMetrics:
    """The metric objects; ``observe`` and ``count_request`` are what handlers call."""

    time_to_first_token: Histogram
    time_per_output_token: Histogram
    tokens_per_second: Histogram
    prompt_tokens: Counter
    completion_tokens: Counter
    requests: Counter

    def observe(self, stats: GenerationStats, *, model: str, version: str) -> None:
        labels = {"model": model, "version": version}
        self.prompt_tokens.labels(**labels).inc(stats.prompt_tokens)
        self.completion_tokens.labels(**labels).inc(stats.completion_tokens)
        if stats.time_to_first_token_s is not None:
            self.time_to_first_token.labels(**labels).observe(stats.time_to_first_token_s)
        if (per_token := stats.time_per_output_token_s) is not None:
            self.time_per_output_token.labels(**labels).observe(per_token)
        if (rate := stats.tokens_per_second) is not None:
            self.tokens_per_second.labels(**labels).observe(rate)

    def count_request(self, *, model: str, version: str, endpoint: str, status: int) -> None:
        self.requests.labels(
            model=model, version=version, endpoint=endpoint, status=str(status)
        ).inc()


def create_metrics(registry: CollectorRegistry | None = None) -> LLMMetrics:
    """Register the LLM metrics in ``registry`` (prometheus_client's default if None)."""
    from prometheus_client import REGISTRY, Counter, Histogram

    target = registry if registry is not None else REGISTRY
    return LLMMetrics(
        time_to_first_token=Histogram(
            LLM_TIME_TO_FIRST_TOKEN,
            "Seconds from accepting a request to its first generated token.",
            MODEL_LABELS,
            buckets=TTFT_BUCKETS,
            registry=target,
        ),
        time_per_output_token=Histogram(
            LLM_TIME_PER_OUTPUT_TOKEN,
            "Mean seconds between output tokens after the first, per request.",
            MODEL_LABELS,
            buckets=TPOT_BUCKETS,
            registry=target,
        ),
        tokens_per_second=Histogram(
            LLM_TOKENS_PER_SECOND,
            "Output tokens per second of generation time, per request.",
            MODEL_LABELS,
            buckets=TOKENS_PER_SECOND_BUCKETS,
            registry=target,
        ),
        prompt_tokens=Counter(
            LLM_PROMPT_TOKENS_TOTAL,
            "Prompt tokens processed.",
            MODEL_LABELS,
            registry=target,
        ),
        completion_tokens=Counter(
            LLM_COMPLETION_TOKENS_TOTAL,
            "Completion tokens generated.",
            MODEL_LABELS,
            registry=target,
        ),
        requests=Counter(
            LLM_REQUESTS_TOTAL,
            "Completion requests answered, by endpoint and HTTP status.",
            REQUEST_LABELS,
            registry=target,
        ),
    )
