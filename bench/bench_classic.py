"""Classic service vs. a plain FastAPI server, same pipeline, same machine, same load tool.

Both servers score the same saved churn pipeline with the same validation and answer the
same JSON; the plain one scores each request on its own (one uvicorn worker, like most
hand-written model servers), the BentoML one merges concurrent requests with adaptive
batching. Both run at once and ``wrk`` drives them in turn: at concurrency 1, then 32, each
gets a short warm-up and then ``DURATION_S`` of measured load. Results go to
``bench/results/classic.json``, and a Markdown table is printed.

Run: ``python -m bench classic`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

# Module level: FastAPI resolves the handlers' annotations in this module's namespace.
from fastapi import FastAPI, Request, Response

from bench.loadgen import LoadResult, churn_bodies, run_wrk

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "classic.json"
CONCURRENCIES = (1, 32)
# Seconds per measured point and per warm-up (CANARIA_BENCH_DURATION_S for a quick run).
DURATION_S = float(os.environ.get("CANARIA_BENCH_DURATION_S", "10"))
WARMUP_S = min(3.0, DURATION_S)
N_BODIES = 64
SERVERS = ("bentoml", "plain")
# BentoML serving settings used for the comparison (chosen by measurement; see README).
BENTOML_ENV = {
    "CANARIA_CLASSIC_WORKERS": "1",
    "CANARIA_CLASSIC_BATCH_SIZE": "64",
    "CANARIA_CLASSIC_BATCH_LATENCY_MS": "2000",
}
GOAL_THROUGHPUT_RATIO = 1.5  # BentoML / plain requests per second at concurrency 32
GOAL_P50_OVERHEAD_MS = 2.0  # BentoML p50 - plain p50 at concurrency 1


def plain_app() -> FastAPI:
    """The plain server: FastAPI scoring one request at a time with the same pipeline.

    Serves the model in ``CANARIA_CLASSIC_MODEL_TAG`` (latest by default) from the
    BentoML store; started with ``uvicorn --factory bench.bench_classic:plain_app``.
    """
    from canaria.contracts.logs import configure
    from services.classic.io_descriptors import log_response, request_id_from, single_response
    from services.classic.jobs import Refused, Scored
    from services.classic.scoring import ChurnScorer
    from services.classic.settings import ClassicSettings
    from services.classic.validation import RecordValidator, parse_single
    from training.classic import load

    settings = ClassicSettings.from_env(os.environ)
    pipeline, metadata = load(settings.model_tag)
    if metadata.feature_schema is None:
        raise SystemExit(f"{settings.model_tag} has no feature schema: retrain it")
    validator = RecordValidator(metadata.feature_schema)
    scorer = ChurnScorer(pipeline=pipeline, schema=metadata.feature_schema)
    configure()
    app = FastAPI()

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        received_at = time.monotonic()
        request_id = request_id_from(request.headers)
        parsed = parse_single(await request.body(), validator)
        result: Scored | Refused
        if parsed.problems:
            result = Refused(request_id, parsed.problems, received_at)
        else:
            record = parsed.records[0]
            prediction = scorer.predict([record.features])[0]  # inline: measured faster
            result = Scored(
                request_id, prediction, settings.model_tag, record.customer_id, received_at
            )
        response = single_response(result)
        log_response("predict", [result], response)  # the same JSON line the service logs
        return response

    return app


@contextmanager
def _server(kind: str, *, env: dict[str, str], log_dir: Path) -> Iterator[str]:
    from canaria.testing.running import free_port, running

    port = free_port()
    if kind == "bentoml":
        args = ["bentoml", "serve", "services.classic.service:ClassicService", "--port", str(port)]
        env = {**env, **BENTOML_ENV}
    else:
        args = [
            *(sys.executable, "-m", "uvicorn", "--factory", "bench.bench_classic:plain_app"),
            *("--port", str(port), "--log-level", "warning", "--no-access-log"),
        ]
    log_path = log_dir / f"{kind}.log"
    with running(
        args, log_path=log_path, port=port, ready_path="/readyz", env=env, timeout=120
    ) as process:
        yield process.base_url


def _measure(
    *, env: dict[str, str], bodies: list[str], log_dir: Path
) -> dict[str, list[LoadResult]]:
    """Both servers up at once (the idle one costs nothing), driven in turn at each
    concurrency, so a change in the shared machine's load hits both alike."""
    rows: dict[str, list[LoadResult]] = {kind: [] for kind in SERVERS}
    with ExitStack() as stack:
        urls = {
            kind: stack.enter_context(_server(kind, env=env, log_dir=log_dir)) for kind in SERVERS
        }
        for concurrency in CONCURRENCIES:
            for kind, url in urls.items():
                for duration_s in (WARMUP_S, DURATION_S):  # the warm-up result is dropped
                    result = run_wrk(
                        url,
                        path="/predict",
                        bodies=bodies,
                        concurrency=concurrency,
                        duration_s=duration_s,
                    )
                rows[kind].append(result)
                rate = f"{result.requests_per_s:8.1f} req/s"
                print(f"  {kind:8} c={concurrency:<3} {rate}", flush=True)
    return rows


