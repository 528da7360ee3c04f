"""How fast a bad canary loses its traffic, and how often a healthy one is rolled back.

The real local loop: ``canaria router``, two model servers whose errors the benchmark
switches on (``canaria.testing.fake_model``), steady traffic, and ``canaria operator
--local`` scraping the router's ``/metrics``. Each run gives the rollout a new canary
version (the operator restarts the analysis), so one operator process serves every run.

* bad runs: a random while after the canary gets traffic, it starts answering 500s; the
  time from its first bad answer to 0 % canary traffic at the router, divided by
  interval × (failureLimit + 1) (goal: <= 1.0);
* healthy runs: the canary is never bad; the share rolled back by mistake (goal: 0).

Flagger rolls back after ``threshold`` failed checks, each ``interval`` apart: at most
interval × threshold (60 s × threshold with its default interval). canaria's bound is the
same formula with threshold = failureLimit + 1; the ratio above says how much of it we use.

Run: ``python -m bench rollback`` (or ``make bench``); writes bench/results/rollback.json.
"""

from __future__ import annotations

import contextlib
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from canaria.testing import fake_model
from canaria.testing.local_loop import local_operator, router_checks, steady_traffic
from canaria.testing.router import TOKEN_ENV, running_router
from canaria.testing.wait import wait_until
from monitoring.api.observe import read_status
from monitoring.api.status import Phase, RolloutStatus
from monitoring.operator.local_rollout import local_rollout
from monitoring.operator.state import state_path_for

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "rollback.json"
TOKEN = "bench-rollback-admin-token"
INTERVAL_S = 0.5
FAILURE_LIMIT = 2
BOUND_S = INTERVAL_S * (FAILURE_LIMIT + 1)
RUNS = 20
BAD_STEPS = [10, 20, 30, 40, 50, 60, 70, 80, 90]  # long enough to still run when it fails
HEALTHY_STEPS = [25, 50, 75]
TRAFFIC_WORKERS = 4
GOAL_RATIO = 1.0
FLAGGER_DEFAULT_INTERVAL_S = 60.0


def rollout(router_url: str, canary_version: int, steps: list[int]) -> dict[str, Any]:
    window = f"{int(INTERVAL_S * 800)}ms"  # just under the interval: one analysis' samples
    return local_rollout(
        name="bench",
        stable_tag="churn-classifier:v1",
        canary_tag=f"churn-classifier:v{canary_version}",
        router_url=router_url,
        token_env=TOKEN_ENV,
        analysis={
            "interval": f"{int(INTERVAL_S * 1000)}ms",
            "stepWeights": steps,
            "failureLimit": FAILURE_LIMIT,
            "inconclusiveLimit": 2,
            "checks": router_checks(window=window, max_latency_p99=1.0),
        },
    )


def router_config(stable_url: str, canary_url: str) -> dict[str, Any]:
    return {
        "upstreams": {"stable": {"url": stable_url}, "canary": {"url": canary_url}},
        "canary_weight": 0,
        "reload_interval_seconds": 0.1,
    }


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended: the rollout's final phase and message; for a bad run also the
    seconds from the canary's first bad answer to 0 % at the router, and the canary's
    weight when it turned bad."""

    phase: Phase
    message: str
    seconds_to_zero: float | None = None
    weight_when_bad: int | None = None

    @property
    def seconds(self) -> float:
        """``seconds_to_zero`` rounded as the JSON lists it."""
        if self.seconds_to_zero is None:
            raise ValueError("a healthy run has no time to zero")
        return round(self.seconds_to_zero, 4)

    @property
    def ratio(self) -> float:
        """``seconds_to_zero`` ÷ interval × (failureLimit + 1), rounded like the JSON."""
        return round(self.seconds_to_zero / BOUND_S, 4) if self.seconds_to_zero else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The run as ``rollback.json`` lists it (healthy runs: phase and message only)."""
        if self.seconds_to_zero is None:
            return {"phase": self.phase.value, "message": self.message}
        return {
            "seconds_to_zero": self.seconds,
            "ratio": self.ratio,
            "phase": self.phase.value,
            "weight_when_bad": self.weight_when_bad,
            "message": self.message,
        }


