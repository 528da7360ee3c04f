"""Steps 3 and 4: a canary rollout through the canaria router, run by the local operator.

For each rollout the demo writes two files: the router's YAML config (stable and canary
upstreams, and the candidate again as the shadow, compared with the classic comparator)
and a ModelRollout for ``canaria operator --local`` (router traffic provider, scrape
metrics provider, the checks from ``RolloutLimits``). It then starts a fresh router, so
the operator's counters hold this rollout's traffic only, and the operator, and watches
the rollout's state file (``watch.py``) until its final phase.
"""

from __future__ import annotations

import subprocess  # nosec B404 # runs this venv's canaria CLI with an argument list
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from canaria.demo.console import say
from canaria.demo.results import ModelSummary, RolloutResult, TrafficStats
from canaria.demo.settings import DemoSettings, RolloutLimits
from canaria.demo.stack import ComponentError, Process, Stack
from canaria.demo.traffic import TrafficGenerator
from canaria.demo.watch import RolloutWatcher, decisions
from canaria.testing.processes import REPO_ROOT, free_port
from canaria.testing.router import TOKEN_ENV as ROUTER_TOKEN_ENV
from canaria.testing.router import router_command, write_router_config
from monitoring.api.status import Phase, RolloutStatus
from monitoring.operator.local_rollout import local_rollout

# Phases after which the operator leaves a rollout alone.
FINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.ROLLED_BACK})


@dataclass(frozen=True)
class RolloutPlan:
    """One rollout the demo runs: which model replaces which, and what should happen."""

    name: str
    title: str
    stable: ModelSummary
    canary: ModelSummary
    expected_phase: Phase
    expected_failed_check: str | None = None
    failure_limit: int | None = None


def router_config(
    *,
    stable_url: str,
    canary_url: str,
    limits: RolloutLimits,
    timeout: float,
    shadow: bool = True,
) -> dict[str, Any]:
    """The router's config: weight 0 to start (the operator moves it), and, with
    ``shadow``, every answer the candidate did not give itself compared with the
    candidate's (pure)."""
    upstreams = {
        "stable": {"url": stable_url, "timeout_seconds": timeout},
        "canary": {"url": canary_url, "timeout_seconds": timeout},
    }
    shadowing: dict[str, Any] = {}
    if shadow:
        upstreams["shadow"] = {"url": canary_url, "timeout_seconds": timeout}
        shadowing["shadow"] = {
            "sample_rate": 1.0,
            "comparator": "classic",
            "classic": {"probability_tolerance": limits.probability_tolerance},
        }
    return {
        "upstreams": upstreams,
        "canary_weight": 0,
        **shadowing,
        "never_log": ["customer_id"],
        # One loopback URL for traffic, metrics and the operator's admin calls: the admin
        # API stays on the serving port (explicitly; the router's default is its own
        # listener on 127.0.0.1:8081).
        "admin": {"token_env": ROUTER_TOKEN_ENV, "listen": "public"},
    }


def check_specs(limits: RolloutLimits) -> list[dict[str, Any]]:
    """The rollout's checks: success rate, latency p99 and shadow agreement, each over
    one interval (pure)."""
    window = limits.interval
    return [
        {
            "name": "success-rate",
            "builtin": "requestSuccessRate",
            "min": limits.min_success_rate,
            "window": window,
        },
        {
            "name": "latency-p99",
            "builtin": "latencyP99",
            "max": limits.max_latency_p99_seconds,
            "window": window,
        },
        {
            "name": "shadow-agreement",
            "builtin": "shadowAgreement",
            "min": limits.min_shadow_agreement,
            "window": window,
        },
    ]


def check_limits(limits: RolloutLimits) -> dict[str, str]:
    """``{"latency-p99": "max 1.5"}``: each check's threshold, for the report (pure)."""
    shown: dict[str, str] = {}
    for check in check_specs(limits):
        bound = "min" if "min" in check else "max"
        shown[str(check["name"])] = f"{bound} {check[bound]:g}"
    return shown


def model_rollout(
    *, plan: RolloutPlan, router_url: str, limits: RolloutLimits, namespace: str = "demo"
) -> dict[str, Any]:
    """The ModelRollout the local operator reads (pure)."""
    failure_limit = limits.failure_limit if plan.failure_limit is None else plan.failure_limit
    return local_rollout(
        name=plan.name,
        namespace=namespace,
        stable_tag=plan.stable.tag,
        canary_tag=plan.canary.tag,
        router_url=router_url,
        token_env=ROUTER_TOKEN_ENV,
        analysis={
            "interval": limits.interval,
            "stepWeights": list(limits.step_weights),
            "failureLimit": failure_limit,
            "inconclusiveLimit": 2,
            "checks": check_specs(limits),
        },
    )


