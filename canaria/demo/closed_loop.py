"""Rollout 4, the closed loop: traffic drifts, the drift monitor sees it, the local operator
starts a retraining Job, the registered version goes through the canary and is promoted.

Real parts: the stable's ``bentoml serve`` logging what it scores (``CANARIA_SAMPLE_LOG``),
``canaria drift monitor`` on that log (its gauges scraped by the operator and by
Prometheus), ``canaria operator --local`` with the rollout's ``retrain`` section (local
Job launcher: ``canaria retrain`` as a subprocess, into the demo's BentoML store) and
``CANARIA_CANARY_HANDSHAKE=true`` (``handshake.py`` serves the new version), a router
without a shadow, and ``canaria drift`` writing Evidently's HTML report of the window.

The customers change twice over: another population (covariate shift, strength 1: what
the drift monitor sees) and other reasons to churn (the generator's label model labels
the logged inputs with concept drift 1: what the Job learns from; ``training.labels``
documents that stand-in for an outcome feed).
"""

from __future__ import annotations

import os
import subprocess  # nosec B404 # only subprocess.TimeoutExpired, from waiting on a started Process
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from canaria.demo.console import say
from canaria.demo.drift_watch import DriftRecorder, changed, describe, window_since
from canaria.demo.handshake import CanaryHandshake
from canaria.demo.prometheus import PrometheusServer, ScrapeTarget
from canaria.demo.results import (
    ClosedLoopOutcome,
    DriftPoint,
    LoopEvent,
    ModelRole,
    ModelSummary,
    PrometheusAnswer,
    RolloutResult,
    TrafficStats,
)
from canaria.demo.rollout import (
    FINAL_PHASES,
    RolloutPlan,
    canaria_args,
    check_specs,
    rollout_result,
    say_outcome,
    start_operator,
    start_router,
    traffic_for,
)
from canaria.demo.settings import DemoSettings
from canaria.demo.stack import ComponentError, Process, Stack
from canaria.demo.traffic import TrafficGenerator, churn_records
from canaria.demo.watch import RolloutWatcher
from canaria.testing.processes import free_port
from canaria.testing.router import TOKEN_ENV as ROUTER_TOKEN_ENV
from monitoring.api.status import Phase, RolloutStatus
from monitoring.operator.local import CANARY_HANDSHAKE_ENV, read_local
from monitoring.operator.local_rollout import local_rollout

NAME = "churn-retrain"
TITLE = "Rollout 4: closed loop (drift, retraining, canary)"
DRIFT_ABOVE = 0.3
DRIFT_INTERVALS = 2
DRIFT_SEED = 5151
DRIFT_ROWS = 2000
RETRAIN_MARGIN = 0.01
RETRAIN_SEED = 7
MONITOR_INTERVAL = 1.0
EVIDENTLY_REPORT = Path("drift") / "evidently-report.html"
# A retrained model is meant to answer differently from the champion (the population
# changed): agreement with it is no gate here; the Job judged quality on fresh labels.
LOOP_CHECKS = ("requestSuccessRate", "latencyP99")


def monitor_args(*, model: str, sample_log: Path, window: float, port: int) -> list[str]:
    """``canaria drift monitor`` on the stable's sample log (pure)."""
    return canaria_args(
        "drift", "monitor", "--model", model, "--log", f"stable={sample_log}",
        "--interval", f"{MONITOR_INTERVAL:g}", "--window", f"{window:g}", "--port", str(port),
    )  # fmt: skip


def loop_rollout(
    *, stable_tag: str, router_url: str, monitor_url: str, settings: DemoSettings
) -> dict[str, Any]:
    """The ModelRollout: nothing rolling out (canary = stable) until a retrained version
    lands; retrain when the stable's drift share stays above ``DRIFT_ABOVE`` (pure)."""
    limits = settings.limits
    checks = [check for check in check_specs(limits) if check["builtin"] in LOOP_CHECKS]
    doc = local_rollout(
        name=NAME, namespace="demo", stable_tag=stable_tag, canary_tag=stable_tag,
        router_url=router_url, token_env=ROUTER_TOKEN_ENV,
        analysis={"interval": limits.interval, "stepWeights": list(limits.step_weights),
                  "failureLimit": limits.failure_limit, "inconclusiveLimit": 2,
                  "checks": checks},
    )  # fmt: skip
    doc["spec"]["metricsProvider"]["targets"]["drift"] = [f"{monitor_url}/metrics"]
    job = ["--samples", str(settings.stable_sample_log), "--concept-drift", "1",
           "--seed", str(RETRAIN_SEED)]  # fmt: skip
    doc["spec"]["retrain"] = {
        "launcher": "local",
        "triggers": {"driftShare": {"above": DRIFT_ABOVE, "intervals": DRIFT_INTERVALS}},
        "cooldownSeconds": 3600,
        "margin": RETRAIN_MARGIN,
        "job": {"args": job},
    }
    return doc


