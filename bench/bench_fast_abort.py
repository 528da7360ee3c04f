"""Fast abort: how many users see an error from a dead canary before its traffic leaves it.

A stable that answers 200 and a canary that answers 503 to everything (``status_app``
here, a trivial classic-shaped upstream), behind ``canaria router`` at 25 %
canary weight, with ``wrk`` pacing about 200 requests/s (4 connections, 15 ms pause after
each answer) for ``DURATION_S``. Each round runs the same load twice, on fresh routers:
with the breaker (``breaker: {failures: 5, window_requests: 20, window_seconds: 10}``,
the shipped example's values) and without it. The user-facing errors are wrk's non-2xx
answers. Without the breaker the canary's quarter of the traffic fails for the whole run
(until an operator's analysis would roll it back); with it, the errors stop at the trip.

Goal (issue 8 §7): at most 10 errors in total before traffic leaves the canary.

Run: ``python -m bench fast_abort``; writes bench/results/fast_abort.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import run_wrk
from canaria.contracts import metrics as catalog

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "fast_abort.json"
DURATION_S = 10
ROUNDS = 3
CONNECTIONS = 4
DELAY_MS = 15
CANARY_WEIGHT = 25
BREAKER = {"failures": 5, "window_requests": 20, "window_seconds": 10.0}
GOAL_MAX_ERRORS = 10
BODY = json.dumps({"features": {"tenure": 3, "plan": "basic"}})


STATUS_BODY = json.dumps({"predicted_class": "yes", "probability": 0.9}).encode()


async def status_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The upstream: answers ``STATUS_BODY`` with the status ``BENCH_UPSTREAM_STATUS``
    (``/ready``: always 200, its readiness probe)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(STATUS_BODY)).encode()),
    ]
    status = 200 if scope["path"] == "/ready" else int(os.environ["BENCH_UPSTREAM_STATUS"])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": STATUS_BODY})


@contextmanager
def _upstream(status: int, work: Path, name: str) -> Iterator[str]:
    from canaria.testing.running import free_port, running

    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "bench.bench_fast_abort:status_app"]
    args += ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]
    with running(
        [*args, "--port", str(port)],
        log_path=work / f"{name}.log",
        port=port,
        ready_path="/ready",
        env={"BENCH_UPSTREAM_STATUS": str(status)},
    ) as process:
        yield process.base_url


@contextmanager
def _router(stable: str, canary: str, *, breaker: bool, work: Path, name: str) -> Iterator[str]:
    from canaria.testing.router import running_router

    config: dict[str, Any] = {
        "upstreams": {"stable": {"url": stable}, "canary": {"url": canary}},
        "canary_weight": CANARY_WEIGHT,
        "access_log": {"sample_rate": 0.0, "always_log_errors": False},
    }
    if breaker:
        config["breaker"] = BREAKER
    with running_router(
        config, workdir=work, token=None, name=name, ready_path="/readyz"
    ) as process:
        yield process.base_url


def _metric(metrics: str, name: str, **labels: str) -> float:
    from canaria.testing.metrics import metric_samples, metric_value

    return metric_value(metric_samples(metrics), name, **labels)


def one_run(stable: str, canary: str, *, breaker: bool, work: Path, name: str) -> dict[str, Any]:
    """One paced load through a fresh router; the errors users saw and what the router did."""
    with _router(stable, canary, breaker=breaker, work=work, name=name) as url:
        result = run_wrk(
            url,
            path="/predict",
            bodies=[BODY],
            concurrency=CONNECTIONS,
            duration_s=DURATION_S,
            delay_ms=DELAY_MS,
        )
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    requests = catalog.ROUTER_REQUESTS_TOTAL
    return {
        "breaker": breaker,
        "requests": result.requests,
        "requests_per_s": result.requests_per_s,
        "user_facing_errors": result.non_2xx + result.socket_errors,
        "canary_requests": _metric(metrics, requests, variant="canary"),
        "canary_503": _metric(metrics, requests, variant="canary", status="503"),
        "trips": _metric(metrics, catalog.ROUTER_BREAKER_TRIPS_TOTAL, variant="canary"),
        "p50_ms": result.p50_ms,
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [run["user_facing_errors"] for run in runs]
    return {
        "errors_per_run": errors,
        "errors_max": max(errors),
        "errors_mean": round(statistics.fmean(errors), 1),
        "requests_per_s_mean": round(statistics.fmean(run["requests_per_s"] for run in runs), 1),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="canaria-bench-abort-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        stable = stack.enter_context(_upstream(200, work, "stable"))
        canary = stack.enter_context(_upstream(503, work, "canary"))
        runs = []
        for index in range(ROUNDS):
            for breaker in (True, False):
                name = f"router-{index}-{'breaker' if breaker else 'none'}"
                runs.append(one_run(stable, canary, breaker=breaker, work=work, name=name))
    with_breaker = summary([run for run in runs if run["breaker"]])
    without = summary([run for run in runs if not run["breaker"]])
    report = {
        "benchmark": "fast_abort",
        "setup": {
            "canary_weight": CANARY_WEIGHT,
            "connections": CONNECTIONS,
            "delay_ms": DELAY_MS,
            "duration_s": DURATION_S,
            "rounds": ROUNDS,
            "breaker": BREAKER,
            "canary_answers": 503,
        },
        "with_breaker": with_breaker,
        "without_breaker": without,
        "goal_max_errors": GOAL_MAX_ERRORS,
        "goal_met": with_breaker["errors_max"] <= GOAL_MAX_ERRORS,
        "runs": runs,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    shown = ("with_breaker", "without_breaker", "goal_met")
    print(json.dumps({key: report[key] for key in shown}, indent=2))
    return 0 if report["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