def canaria_args(*args: str) -> list[str]:
    """``canaria ...`` run with this interpreter (no reliance on the console script)."""
    return [sys.executable, "-m", "canaria.cli", *args]


def start_router(
    stack: Stack,
    settings: DemoSettings,
    *,
    name: str,
    stable: Process,
    canary: Process,
    token: str,
    shadow: bool = True,
) -> Process:
    """A fresh router in front of ``stable`` and ``canary`` (config in
    ``rollouts/<name>-router.yaml``); returns once it is ready."""
    workdir = settings.output_dir / "rollouts"
    workdir.mkdir(parents=True, exist_ok=True)
    config = router_config(
        stable_url=stable.base_url,
        canary_url=canary.base_url,
        limits=settings.limits,
        timeout=settings.request_timeout,
        shadow=shadow,
    )
    config_path = write_router_config(config, workdir / f"{name}-router.yaml")
    port = free_port()
    args = router_command(config_path, port=port)
    process = stack.start(f"router-{name}", args, port=port, env={ROUTER_TOKEN_ENV: token})
    stack.wait_ready(process, "/readyz", timeout=settings.startup_timeout)
    return process


def write_rollout(settings: DemoSettings, plan: RolloutPlan, *, router: Process) -> Path:
    """Write the ModelRollout file (and forget any state a previous run left beside it)."""
    workdir = settings.output_dir / "rollouts"
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{plan.name}.yaml"
    document = model_rollout(plan=plan, router_url=router.base_url, limits=settings.limits)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    from monitoring.operator.state import state_path_for

    state_path_for(path, workdir).unlink(missing_ok=True)  # state beside the rollouts
    return path


def start_operator(
    stack: Stack,
    *,
    name: str,
    rollout_path: Path,
    token: str,
    env: dict[str, str] | None = None,
) -> Process:
    """``canaria operator --local FILE``; the watcher decides when it has started."""
    args = canaria_args(
        "operator", "--local", str(rollout_path), "--state-dir", str(rollout_path.parent)
    )
    process = stack.start(f"operator-{name}", args, env={ROUTER_TOKEN_ENV: token, **(env or {})})
    if not process.running():
        raise ComponentError(process.name, "exited at once", process.log_tail())
    return process


def run_rollout(
    stack: Stack,
    settings: DemoSettings,
    plan: RolloutPlan,
    *,
    router: Process,
    token: str,
    records: list[dict[str, Any]],
    manual_rollback: bool = False,
) -> RolloutResult:
    """Run ``plan`` under steady traffic to its final phase; with ``manual_rollback``, ask
    for a rollback once the canary has traffic (``canaria rollout rollback --local``, as a
    person would) and show ``status``. The operator is stopped after, the router is left to
    the caller."""
    path = write_rollout(settings, plan, router=router)
    if manual_rollback:
        drive = _rolled_back_by_hand(settings, path)
    else:
        say(f"router {router.base_url} (log {router.log_path}), rollout {path}")
        say(f"checks every {settings.limits.interval}: {_limits_text(settings.limits)}")
        drive = _until_final(settings)
    return _operate(
        stack, settings, plan, path, router=router, token=token, records=records, drive=drive
    )


def _until_final(settings: DemoSettings) -> Callable[[RolloutWatcher], RolloutStatus]:
    def until_final(watcher: RolloutWatcher) -> RolloutStatus:
        return watcher.wait_until(
            lambda status: status.phase in FINAL_PHASES,
            timeout=settings.rollout_timeout,
            waiting_for="the rollout to finish",
        )

    return until_final


def _rolled_back_by_hand(
    settings: DemoSettings, path: Path
) -> Callable[[RolloutWatcher], RolloutStatus]:
    def roll_back(watcher: RolloutWatcher) -> RolloutStatus:
        watcher.wait_until(
            lambda status: status.phase is Phase.PROGRESSING and status.canary_weight > 0,
            timeout=settings.startup_timeout,
            waiting_for="the canary to get traffic",
        )
        asked = time.monotonic()
        wait = ("--wait-timeout", f"{settings.request_timeout:g}")  # waits until applied
        run_cli(settings, "rollout", "rollback", "--local", str(path), *_state(path), *wait)
        status = watcher.wait_until(
            lambda status: status.phase in FINAL_PHASES,
            timeout=settings.limits.interval_seconds * 2 + 30.0,
            waiting_for="the manual rollback",
        )
        say(
            f"canary at {status.canary_weight}% "
            f"{time.monotonic() - asked:.1f}s "
            f"after the command (one interval is {settings.limits.interval})"
        )
        # Exit code 1: the documented code for a rolled-back rollout (CI pipelines use it).
        run_cli(settings, "rollout", "status", "--local", str(path), *_state(path), expect=1)
        return status

    return roll_back