def _comparison(rows: dict[str, list[LoadResult]]) -> dict[str, Any]:
    """Ratios and goals (pure)."""
    by = {(kind, r.concurrency): r for kind, results in rows.items() for r in results}
    top = max(CONCURRENCIES)
    ratio = by[("bentoml", top)].requests_per_s / by[("plain", top)].requests_per_s
    overhead = by[("bentoml", 1)].p50_ms - by[("plain", 1)].p50_ms
    return {
        f"throughput_ratio_c{top}": round(ratio, 3),
        "p50_overhead_ms_c1": round(overhead, 3),
        "goals": {
            f"throughput_ratio_c{top}>={GOAL_THROUGHPUT_RATIO}": ratio >= GOAL_THROUGHPUT_RATIO,
            f"p50_overhead_ms_c1<={GOAL_P50_OVERHEAD_MS}": overhead <= GOAL_P50_OVERHEAD_MS,
        },
    }


def markdown_table(rows: dict[str, list[LoadResult]]) -> str:
    """The results as a Markdown table (pure)."""
    lines = [
        "| server | concurrency | requests/s | p50 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, results in rows.items():
        for r in results:
            lines.append(
                f"| {kind} | {r.concurrency} | {r.requests_per_s:.1f} | {r.p50_ms:.2f} "
                f"| {r.p99_ms:.2f} | {r.non_2xx + r.socket_errors} |"
            )
    return "\n".join(lines)


def main() -> int:
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    with tempfile.TemporaryDirectory(prefix="canaria-bench-classic-") as tmp:
        home = Path(tmp) / "bentoml"
        env = {"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}
        os.environ["BENTOML_HOME"] = str(home)
        from training.classic import train_and_save

        tag = str(train_and_save(seed=7, n_rows=4000))
        env["CANARIA_CLASSIC_MODEL_TAG"] = tag
        bodies = churn_bodies(N_BODIES)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        rows = _measure(env=env, bodies=bodies, log_dir=Path(tmp))
    report = {
        "benchmark": "classic",
        "model_tag": tag,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_before": round(load_before, 2),
            "note": "shared machine: numbers are noisy",
        },
        "settings": {
            "tool": "wrk",
            "duration_s": DURATION_S,
            "warmup_s": WARMUP_S,
            "bentoml_env": BENTOML_ENV,
            "plain": "FastAPI + uvicorn, 1 worker, one pipeline call per request",
        },
        "results": {kind: [r.to_dict() for r in results] for kind, results in rows.items()},
        "comparison": _comparison(rows),
        "wall_s": round(time.monotonic() - started, 1),
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown_table(rows))
    print(json.dumps(report["comparison"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