class Bench:
    def __init__(self, work: Path, router_url: str, stable_url: str, canary_url: str) -> None:
        self.work = work
        self.router_url = router_url
        self.stable_url = stable_url
        self.canary_url = canary_url
        self.rollout_path = work / "bench.yaml"
        self.state_path = state_path_for(self.rollout_path, work)  # the state beside it
        self.router_config_path = work / "router.yaml"
        self.version = 1
        self.http = httpx.Client(timeout=5, headers={"Authorization": f"Bearer {TOKEN}"})

    def admin(self, path: str) -> dict[str, Any]:
        response = self.http.get(f"{self.router_url}{path}")
        response.raise_for_status()
        return dict(response.json())

    def typed_status(self) -> RolloutStatus:
        """The status as the operator wrote it, read through the API type (a fresh one
        while the state file is missing or half-written)."""
        with contextlib.suppress(OSError, ValueError):
            document = json.loads(self.state_path.read_text())
            return read_status(document.get("status")) or RolloutStatus()
        return RolloutStatus()

    def canary(self, **settings: float) -> dict[str, Any]:
        return fake_model.set_behaviour(self.canary_url, **settings)

    def first_bad_at(self) -> float:
        return float(fake_model.behaviour(self.canary_url)["first_bad_at"])

    def reset_router(self) -> None:
        """A promotion made the canary the router's stable; put the two back. The router
        reloads a changed file, so each run's file differs (a harmless timeout tweak)."""
        config = router_config(self.stable_url, self.canary_url)
        config["upstreams"]["stable"]["timeout_seconds"] = 10.0 + self.version / 1000
        self.router_config_path.write_text(yaml.safe_dump(config))

        def reset() -> bool:
            upstreams = self.admin("/admin/config")["upstreams"]
            return bool(upstreams["stable"]["timeout_seconds"] == 10.0 + self.version / 1000)

        wait("router reset", reset)

    def new_canary(self, steps: list[int]) -> None:
        self.version += 1
        doc = rollout(self.router_url, self.version, steps)
        self.rollout_path.write_text(yaml.safe_dump(doc, sort_keys=False))
        tag = f"churn-classifier:v{self.version}"
        wait(
            "start",
            lambda: (
                (status := self.typed_status()).canary_model is not None
                and status.canary_model.bento_tag == tag
                and status.phase is Phase.PROGRESSING
            ),
        )

    def bad_run(self, rng: random.Random) -> RunOutcome:
        self.reset_router()
        self.new_canary(BAD_STEPS)
        wait("canary traffic", lambda: self.admin("/admin/routes")["canary_weight"] > 0)
        time.sleep(rng.uniform(0.0, 2 * INTERVAL_S))  # fail at a random point of the grid
        weight = self.typed_status().canary_weight
        self.canary(error_rate=1.0)
        zero_at = wait(
            "rollback", lambda: self.admin("/admin/routes")["canary_weight"] == 0, poll=0.005
        )
        first_bad = self.first_bad_at()
        self.canary(error_rate=0.0)
        wait("status", lambda: self.typed_status().phase in (Phase.FAILED, Phase.ROLLED_BACK))
        status = self.typed_status()
        return RunOutcome(status.phase, status.message, zero_at - first_bad, weight)

    def healthy_run(self) -> RunOutcome:
        self.reset_router()
        self.new_canary(HEALTHY_STEPS)
        wait(
            "end",
            lambda: self.typed_status().phase in (Phase.SUCCEEDED, Phase.FAILED),
            timeout=60,
        )
        status = self.typed_status()
        return RunOutcome(status.phase, status.message)