def window_seconds(settings: DemoSettings) -> float:
    """The monitor's window: six analysis intervals (100+ rows at the demo's rate)."""
    return settings.limits.interval_seconds * 6


def loop_seconds(settings: DemoSettings) -> float:
    """The longest the loop's waits can add up to (its traffic stops by itself after it):
    a first measurement, the trigger, the Job, serving the new version, its canary."""
    return settings.rollout_timeout * 7 + settings.startup_timeout + 15.0


class ClosedLoop:
    """Runs rollout 4; ``outcome()`` says what it reached, also after an error."""

    def __init__(
        self,
        stack: Stack,
        settings: DemoSettings,
        *,
        stable: ModelSummary,
        stable_server: Process,
        token: str,
        prometheus: PrometheusServer | None,
        targets: Sequence[ScrapeTarget],
    ) -> None:
        self.stack, self.settings, self.stable = stack, settings, stable
        self.stable_server, self.token = stable_server, token
        self.prometheus, self.targets = prometheus, list(targets)
        self.workdir = settings.output_dir / "rollouts"
        self.started = time.monotonic()
        self.recorder: DriftRecorder | None = None
        self.drift_started: float | None = None
        self.rollout: RolloutResult | None = None
        self.evidently = ("", "")
        self.report_process: Process | None = None
        self.answers: tuple[PrometheusAnswer, ...] = ()
        self._shown: DriftPoint | None = None
        self._steps_shown = 0

    def run(self, records: list[dict[str, Any]]) -> RolloutResult:
        """The whole scenario, step by step; stops its operator and traffic however it ends."""
        monitor = self.start_monitor()
        router = start_router(
            self.stack, self.settings, name=NAME, stable=self.stable_server,
            canary=self.stable_server, token=self.token, shadow=False,
        )  # fmt: skip
        self.scrape([ScrapeTarget.from_url(f"{monitor.base_url}/metrics", job="drift-monitor"),
                     ScrapeTarget.from_url(f"{router.base_url}/metrics", job=f"router-{NAME}",
                                           labels={"rollout": NAME})])  # fmt: skip
        path = self.write_rollout(router, monitor)
        self.started = time.monotonic()  # the timeline starts with the loop, as a rollout's
        self.recorder = DriftRecorder(f"{monitor.base_url}/metrics", started=self.started).start()
        traffic = traffic_for(self.settings, router, records, loop_seconds(self.settings))
        traffic.start()
        operator: Process | None = None
        try:
            operator = start_operator(
                self.stack, name=NAME, rollout_path=path, token=self.token,
                env={CANARY_HANDSHAKE_ENV: "true"},
            )  # fmt: skip
            watcher = RolloutWatcher(rollout_path=path, operator=operator)
            watcher.started = self.started
            status = self.drive(watcher, traffic, router)
        finally:
            stats = traffic.stop()
            self.recorder.stop()
            if operator is not None:
                self.stack.stop(operator)
        self.finish_evidently_report()
        self.query_prometheus()
        self.stack.stop(router)
        self.stack.stop(monitor)
        self.rollout = self.result(watcher, status, stats)
        return self.rollout

    def start_monitor(self) -> Process:
        """Empty the stable's sample log (this scenario's traffic only), start the monitor."""
        log = self.settings.stable_sample_log
        if log.exists():
            os.truncate(log, 0)  # the server appends with O_APPEND: it goes on at the start
        port = free_port()
        window = window_seconds(self.settings)
        args = monitor_args(model=self.stable.tag, sample_log=log, window=window, port=port)
        process = self.stack.start("drift-monitor", args, port=port)
        self.stack.wait_ready(process, "/metrics", timeout=self.settings.startup_timeout)
        say(f"drift monitor {process.base_url}/metrics: the stable's inputs ({log}) against "
            f"{self.stable.tag}'s reference sample, a {window:g}s window every "
            f"{MONITOR_INTERVAL:g}s")  # fmt: skip
        return process

    def scrape(self, extra: list[ScrapeTarget]) -> None:
        if self.prometheus is not None:
            up = self.prometheus.set_targets([*self.targets, *extra])
            say(f"Prometheus scrapes the drift monitor too ({up} targets up)")

    def write_rollout(self, router: Process, monitor: Process) -> Path:
        from monitoring.operator.state import state_path_for

        path = self.workdir / f"{NAME}.yaml"
        doc = loop_rollout(
            stable_tag=self.stable.tag, router_url=router.base_url,
            monitor_url=monitor.base_url, settings=self.settings,
        )  # fmt: skip
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        state_path_for(path, self.workdir).unlink(missing_ok=True)
        say(f"rollout {path}: retrain when the stable's drift share is above {DRIFT_ABOVE} "
            f"for {DRIFT_INTERVALS} analyses (every {self.settings.limits.interval}); "
            f"a new version must beat the champion's roc_auc by {RETRAIN_MARGIN}")  # fmt: skip
        return path

    def drive(
        self, watcher: RolloutWatcher, traffic: TrafficGenerator, router: Process
    ) -> RolloutStatus:
        """Baseline, drift, retraining, handshake, canary, promotion: the steps in order."""
        timeout = self.settings.rollout_timeout
        self.wait(watcher, lambda s: self._baseline(), timeout, "a first drift measurement")
        say("the customers change: another population (covariate shift 1.0)")
        traffic.switch_records(
            churn_records(n_rows=DRIFT_ROWS, seed=DRIFT_SEED, scenario="covariate-shift",
                          strength=1.0)
        )  # fmt: skip
        self.drift_started = round(time.monotonic() - self.started, 2)
        self.wait(watcher, _retraining, timeout * 2, "the operator to start a retraining Job")
        self.start_evidently_report()
        handshake = CanaryHandshake(
            self.stack, self.settings, name=NAME, folder=self.workdir, router=router,
            router_config=self.workdir / f"{NAME}-router.yaml", token=self.token,
        )  # fmt: skip
        status = self.wait(
            watcher, lambda s: handshake.asked() is not None or _retrain_ended(s),
            timeout * 3, "the retraining Job's end",
        )  # fmt: skip
        tag = handshake.asked()
        if tag is None:
            return status  # refused or failed: recorded, nothing to serve
        say(f"the operator asks for {tag} as the canary: starting bentoml serve for it")
        server = handshake.serve(tag)
        say(f"{tag} serves at {server.base_url}; the router's canary points there")
        # Idle until the operator sets the canary; then its analysis runs to a final phase.
        return self.wait(
            watcher, lambda s: s.phase in FINAL_PHASES,
            timeout, "the retrained canary's end",
        )  # fmt: skip

    def wait(
        self,
        watcher: RolloutWatcher,
        done: Callable[[RolloutStatus], bool],
        timeout: float,
        waiting_for: str,
    ) -> RolloutStatus:
        """``watcher.wait_until`` that also prints drift and retraining news as they come."""

        def check(status: RolloutStatus) -> bool:
            self._news(status)
            return done(status)

        return watcher.wait_until(check, timeout=timeout, waiting_for=waiting_for)

    def _baseline(self) -> bool:
        latest = self.recorder.latest() if self.recorder else None
        return latest is not None and latest.share is not None

    def _news(self, status: RolloutStatus) -> None:
        now = time.monotonic() - self.started
        for point in self.recorder.points() if self.recorder else []:
            newer = self._shown is None or point.seconds > self._shown.seconds
            if newer and changed(self._shown, point):
                say(f"+{point.seconds:5.1f}s  drift       {describe(point)}")
                self._shown = point
        history = status.retrain.history if status.retrain else ()
        for entry in history[self._steps_shown :]:
            say(f"+{now:5.1f}s  retraining  {entry.step}: {entry.message}")
        self._steps_shown = max(self._steps_shown, len(history))

    def start_evidently_report(self) -> None:
        """``canaria drift`` on the window the monitor flagged (its last ``window_seconds``,
        100+ rows), in the background (Evidently's HTML report takes a while):
        ``finish_evidently_report`` reads it."""
        current = window_since(
            self.settings.stable_sample_log, time.time() - window_seconds(self.settings),
            self.settings.output_dir / "drift" / "current.jsonl",
        )  # fmt: skip
        html = self.settings.output_dir / EVIDENTLY_REPORT
        args = ("drift", "--model", self.stable.tag, "--current", str(current),
                "--report", str(html), "--json", str(html.with_name("summary.json")))  # fmt: skip
        say(f"$ canaria {' '.join(args)}  (in the background, log logs/drift-report.log)")
        self.report_process = self.stack.start("drift-report", canaria_args(*args))

    def finish_evidently_report(self) -> None:
        """Wait for ``canaria drift`` (exit 1: drift, 0: none; else it failed: say so)."""
        process = self.report_process
        if process is None:
            return
        try:
            code = process.popen.wait(timeout=self.settings.startup_timeout)
        except subprocess.TimeoutExpired:
            raise ComponentError(
                process.name, "did not finish in time", process.log_tail()
            ) from None
        if code not in (0, 1):
            raise ComponentError(process.name, f"exited with code {code}", process.log_tail())
        html = self.settings.output_dir / EVIDENTLY_REPORT
        line = f"exit {code} ({'drift' if code == 1 else 'no drift'}): {html}"
        say(f"Evidently report of the drifted window: {line}")
        self.evidently = (str(EVIDENTLY_REPORT), line)

    def query_prometheus(self) -> None:
        if self.prometheus is None:
            return
        from canaria.contracts.metrics import DRIFT_SHARE

        self.prometheus.last_scrape()
        query = f'max_over_time({DRIFT_SHARE}{{variant="stable"}}[10m])'
        answer = self.prometheus.query(query)
        say(f"PromQL: {query}")
        say(answer.result, indent=2)
        self.answers = (answer,)

    def result(
        self, watcher: RolloutWatcher, status: RolloutStatus, stats: TrafficStats
    ) -> RolloutResult:
        found = status.retrain.last_result if status.retrain else {}
        canary = ModelSummary(
            role=ModelRole.RETRAINED,
            tag=str(found.get("new_tag") or "-"),
            trained_on=f"the stable's logged inputs, {found.get('trigger', '?')}",
            metrics=dict(found.get("challenger_metrics") or {}),
            seconds=0.0,
        )
        plan = RolloutPlan(NAME, TITLE, self.stable, canary, expected_phase=Phase.SUCCEEDED)
        result = rollout_result(plan, watcher, status, stats, limits=_limits(self.settings))
        say_outcome(result)
        return result

    def outcome(self) -> ClosedLoopOutcome:
        """What the report shows (also after an error: what was reached)."""
        path = self.workdir / f"{NAME}.yaml"
        try:
            doc = read_local(path, self.workdir)
        except Exception:  # nothing written yet, or unreadable: an empty record
            doc = {"status": {}, "events": []}
        retrain = (doc.get("status") or {}).get("retrain") or {}
        steps = tuple(
            LoopEvent(str(e.get("time", "")), str(e.get("step", "")), str(e.get("message", "")))
            for e in retrain.get("history") or []
        )
        events = tuple(
            LoopEvent(str(e.get("time", "")), str(e.get("reason", "")), str(e.get("message", "")))
            for e in doc.get("events") or []
        )
        return ClosedLoopOutcome(
            drift=tuple(self.recorder.points()) if self.recorder else (),
            drift_threshold=DRIFT_ABOVE,
            drift_started=self.drift_started,
            retrain_steps=steps,
            events=events,
            retrain_result=dict(retrain.get("lastResult") or {}),
            evidently_report=self.evidently[0],
            evidently_line=self.evidently[1],
            prometheus=self.answers,
        )


def _limits(settings: DemoSettings) -> dict[str, str]:
    shown: dict[str, str] = {}
    for check in check_specs(settings.limits):
        if check["builtin"] in LOOP_CHECKS:
            bound = "min" if "min" in check else "max"
            shown[str(check["name"])] = f"{bound} {check[bound]:g}"
    return shown


def _retraining(status: RolloutStatus) -> bool:
    retrain = status.retrain
    return retrain is not None and (retrain.running or retrain.last_outcome is not None)


def _retrain_ended(status: RolloutStatus) -> bool:
    return status.retrain is not None and status.retrain.ended_without_version