def _operate(
    stack: Stack,
    settings: DemoSettings,
    plan: RolloutPlan,
    path: Path,
    *,
    router: Process,
    token: str,
    records: list[dict[str, Any]],
    drive: Callable[[RolloutWatcher], RolloutStatus],
) -> RolloutResult:
    """Traffic through ``router`` and an operator on ``path`` while ``drive`` runs the
    rollout to the status it returns; both are stopped however that ends."""
    traffic = traffic_for(settings, router, records).start()
    operator: Process | None = None
    try:
        operator = start_operator(stack, name=plan.name, rollout_path=path, token=token)
        watcher = RolloutWatcher(rollout_path=path, operator=operator)
        status = drive(watcher)
    finally:
        stats = traffic.stop()
        if operator is not None:
            stack.stop(operator)
    result = rollout_result(plan, watcher, status, stats, limits=check_limits(settings.limits))
    say_outcome(result)
    return result


def traffic_for(
    settings: DemoSettings,
    router: Process,
    records: list[dict[str, Any]],
    max_seconds: float | None = None,
) -> TrafficGenerator:
    """Traffic through ``router``, stopping by itself after ``max_seconds`` (default:
    ``settings.traffic_max_seconds``, one rollout's worth)."""
    return TrafficGenerator(
        url=router.base_url,
        records=records,
        rate=settings.traffic_rate,
        workers=settings.traffic_workers,
        max_seconds=settings.traffic_max_seconds if max_seconds is None else max_seconds,
        timeout=settings.request_timeout,
    )


def _state(path: Path) -> tuple[str, str]:
    """The demo keeps each rollout's state file beside it, in ``rollouts/``."""
    return ("--state-dir", str(path.parent))


def run_cli(settings: DemoSettings, *args: str, expect: int | tuple[int, ...] = 0) -> int:
    """Run ``canaria ARGS`` and print what it printed; an exit code other than ``expect``
    (``canaria rollout status`` exits 1 for a rolled-back rollout) names the command.
    Returns the exit code."""
    command = canaria_args(*args)
    shown = "canaria " + " ".join(args)
    say(f"$ {shown}")
    try:
        done = subprocess.run(  # nosec B603 # argv = sys.executable -m canaria.cli + demo args, no shell
            command,
            capture_output=True,
            text=True,
            timeout=settings.request_timeout * 2,
            cwd=str(REPO_ROOT),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ComponentError(shown, "did not finish in time") from None
    say((done.stdout + done.stderr).rstrip(), indent=2)
    expected = (expect,) if isinstance(expect, int) else expect
    if done.returncode not in expected:
        raise ComponentError(shown, f"exited with code {done.returncode}, not {expect}")
    return done.returncode


def _limits_text(limits: RolloutLimits) -> str:
    steps = "/".join(str(weight) for weight in limits.step_weights)
    checks = ", ".join(f"{name} {bound}" for name, bound in check_limits(limits).items())
    return f"weights {steps}%, {checks}, failureLimit {limits.failure_limit}"


def rollout_result(
    plan: RolloutPlan,
    watcher: RolloutWatcher,
    final: RolloutStatus,
    stats: TrafficStats,
    *,
    limits: dict[str, str],
) -> RolloutResult:
    """What the report shows of one rollout, from its ``final`` status."""
    return RolloutResult(
        name=plan.name,
        title=plan.title,
        stable_tag=plan.stable.tag,
        canary_tag=plan.canary.tag,
        expected_phase=plan.expected_phase,
        final_phase=final.phase.value,
        final_weight=final.canary_weight,
        message=final.message,
        seconds=round(time.monotonic() - watcher.started, 2),
        timeline=tuple(watcher.timeline),
        decisions=decisions(final),
        traffic=stats,
        check_limits=limits,
        expected_failed_check=plan.expected_failed_check,
    )


def say_outcome(result: RolloutResult) -> None:
    traffic = result.traffic
    answers = [f"HTTP {code}: {count}" for code, count in traffic.by_status.items()]
    answers += [f"{name} {count}" for name, count in traffic.by_variant.items()]
    say(f"traffic: {traffic.sent} requests in {traffic.seconds:.0f}s ({', '.join(answers)})")
    verdict = "as expected" if result.as_expected else f"EXPECTED {result.expectation}"
    say(f"result: {result.final_phase} after {result.seconds:.1f}s ({verdict})")
    say(f"evidence: {result.message}")
