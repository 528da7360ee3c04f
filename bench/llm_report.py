"""The LLM benchmark's numbers and tables, from timings and scrapes (pure functions).

``bench/bench_llm.py`` runs the benchmark and calls these: one stream's timing
(:class:`StreamTiming`), a concurrency point summarised, the service's histograms between
two scrapes, and the Markdown tables and HTTP-over-in-process comparison of a run.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from canaria.contracts.metrics import (
    LLM_TIME_PER_OUTPUT_TOKEN,
    LLM_TIME_TO_FIRST_TOKEN,
    LLM_TOKENS_PER_SECOND,
)

if TYPE_CHECKING:
    from monitoring.providers.metrics.evaluate import Sample


class Side(StrEnum):
    """How the model is called."""

    IN_PROCESS = "in_process"  # LLMEngine.stream in this process
    HTTP = "http"  # the BentoML service, streamed over HTTP


# What the client measures, next to the service histogram that measures the same thing.
SERVER_METRICS = {
    "ttft_s": LLM_TIME_TO_FIRST_TOKEN,
    "tpot_s": LLM_TIME_PER_OUTPUT_TOKEN,
    "tokens_per_s": LLM_TOKENS_PER_SECOND,
}


@dataclass(frozen=True)
class StreamTiming:
    """One streamed answer, timed by the caller (``time.perf_counter`` seconds)."""

    started: float
    first_token_at: float
    last_token_at: float
    finished_at: float
    completion_tokens: int

    @property
    def ttft_s(self) -> float:
        return self.first_token_at - self.started

    @property
    def tpot_s(self) -> float:
        """Mean gap between tokens after the first, as the service defines it."""
        return (self.last_token_at - self.first_token_at) / max(1, self.completion_tokens - 1)

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / (self.finished_at - self.started)


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (1..99), interpolating between closest ranks (pure)."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(timings: Sequence[StreamTiming], *, wall_s: float, max_tokens: int) -> dict[str, Any]:
    """Client-side numbers of one concurrency point (pure)."""
    ttft = [t.ttft_s for t in timings]
    return {
        "requests": len(timings),
        "all_full_length": all(t.completion_tokens == max_tokens for t in timings),
        "ttft_p50_ms": round(percentile(ttft, 50) * 1000, 2),
        "ttft_p95_ms": round(percentile(ttft, 95) * 1000, 2),
        "tpot_p50_ms": round(percentile([t.tpot_s for t in timings], 50) * 1000, 3),
        "tokens_per_s_per_stream_p50": round(percentile([t.tokens_per_s for t in timings], 50), 1),
        "aggregate_tokens_per_s": round(sum(t.completion_tokens for t in timings) / wall_s, 1),
        "wall_s": round(wall_s, 3),
        "mean": {
            "ttft_s": round(sum(ttft) / len(ttft), 6),
            "tpot_s": round(sum(t.tpot_s for t in timings) / len(timings), 6),
            "tokens_per_s": round(sum(t.tokens_per_s for t in timings) / len(timings), 1),
        },
    }


def server_view(before: Sequence[Sample], after: Sequence[Sample]) -> dict[str, Any]:
    """p50 and mean of each service histogram over the requests between two scrapes (pure),
    summed over the series as ``histogram_quantile(0.5, sum by (le) (...))`` would."""
    from monitoring.providers.metrics.evaluate import histogram_quantile, increases

    view: dict[str, Any] = {}
    for key, metric in SERVER_METRICS.items():
        buckets: dict[float, float] = {}
        for sample in increases(after, before, f"{metric}_bucket", []):
            bound = float(sample.labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + sample.value
        total = sum(s.value for s in increases(after, before, f"{metric}_sum", []))
        count = sum(s.value for s in increases(after, before, f"{metric}_count", []))
        p50 = histogram_quantile(0.5, buckets)
        view[key] = {
            "p50": None if p50 is None else round(p50, 6),
            "mean": round(total / count, 6) if count else None,
            "count": int(count),
        }
    return view


@dataclass
class Measured:
    """Per concurrency: each side's client-side summary, and the service's own view."""

    client: dict[Side, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {side: {} for side in Side}
    )
    server: dict[int, dict[str, Any]] = field(default_factory=dict)


def _number(value: float | None, scale: float, digits: int) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}"


# Per metric: the client's p50 key, its unit scale from seconds, and the digits shown.
_AGREEMENT_ROWS = (
    ("ttft_s", "TTFT ms", "ttft_p50_ms", 1000.0, 1),
    ("tpot_s", "TPOT ms", "tpot_p50_ms", 1000.0, 2),
    ("tokens_per_s", "tokens/s per stream", "tokens_per_s_per_stream_p50", 1.0, 1),
)


def markdown_table(results: Measured) -> str:
    """Client-side numbers per side and concurrency, then the service's own view (pure)."""
    lines = [
        "| side | concurrency | TTFT p50 ms | TTFT p95 ms | TPOT p50 ms "
        "| tokens/s per stream | aggregate tokens/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for side in Side:
        for concurrency, p in results.client[side].items():
            lines.append(
                f"| {side.value} | {concurrency} | {p['ttft_p50_ms']:.1f} | {p['ttft_p95_ms']:.1f} "
                f"| {p['tpot_p50_ms']:.2f} | {p['tokens_per_s_per_stream_p50']:.1f} "
                f"| {p['aggregate_tokens_per_s']:.1f} |"
            )
    lines += [
        "",
        "| HTTP, concurrency | metric | client p50 | service histogram p50 "
        "| client mean | service mean |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for concurrency, server in results.server.items():
        client = results.client[Side.HTTP][concurrency]
        for key, label, client_p50, scale, digits in _AGREEMENT_ROWS:
            lines.append(
                f"| {concurrency} | {label} | {client[client_p50]:.{digits}f} "
                f"| {_number(server[key]['p50'], scale, digits)} "
                f"| {_number(client['mean'][key], scale, digits)} "
                f"| {_number(server[key]['mean'], scale, digits)} |"
            )
    return "\n".join(lines)


def comparison(results: Measured) -> dict[str, Any]:
    """What HTTP and BentoML add over the in-process call, per concurrency (pure)."""
    out: dict[str, Any] = {}
    for concurrency, direct in results.client[Side.IN_PROCESS].items():
        http = results.client[Side.HTTP][concurrency]
        out[f"c{concurrency}"] = {
            "ttft_p50_added_ms": round(http["ttft_p50_ms"] - direct["ttft_p50_ms"], 2),
            "tpot_p50_added_ms": round(http["tpot_p50_ms"] - direct["tpot_p50_ms"], 3),
            "aggregate_tokens_per_s_ratio": round(
                http["aggregate_tokens_per_s"] / direct["aggregate_tokens_per_s"], 3
            ),
        }
    return out
