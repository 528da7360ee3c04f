"""What the router costs, with each upstream HTTP client: the same load through the router
and straight to the upstream.

Two upstreams: a trivial ASGI app that answers a fixed classic-shaped JSON at once, and
the real classic service (``bentoml serve``). One router per upstream client (``custom``,
``aiohttp``; ``--client`` picks one or both) in front of each. For each upstream, ``wrk``
drives it directly and through every router, alternating within each round: at a fixed,
paced rate below saturation (each connection waits ``delay_ms`` after each answer; two
rounds, averaged), over one connection without pause, and at saturation (32 connections,
no pause). Then the primary's latency at the paced rate with a shadow that answers in
200 ms, shadow on (every request copied) versus off, per client. ``--repeat N`` measures
everything N times with the same processes and records the spread between the repeats.

Goals (from the issue): p50 added <= 1 ms, router/direct requests/s >= 0.7, primary p99
with the slow shadow <= 1.10x shadow off; only 2xx answers count, a point with errors
fails its goal. All processes share this machine's cores with ``wrk``, so against the
trivial upstream the router competes for CPU with both.

Run: ``python -m bench router`` (or ``make bench`` for all), or
``python -m bench.bench_router --client both --repeat 2``; writes bench/results/router.json.
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
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.loadgen import LoadResult, churn_bodies, error_statuses, run_wrk
from bench.router_report import goals, markdown_table, summarise

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "router.json"
DURATION_S = 5.0
WARMUP_S = 1.0  # wrk takes whole seconds
SATURATION_CONNECTIONS = 32
SHADOW_DELAY_S = 0.2
# Paced runs are the noisiest on a shared machine: they alternate, and the rounds average.
ROUNDS = {"paced": 2, "one_connection": 1, "saturation": 1}
SHADOW_ROUNDS = 2
CLIENTS = ("custom", "aiohttp")
BENTOML_ENV = {
    "CANARIA_CLASSIC_WORKERS": "1",
    "CANARIA_CLASSIC_BATCH_SIZE": "64",
    "CANARIA_CLASSIC_BATCH_LATENCY_MS": "1000",
}


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
        "throughput_ratio": round(routed.ok_per_s / direct.ok_per_s, 3) if direct.ok_per_s else 0.0,
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
    """A router; its upstream client is ``config['upstream_client']``."""
    from canaria.testing.router import running_router

    with running_router(
        config, workdir=log_dir, token=None, name=name, ready_path="/readyz", timeout=180
    ) as process:
        yield process.base_url


def _router_config(client: str, stable: str, shadow: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "upstreams": {"stable": {"url": stable, "timeout_seconds": 30}},
        "upstream_client": {"implementation": client},
    }
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
        statuses={
            status: sum(r.statuses.get(status, 0) for r in results)
            for status in sorted({status for r in results for status in r.statuses})
        },
    )


def _compare(
    direct_url: str, router_urls: dict[str, str], bodies: list[str], pace: Pace
) -> dict[str, Any]:
    """Direct and each client's router alternate, ``ROUNDS[load]`` times each; rounds are
    averaged."""
    runs: dict[str, Any] = {}
    loads = {"paced": pace, "one_connection": ONE_CONNECTION, "saturation": SATURATION}
    for load, current_pace in loads.items():
        rounds: list[dict[str, LoadResult]] = []
        for _ in range(ROUNDS[load]):
            points = {"direct": measure(direct_url, bodies, pace=current_pace)}
            for client, url in router_urls.items():
                points[client] = measure(url, bodies, pace=current_pace)
            rounds.append(points)
            lines = " | ".join(f"{name} {_line(point)}" for name, point in points.items())
            print(f"  {load:14} {lines}", flush=True)
        direct = mean_result([points["direct"] for points in rounds])
        clients = {}
        for client in router_urls:
            routed = mean_result([points[client] for points in rounds])
            clients[client] = {"router": routed.to_dict(), **overhead(direct, routed)}
        runs[load] = {
            "direct": direct.to_dict(),
            "clients": clients,
            "rounds": [{name: p.to_dict() for name, p in points.items()} for points in rounds],
        }
    return runs


def _line(result: LoadResult) -> str:
    return f"{result.ok_per_s:7.0f} 2xx/s p50 {result.p50_ms:6.2f} p99 {result.p99_ms:6.2f} ms" + (
        f" errors {error_statuses(result)}" if result.errors else ""
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
        "rounds": rounds,
        "p99_off_ms": round(p99_off, 3),
        "p99_on_ms": round(p99_on, 3),
        "p99_ratio": round(p99_on / p99_off, 3),
    }


def _measure_all(
    urls: dict[str, str], routers: dict[str, str], clients: Sequence[str]
) -> dict[str, Any]:
    """One repeat: both upstreams, every client, and the shadow runs (by client)."""
    trivial_bodies = [json.dumps({"features": {"tenure_months": n}}) for n in range(16)]
    print("trivial upstream", flush=True)
    trivial = {client: routers[f"trivial-{client}"] for client in clients}
    upstreams = {
        "trivial": _compare(urls["trivial"], trivial, trivial_bodies, PACED["trivial"]),
    }
    print("classic service", flush=True)
    classic = {client: routers[f"classic-{client}"] for client in clients}
    upstreams["classic"] = _compare(urls["classic"], classic, churn_bodies(64), PACED["classic"])
    shadow = {}
    for client in clients:
        print(f"shadow ({SHADOW_DELAY_S * 1000:.0f} ms), {client}", flush=True)
        shadow[client] = _shadow_runs(
            routers[f"trivial-{client}"], routers[f"shadow-{client}"], trivial_bodies
        )
    return {"upstreams": upstreams, "shadow": shadow}


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_router")
    parser.add_argument("--client", choices=(*CLIENTS, "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="measure everything N times")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat: must be at least 1, got {args.repeat}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    clients = list(CLIENTS) if args.client == "both" else [args.client]
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="canaria-bench-router-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        urls = {"trivial": stack.enter_context(_trivial("trivial", work))}
        slow = stack.enter_context(_trivial("slow-shadow", work, delay_s=SHADOW_DELAY_S))
        env = _classic_env(work / "bentoml")
        urls["classic"] = stack.enter_context(
            _process(
                "classic",
                ["bentoml", "serve", "services.classic.service:ClassicService"],
                env=env,
                log_dir=work,
                ready="/readyz",
            )
        )
        configs = {}
        for client in clients:
            configs[f"trivial-{client}"] = _router_config(client, urls["trivial"])
            configs[f"classic-{client}"] = _router_config(client, urls["classic"])
            configs[f"shadow-{client}"] = _router_config(client, urls["trivial"], slow)
        routers = {
            name: stack.enter_context(_router(f"router-{name}", work, config))
            for name, config in configs.items()
        }
        repeats = []
        for number in range(args.repeat):
            print(f"== repeat {number + 1} of {args.repeat}", flush=True)
            repeats.append(_measure_all(urls, routers, clients))
    report: dict[str, Any] = {
        "benchmark": "router",
        "command": f"python -m bench.bench_router --client {args.client} --repeat {args.repeat}",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_before": round(load_before, 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "note": "shared machine; router, upstream and wrk share the same cores",
        },
        "settings": {
            "tool": "wrk (bench/loadgen.py script, plus a Lua delay() for paced runs)",
            "clients": clients,
            "repeat": args.repeat,
            "duration_s": DURATION_S,
            "warmup_s": WARMUP_S,
            "paced": {name: pace.__dict__ for name, pace in PACED.items()},
            "saturation_connections": SATURATION_CONNECTIONS,
            "rounds": ROUNDS,
            "shadow_rounds": SHADOW_ROUNDS,
            "shadow_delay_s": SHADOW_DELAY_S,
            "shadow_pace": PACED["trivial"].__dict__,
            "classic_bentoml_env": BENTOML_ENV,
        },
        "summary": summarise(repeats),
        "repeats": repeats,
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