def wait(
    what: str, condition: Callable[[], bool], *, timeout: float = 30.0, poll: float = 0.02
) -> float:
    """``wait_until`` that takes an unanswered or half-written status as "not yet"."""
    return wait_until(
        what, condition, timeout=timeout, poll=poll, ignoring=(httpx.HTTPError, KeyError)
    )


def summarise(bad: list[RunOutcome], healthy: list[RunOutcome]) -> dict[str, Any]:
    ratios = [run.ratio for run in bad]
    mistaken = sum(1 for run in healthy if run.phase is not Phase.SUCCEEDED)
    return {
        "rollback_ratio": {
            "mean": round(statistics.mean(ratios), 4),
            "p50": round(statistics.median(ratios), 4),
            "max": round(max(ratios), 4),
            "min": round(min(ratios), 4),
        },
        "seconds_to_zero": {
            "mean": round(statistics.mean(r.seconds for r in bad), 4),
            "max": round(max(r.seconds for r in bad), 4),
        },
        "bad_runs_rolled_back": sum(1 for run in bad if run.phase is Phase.FAILED),
        "healthy_rolled_back_share": mistaken / len(healthy),
        "goals": {
            "rollback_ratio_max_le_1": max(ratios) <= GOAL_RATIO,
            "no_healthy_rollback": mistaken == 0,
        },
        "flagger_comparison": {
            "formula": "interval x threshold (Flagger) = interval x (failureLimit + 1) (canaria)",
            "at_60s_interval_failure_limit_2": {
                "bound_seconds": FLAGGER_DEFAULT_INTERVAL_S * 3,
                "canaria_expected_seconds": round(
                    statistics.mean(ratios) * FLAGGER_DEFAULT_INTERVAL_S * 3, 1
                ),
                "canaria_worst_measured_seconds": round(
                    max(ratios) * FLAGGER_DEFAULT_INTERVAL_S * 3, 1
                ),
            },
        },
    }


def run_loop(work: Path, rng: random.Random) -> tuple[list[RunOutcome], list[RunOutcome]]:
    """The local loop in ``work``: every bad run, then every healthy run."""
    with (
        fake_model.serving("stable", workdir=work) as stable,
        fake_model.serving("canary", workdir=work) as canary,
        running_router(
            router_config(stable.base_url, canary.base_url), workdir=work, token=TOKEN
        ) as router,
    ):
        bench = Bench(work, router.base_url, stable.base_url, canary.base_url)
        bench.rollout_path.write_text(
            yaml.safe_dump(rollout(router.base_url, 1, HEALTHY_STEPS), sort_keys=False)
        )
        operator_log = work / "operator.log"
        with (
            steady_traffic(router.base_url, {"x": 1}, workers=TRAFFIC_WORKERS, pause=0.005),
            local_operator(
                bench.rollout_path,
                log_path=operator_log,
                token=TOKEN,
                log_level="WARNING",
                state_dir=work,
            ),
        ):
            bad = [bench.bad_run(rng) for _ in range(RUNS)]
            healthy = [bench.healthy_run() for _ in range(RUNS)]
    return bad, healthy


def main() -> int:
    rng = random.Random(7)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-rollback-") as tmp:
        bad, healthy = run_loop(Path(tmp), rng)
    report = {
        "benchmark": "rollback",
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "settings": {
            "interval_seconds": INTERVAL_S,
            "failure_limit": FAILURE_LIMIT,
            "bound_seconds": BOUND_S,
            "runs_each": RUNS,
            "bad_steps": BAD_STEPS,
            "healthy_steps": HEALTHY_STEPS,
            "traffic_workers": TRAFFIC_WORKERS,
        },
        **summarise(bad, healthy),
        "bad_runs": [run.to_dict() for run in bad],
        "healthy_runs": [run.to_dict() for run in healthy],
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")
    shown = ("rollback_ratio", "healthy_rolled_back_share", "goals", "wall_seconds")
    print(json.dumps({k: report[k] for k in shown}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
