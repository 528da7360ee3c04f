"""What the router costs: the same load through the router and straight to the upstream.

Two upstreams: a trivial ASGI app that answers a fixed classic-shaped JSON at once, and
the real classic service (``bentoml serve``). For each, ``wrk`` drives the upstream
directly and then through ``canaria router``: at a fixed, paced rate below saturation
(each connection waits ``delay_ms`` after each answer; two alternating rounds, averaged),
over one connection without pause, and at saturation (32 connections, no pause). Then
the primary's latency at the paced rate with a shadow that answers in 200 ms, shadow on
(every request copied) versus off, alternating three times.

Goals (from the issue): p50 added <= 1 ms, router/direct requests/s >= 0.7, primary p99
with the slow shadow <= 1.10x shadow off. All processes share this machine's cores with
``wrk``, so against the trivial upstream the router competes for CPU with both.

Run: ``python -m bench router`` (or ``make bench`` for all); writes bench/results/router.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.loadgen import LoadResult, churn_bodies, run_wrk

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "router.json"
DURATION_S = 5.0
WARMUP_S = 1.0  # wrk takes whole seconds
SATURATION_CONNECTIONS = 32
SHADOW_DELAY_S = 0.2
# Paced runs are the noisiest on a shared machine: they alternate, and the rounds average.
ROUNDS = {"paced": 2, "one_connection": 1, "saturation": 1}
SHADOW_ROUNDS = 3
BENTOML_ENV = {
    "CANARIA_CLASSIC_WORKERS": "1",
    "CANARIA_CLASSIC_BATCH_SIZE": "64",
    "CANARIA_CLASSIC_BATCH_LATENCY_MS": "1000",
}
GOAL_P50_ADDED_MS = 1.0
GOAL_THROUGHPUT_RATIO = 0.7
GOAL_SHADOW_P99_RATIO = 1.10


@dataclass(frozen=True)
class Pace:
    """A paced load: ``connections`` each sending, waiting ``delay_ms`` after each answer."""

    connections: int
    delay_ms: int


# Both well below what either upstream sustains on this machine (see the saturation rows).
PACED = {"trivial": Pace(connections=4, delay_ms=10), "classic": Pace(connections=2, delay_ms=20)}
# Closed loop, no pause: one connection (latency without queueing), and 32 (saturation).
ONE_CONNECTION = Pace(connections=1, delay_ms=0)
SATURATION = Pace(connections=SATURATION_CONNECTIONS, delay_ms=0)
TRIVIAL_BODY = json.dumps(
    {"predicted_class": "stay", "probability": 0.83, "probabilities": {"stay": 0.83, "churn": 0.17}}
).encode()


async def trivial_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The trivial upstream; ``BENCH_UPSTREAM_DELAY_S`` makes it a slow shadow."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    delay = float(os.environ.get("BENCH_UPSTREAM_DELAY_S", "0"))
    if delay:
        await asyncio.sleep(delay)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(TRIVIAL_BODY)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": TRIVIAL_BODY})


def wrk(
    url: str, *, bodies: Sequence[str], connections: int, duration_s: float, delay_ms: int = 0
) -> LoadResult:
    """One ``wrk`` run against the classic API path (``/predict``)."""
    return run_wrk(
        url,
        path="/predict",
        bodies=bodies,
        concurrency=connections,
        duration_s=round(duration_s),
        delay_ms=delay_ms,
    )


def measure(url: str, bodies: Sequence[str], *, pace: Pace) -> LoadResult:
    wrk(
        url,
        bodies=bodies,
        connections=pace.connections,
        duration_s=WARMUP_S,
        delay_ms=pace.delay_ms,
    )
    return wrk(
        url,
        bodies=bodies,
        connections=pace.connections,
        duration_s=DURATION_S,
        delay_ms=pace.delay_ms,
    )


def overhead(direct: LoadResult, routed: LoadResult) -> dict[str, float]:
    """Router minus direct, and the throughput ratio (pure)."""
    return {
        "p50_added_ms": round(routed.p50_ms - direct.p50_ms, 3),
        "p99_added_ms": round(routed.p99_ms - direct.p99_ms, 3),
        "throughput_ratio": round(routed.requests_per_s / direct.requests_per_s, 3),
    }


# --- processes --------------------------------------------------------------------------


@contextmanager
def _process(
    name: str, args: list[str], *, env: dict[str, str], log_dir: Path, ready: str
) -> Iterator[str]:
    from canaria.testing.running import free_port, running

    port = free_port()
    with running(
        [*args, "--port", str(port)],
        log_path=log_dir / f"{name}.log",
        port=port,
        ready_path=ready,
        env=env,
        timeout=180,
    ) as process:
        yield process.base_url


def _trivial(name: str, log_dir: Path, *, delay_s: float = 0.0) -> Any:
    args = [sys.executable, "-m", "uvicorn", "bench.bench_router:trivial_app"]
    args += ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]
    return _process(
        name, args, env={"BENCH_UPSTREAM_DELAY_S": str(delay_s)}, log_dir=log_dir, ready="/"
    )


@contextmanager
def _router(name: str, log_dir: Path, config: dict[str, Any]) -> Iterator[str]:
    from canaria.testing.router import running_router

    with running_router(
        config, workdir=log_dir, token=None, name=name, ready_path="/readyz", timeout=180
    ) as process:
        yield process.base_url


def _router_config(stable: str, shadow: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"upstreams": {"stable": {"url": stable, "timeout_seconds": 30}}}
    if shadow is not None:
        config["upstreams"]["shadow"] = {"url": shadow, "timeout_seconds": 5}
        config["shadow"] = {"sample_rate": 1.0, "max_in_flight": 512, "comparator": "classic"}
    return config


def _classic_env(home: Path) -> dict[str, str]:
    os.environ["BENTOML_HOME"] = str(home)
    from training.classic import train_and_save

    tag = str(train_and_save(seed=7, n_rows=4000))
    return {
        "BENTOML_HOME": str(home),
        "BENTOML_DO_NOT_TRACK": "true",
        "OMP_NUM_THREADS": "1",
        "CANARIA_CLASSIC_MODEL_TAG": tag,
        **BENTOML_ENV,
    }


# --- the benchmark ----------------------------------------------------------------------


def mean_result(results: Sequence[LoadResult]) -> LoadResult:
    """The rounds of one load point averaged (pure): rates, percentiles, failures summed."""
    count = len(results)
    return LoadResult(
        concurrency=results[0].concurrency,
        duration_s=sum(r.duration_s for r in results),
        requests=sum(r.requests for r in results),
        requests_per_s=sum(r.requests_per_s for r in results) / count,
        p50_ms=sum(r.p50_ms for r in results) / count,
        p90_ms=sum(r.p90_ms for r in results) / count,
        p99_ms=sum(r.p99_ms for r in results) / count,
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


def _compare(direct_url: str, router_url: str, bodies: list[str], pace: Pace) -> dict[str, Any]:
    """Direct and routed runs alternate, ``ROUNDS[load]`` times each; rounds are averaged."""
    runs: dict[str, Any] = {}
    loads = {"paced": pace, "one_connection": ONE_CONNECTION, "saturation": SATURATION}
    for load, current_pace in loads.items():
        rounds: list[tuple[LoadResult, LoadResult]] = []
        for _ in range(ROUNDS[load]):
            direct = measure(direct_url, bodies, pace=current_pace)
            routed = measure(router_url, bodies, pace=current_pace)
            rounds.append((direct, routed))
            print(f"  {load:14} direct {_line(direct)} | router {_line(routed)}", flush=True)
        direct, routed = mean_result([d for d, _ in rounds]), mean_result([r for _, r in rounds])
        runs[load] = {
            "direct": direct.to_dict(),
            "router": routed.to_dict(),
            **overhead(direct, routed),
            "rounds": [{"direct": d.to_dict(), "router": r.to_dict()} for d, r in rounds],
        }
    return runs


def _line(result: LoadResult) -> str:
    return (
        f"{result.requests_per_s:7.0f} req/s p50 {result.p50_ms:6.2f} p99 {result.p99_ms:6.2f} ms"
    )


def _shadow_runs(off_url: str, on_url: str, bodies: list[str]) -> dict[str, Any]:
    pace = PACED["trivial"]
    rounds: list[dict[str, Any]] = []
    for _ in range(SHADOW_ROUNDS):
        off = measure(off_url, bodies, pace=pace)
        on = measure(on_url, bodies, pace=pace)
        rounds.append({"shadow_off": off.to_dict(), "shadow_on": on.to_dict()})
        print(f"  shadow off {_line(off)} | on {_line(on)}", flush=True)
    p99_off = sum(r["shadow_off"]["p99_ms"] for r in rounds) / len(rounds)
    p99_on = sum(r["shadow_on"]["p99_ms"] for r in rounds) / len(rounds)
    return {
        "shadow_delay_s": SHADOW_DELAY_S,
        "pace": pace.__dict__,
        "rounds": rounds,
        "p99_off_ms": round(p99_off, 3),
        "p99_on_ms": round(p99_on, 3),
        "p99_ratio": round(p99_on / p99_off, 3),
    }


def goals(report: dict[str, Any]) -> dict[str, bool]:
    """Each goal of the issue, met or not (pure)."""
    met: dict[str, bool] = {}
    for upstream, runs in report["upstreams"].items():
        met[f"{upstream}: paced p50 added <= {GOAL_P50_ADDED_MS} ms"] = (
            runs["paced"]["p50_added_ms"] <= GOAL_P50_ADDED_MS
        )
        met[f"{upstream}: saturation router/direct >= {GOAL_THROUGHPUT_RATIO}"] = (
            runs["saturation"]["throughput_ratio"] >= GOAL_THROUGHPUT_RATIO
        )
    met[f"shadow: p99 on/off <= {GOAL_SHADOW_P99_RATIO}"] = (
        report["shadow"]["p99_ratio"] <= GOAL_SHADOW_P99_RATIO
    )
    return met


def markdown_table(report: dict[str, Any]) -> str:
    """The README table (pure)."""
    lines = [
        "| upstream | load | direct req/s | router req/s | ratio | direct p50 / p99 ms "
        "| router p50 / p99 ms | added p50 / p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for upstream, runs in report["upstreams"].items():
        for load, run in runs.items():
            direct, routed = run["direct"], run["router"]
            lines.append(
                f"| {upstream} | {load} | {direct['requests_per_s']:.0f} "
                f"| {routed['requests_per_s']:.0f} | {run['throughput_ratio']:.2f} "
                f"| {direct['p50_ms']:.2f} / {direct['p99_ms']:.2f} "
                f"| {routed['p50_ms']:.2f} / {routed['p99_ms']:.2f} "
                f"| {run['p50_added_ms']:+.2f} / {run['p99_added_ms']:+.2f} |"
            )
    shadow = report["shadow"]
    lines.append("")
    lines.append(
        f"Primary p99 with a {shadow['shadow_delay_s'] * 1000:.0f} ms shadow on every request: "
        f"{shadow['p99_on_ms']:.2f} ms vs {shadow['p99_off_ms']:.2f} ms off "
        f"({shadow['p99_ratio']:.2f}x)."
    )
    return "\n".join(lines)


def main() -> int:
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    trivial_bodies = [json.dumps({"features": {"tenure_months": n}}) for n in range(16)]
    with tempfile.TemporaryDirectory(prefix="canaria-bench-router-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        trivial = stack.enter_context(_trivial("trivial", work))
        slow = stack.enter_context(_trivial("slow-shadow", work, delay_s=SHADOW_DELAY_S))
        env = _classic_env(work / "bentoml")
        classic = stack.enter_context(
            _process(
                "classic",
                ["bentoml", "serve", "services.classic.service:ClassicService"],
                env=env,
                log_dir=work,
                ready="/readyz",
            )
        )
        routers = {
            name: stack.enter_context(_router(name, work, config))
            for name, config in {
                "router-trivial": _router_config(trivial),
                "router-classic": _router_config(classic),
                "router-shadow": _router_config(trivial, slow),
            }.items()
        }
        print("trivial upstream", flush=True)
        upstreams = {
            "trivial": _compare(
                trivial, routers["router-trivial"], trivial_bodies, PACED["trivial"]
            )
        }
        print("classic service", flush=True)
        upstreams["classic"] = _compare(
            classic, routers["router-classic"], churn_bodies(64), PACED["classic"]
        )
        print(f"shadow ({SHADOW_DELAY_S * 1000:.0f} ms)", flush=True)
        shadow = _shadow_runs(routers["router-trivial"], routers["router-shadow"], trivial_bodies)
    report: dict[str, Any] = {
        "benchmark": "router",
        "command": "python -m bench router",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_before": round(load_before, 2),
            "note": "shared machine; router, upstream and wrk share the same cores",
        },
        "settings": {
            "tool": "wrk (bench/loadgen.py script, plus a Lua delay() for paced runs)",
            "duration_s": DURATION_S,
            "warmup_s": WARMUP_S,
            "paced": {name: pace.__dict__ for name, pace in PACED.items()},
            "saturation_connections": SATURATION_CONNECTIONS,
            "rounds": ROUNDS,
            "shadow_rounds": SHADOW_ROUNDS,
            "classic_bentoml_env": BENTOML_ENV,
        },
        "upstreams": upstreams,
        "shadow": shadow,
    }
    report["goals"] = goals(report)
    report["wall_s"] = round(time.monotonic() - started, 1)
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown_table(report))
    print(json.dumps(report["goals"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
