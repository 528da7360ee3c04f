"""The LLM service over HTTP next to the same model called in-process, in one run.

Both sides load the same weights with services/llm/loader.py and generate with the same
code (services/llm/engine.py): in-process, ``LLMEngine.stream`` is called directly; over
HTTP, ``bentoml serve services.llm.service:LLMService`` answers ``POST /v1/completions``
with ``"stream": true``, read chunk by chunk with httpx. Every request has the same prompt,
greedy decoding and ``ignore_eos``, so every answer is ``max_tokens`` tokens long. At each
concurrency (1, then 4 streams) the sides alternate in rounds after a dropped warm-up, so
a change in the shared machine's load hits both alike.

Client-side, per stream: time to first token (TTFT), time per output token after the
first (TPOT) and tokens/s (prefill included, as the service counts it); per point, the
aggregate tokens/s. The service's ``canaria_llm_*`` histograms, scraped around each
concurrency's HTTP requests, give the server's view of the same requests: p50 (PromQL's
``histogram_quantile``, only as fine as the buckets) and mean (exact: ``_sum / _count``).
The server starts its TTFT clock after parsing and tokenizing the request.
bench/llm_report.py turns the timings and scrapes into the numbers and tables.

Run: ``python -m bench llm`` (or ``make bench``). Without ``--model`` it trains the tiny
support-desk model (``TRAIN_STEPS`` steps) into a temporary directory and gives the server
a private, temporary ``BENTOML_HOME``; torch uses one thread per side. Writes
bench/results/llm.json and prints Markdown tables. On a GPU, with a real model (loaded
twice: here and in the server)::

    python -m bench.bench_llm --device cuda --model /models/Qwen2.5-0.5B-Instruct \\
        --max-tokens 128 --output bench/results/llm-gpu.json

``--model`` takes what ``CANARIA_LLM_MODEL`` takes: a ``save_pretrained`` directory, a
Hugging Face id (downloaded on first use: fetch it beforehand) or a tag in your BentoML
store (``BENTOML_HOME`` is then left as it is); ``--dtype`` defaults to bfloat16 on CUDA.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.llm_report import (
    Measured,
    Side,
    StreamTiming,
    comparison,
    markdown_table,
    server_view,
    summarise,
)

if TYPE_CHECKING:
    import httpx

    from monitoring.providers.metrics.evaluate import Sample
    from services.llm.engine import LLMEngine, SamplingParams
    from services.llm.loader import LoadedLM

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "llm.json"
PROMPT = "Customer: How do I cancel my Basic 5 plan?\nAgent:"
MAX_TOKENS = 128
CONCURRENCIES = (1, 4)
ROUNDS = 3
# Requests each concurrent stream sends one after another, per round and side.
REQUESTS_PER_STREAM = {1: 6, 4: 3}
WARMUP_TOKENS = 8
TRAIN_STEPS = 100


async def in_process_stream(
    engine: LLMEngine, prompt_ids: list[int], params: SamplingParams
) -> StreamTiming:
    from services.llm.engine import Finished

    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async for event in engine.stream(prompt_ids, params):
        if isinstance(event, Finished):
            tokens = event.stats.completion_tokens
        else:
            last = time.perf_counter()
            first = first or last
    return StreamTiming(started, first, last, time.perf_counter(), tokens)


async def http_stream(client: httpx.AsyncClient, body: dict[str, Any]) -> StreamTiming:
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async with client.stream("POST", "/v1/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line.removeprefix("data: "))
            if "error" in chunk:
                raise RuntimeError(f"the service failed mid-stream: {chunk['error']}")
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            if any(choice.get("text") for choice in chunk.get("choices", ())):
                last = time.perf_counter()
                first = first or last
    return StreamTiming(started, first, last, time.perf_counter(), tokens)


async def run_point(
    call: Callable[[], Awaitable[StreamTiming]], *, concurrency: int, per_stream: int
) -> tuple[list[StreamTiming], float]:
    """``concurrency`` streams, each sending ``per_stream`` requests in turn; with wall time."""

    async def stream() -> list[StreamTiming]:
        return [await call() for _ in range(per_stream)]

    started = time.perf_counter()
    results = await asyncio.gather(*(stream() for _ in range(concurrency)))
    return [timing for batch in results for timing in batch], time.perf_counter() - started


async def measure(engine: LLMEngine, client: httpx.AsyncClient, *, max_tokens: int) -> Measured:
    """Both sides at every concurrency, alternating; the service's histograms alongside."""
    from monitoring.providers.metrics.scrape import parse_exposition
    from services.llm.engine import SamplingParams

    prompt_ids = engine.encode(PROMPT)

    def calls(tokens: int) -> dict[Side, Callable[[], Awaitable[StreamTiming]]]:
        params = SamplingParams(max_tokens=tokens, temperature=0.0, ignore_eos=True)
        body = {
            "prompt": PROMPT,
            "max_tokens": tokens,
            "temperature": 0.0,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        return {
            Side.IN_PROCESS: lambda: in_process_stream(engine, prompt_ids, params),
            Side.HTTP: lambda: http_stream(client, body),
        }

    async def scrape() -> tuple[Sample, ...]:
        response = await client.get("/metrics")
        response.raise_for_status()
        return parse_exposition(response.text)

    warmup, measured = calls(WARMUP_TOKENS), calls(max_tokens)
    results = Measured()
    for concurrency in CONCURRENCIES:
        for side in Side:  # opens the connections and runs torch's first-call work
            await run_point(warmup[side], concurrency=concurrency, per_stream=1)
        before = await scrape()
        timings: dict[Side, list[StreamTiming]] = {side: [] for side in Side}
        wall = dict.fromkeys(Side, 0.0)
        for _ in range(ROUNDS):
            for side in Side:
                got, seconds = await run_point(
                    measured[side],
                    concurrency=concurrency,
                    per_stream=REQUESTS_PER_STREAM[concurrency],
                )
                timings[side] += got
                wall[side] += seconds
        results.server[concurrency] = server_view(before, await scrape())
        for side in Side:
            point = summarise(timings[side], wall_s=wall[side], max_tokens=max_tokens)
            results.client[side][concurrency] = point
            print(
                f"  {side.value:10} c={concurrency} ttft p50 {point['ttft_p50_ms']:7.1f} ms "
                f"{point['aggregate_tokens_per_s']:7.1f} tokens/s",
                flush=True,
            )
    return results


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    from services.llm.config import Device, DType

    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_llm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model",
        help="BentoML tag, save_pretrained directory or Hugging Face id "
        "(default: train the tiny model into a temporary store)",
    )
    parser.add_argument("--device", choices=[d.value for d in Device], default=Device.AUTO.value)
    parser.add_argument("--dtype", choices=[d.value for d in DType], default=DType.AUTO.value)
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument(
        "--torch-threads", type=int, default=1, help="per side, on CPU (0: torch's default)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    return parser.parse_args(list(argv))


async def _measure_served(engine: LLMEngine, base_url: str, *, max_tokens: int) -> Measured:
    import httpx

    limits = httpx.Limits(max_connections=max(CONCURRENCIES) * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0, limits=limits) as client:
        return await measure(engine, client, max_tokens=max_tokens)


def _run(
    args: argparse.Namespace, *, model: str, env: dict[str, str], log_dir: Path
) -> tuple[LoadedLM, Measured, float]:
    """Start the server, load the same model here meanwhile, measure, stop the server."""
    from canaria.testing.running import free_port, start_process, stop_process, wait_http
    from services.llm.config import Device, DType
    from services.llm.engine import LLMEngine
    from services.llm.loader import load_causal_lm

    port = free_port()
    command = ["bentoml", "serve", "services.llm.service:LLMService", "--host", "127.0.0.1"]
    server = start_process(
        [*command, "--port", str(port)], log_path=log_dir / "serve.log", port=port, env=env
    )
    try:
        loaded = load_causal_lm(model, device=Device(args.device), dtype=DType(args.dtype))
        wait_http(server, "/readyz", timeout=300)
        started = time.monotonic()
        results = asyncio.run(
            _measure_served(LLMEngine(loaded), server.base_url, max_tokens=args.max_tokens)
        )
        return loaded, results, time.monotonic() - started
    finally:
        stop_process(server)


def _by_concurrency(points: dict[int, Any]) -> list[dict[str, Any]]:
    return [{"concurrency": concurrency, **point} for concurrency, point in points.items()]


def train_tiny_model(directory: Path) -> str:
    """Train the tiny support-desk model and save it to ``directory`` (``save_pretrained``).

    A directory rather than the BentoML store: ``python -m bench`` runs every benchmark in
    one process, and BentoML fixes its store's location the first time it is used there.
    """
    from training.llm import LLMTrainingParams, train

    trained = train(LLMTrainingParams(seed=7, max_steps=TRAIN_STEPS))
    trained.model.save_pretrained(directory)
    trained.tokenizer.save_pretrained(directory)
    return str(directory)


def main(argv: Sequence[str] = ()) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    import torch
    from transformers.utils import logging as transformers_logging

    from services.llm.config import Device
    from services.llm.loader import pick_device

    transformers_logging.disable_progress_bar()  # "Loading weights" bars, twice a run
    pick_device(Device(args.device), cuda_available=torch.cuda.is_available())  # fail early
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    with tempfile.TemporaryDirectory(prefix="canaria-bench-llm-") as tmp:
        env = {
            "BENTOML_DO_NOT_TRACK": "true",
            "CANARIA_LLM_DEVICE": args.device,
            "CANARIA_LLM_DTYPE": args.dtype,
            "CANARIA_LLM_TORCH_THREADS": str(args.torch_threads),
        }
        model = args.model
        if model is None:
            env["BENTOML_HOME"] = str(Path(tmp) / "bentoml")
            model = train_tiny_model(Path(tmp) / "support-lm")
        env["CANARIA_LLM_MODEL"] = model
        loaded, results, measured_s = _run(args, model=model, env=env, log_dir=Path(tmp))
    report = {
        "benchmark": "llm",
        "command": "python -m bench llm",
        "model": args.model or f"support-lm (trained here, {TRAIN_STEPS} steps)",
        "device": loaded.device,
        "dtype": str(next(loaded.model.parameters()).dtype).removeprefix("torch."),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name() if loaded.device.startswith("cuda") else None,
            "load_average_1m_before": round(load_before, 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "note": "shared machine: both sides share its cores with other work; numbers are noisy",
        },
        "settings": _settings(args, loaded),
        "results": {side.value: _by_concurrency(results.client[side]) for side in Side},
        "server_metrics": _by_concurrency(results.server),
        "comparison": comparison(results),
        "measured_s": round(measured_s, 1),
        "wall_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown_table(results))
    print(json.dumps(report["comparison"], indent=2))
    return 0


def _settings(args: argparse.Namespace, loaded: LoadedLM) -> dict[str, Any]:
    return {
        "prompt_tokens": len(loaded.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]),
        "max_tokens": args.max_tokens,
        "decoding": "greedy, ignore_eos (every answer is max_tokens long)",
        "concurrencies": list(CONCURRENCIES),
        "rounds": ROUNDS,
        "requests_per_stream_per_round": REQUESTS_PER_STREAM,
        "warmup_tokens": WARMUP_TOKENS,
        "torch_threads_per_side": args.torch_threads,
        "http": "bentoml serve, POST /v1/completions stream=true, httpx client",
        "in_process": "services.llm.engine.LLMEngine.stream on the same loaded model",
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
