"""The demo's scenario, one small function per step, in the order a user sees them.

``run_demo`` owns the ``Stack``: whatever happens (an error, Ctrl-C, SIGTERM), every
process it started is stopped by PID before it returns or raises, and the report is
written with whatever was reached.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from canaria.demo.console import heading, say
from canaria.demo.models import TrainedModels, train_models
from canaria.demo.prometheus import PrometheusServer
from canaria.demo.report import write_report
from canaria.demo.results import (
    ClosedLoopOutcome,
    DemoReport,
    ModelSummary,
    PrometheusAnswer,
    PrometheusOutcome,
    RolloutResult,
)
from canaria.demo.rollout import RolloutPlan, run_rollout, start_router
from canaria.demo.serving import Servers, start_servers
from canaria.demo.settings import DemoSettings
from canaria.demo.showcase import show_chat, show_prediction, show_stream
from canaria.demo.stack import ComponentError, Process, Stack, stop_on_signals
from canaria.demo.traffic import churn_records
from canaria.testing.prometheus import ScrapeTarget, find_prometheus
from monitoring.api.status import Phase

TRAFFIC_SEED = 4242
TRAFFIC_ROWS = 2000
REPORT_NAME = "report.html"
# Every process the run started, with its PID (all stopped by the time it is written).
PROCESSES_NAME = "processes.json"
RUN_FOLDERS = ("logs", "rollouts", "prometheus", "samples", "drift")


@dataclass
class Progress:
    """What the run has reached so far: the report is made of it, even after an error."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.monotonic)
    models: list[ModelSummary] = field(default_factory=list)
    showcase: list[tuple[str, str]] = field(default_factory=list)
    rollouts: list[RolloutResult] = field(default_factory=list)
    prometheus: PrometheusOutcome | None = None
    closed_loop: ClosedLoopOutcome | None = None
    notes: list[str] = field(default_factory=list)

    def report(self, settings: DemoSettings) -> DemoReport:
        return DemoReport(
            started=self.started.strftime("%Y-%m-%d %H:%M:%S UTC"),
            mode="quick" if settings.quick else "full",
            bentoml_home=str(settings.bentoml_home),
            models=tuple(self.models),
            rollouts=tuple(self.rollouts),
            prometheus=self.prometheus,
            showcase=tuple(self.showcase),
            notes=tuple(self.notes),
            seconds=time.monotonic() - self.clock,
            closed_loop=self.closed_loop,
        )


def step_train(settings: DemoSettings, progress: Progress) -> TrainedModels:
    heading(1, "Train the models")
    origin = (
        "from BENTOML_HOME"
        if settings.bentoml_home_from_env
        else "private to the demo; set BENTOML_HOME to use another"
    )
    say(f"BentoML store: {settings.bentoml_home} ({origin})")
    models = train_models(settings)
    progress.models.extend(models.all())
    return models


def step_serve(
    stack: Stack, settings: DemoSettings, models: TrainedModels, progress: Progress
) -> Servers:
    heading(2, "Serve them with bentoml serve")
    started = time.monotonic()
    servers = start_servers(
        stack,
        settings,
        stable=models.stable,
        candidate=models.candidate,
        drifted=models.drifted,
        llm=models.llm,
    )
    for role, process in (
        ("stable", servers.stable),
        ("healthy candidate", servers.candidate),
        ("drifted candidate", servers.drifted),
        ("LLM", servers.llm),
    ):
        say(f"{role:<18} {process.base_url}  pid {process.pid}  log {process.log_path}")
    say(f"all ready after {time.monotonic() - started:.1f}s")
    record = churn_records(n_rows=1, seed=TRAFFIC_SEED + 1)[0]
    timeout = settings.request_timeout
    tokens = settings.llm_tokens
    progress.showcase.append(
        ("classic", show_prediction(servers.stable.base_url, record, timeout=timeout))
    )
    progress.showcase.append(
        ("llm", show_chat(servers.llm.base_url, max_tokens=tokens, timeout=timeout))
    )
    progress.showcase.append(
        ("llm", show_stream(servers.llm.base_url, max_tokens=tokens, timeout=timeout))
    )
    return servers


def start_prometheus(
    stack: Stack, settings: DemoSettings, servers: Servers, progress: Progress
) -> PrometheusServer | None:
    """Prometheus where installed, scraping the model servers (routers are added later)."""
    binary = find_prometheus()
    if binary is None:
        reason = "skipped: no `prometheus` binary on PATH (Debian: apt-get install prometheus)"
        progress.prometheus = PrometheusOutcome(ran=False, detail=reason)
        say(f"Prometheus {reason}")
        return None
    try:
        server = PrometheusServer(
            stack,
            workdir=settings.output_dir / "prometheus",
            binary=binary,
            timeout=settings.startup_timeout,
        )
    except ComponentError as error:
        progress.prometheus = PrometheusOutcome(ran=False, detail=f"skipped: {error}")
        say(f"Prometheus could not start, skipped: {error}")
        return None
    targets = model_targets(servers)
    up = server.set_targets(targets)
    say(f"Prometheus {server.url}: {up}/{len(targets)} model servers scraped every second")
    return server


def model_targets(servers: Servers) -> list[ScrapeTarget]:
    """The model servers' ``/metrics``, labelled with the role of what they serve (pure)."""
    return [
        ScrapeTarget.from_url(
            f"{process.base_url}/metrics", labels={"model_role": role}, job=f"model-{role}"
        )
        for role, process in (
            ("stable", servers.stable),
            ("candidate", servers.candidate),
            ("drifted", servers.drifted),
            ("llm", servers.llm),
        )
    ]


def router_target(plan: RolloutPlan, router: Process) -> ScrapeTarget:
    return ScrapeTarget.from_url(
        f"{router.base_url}/metrics", labels={"rollout": plan.name}, job=f"router-{plan.name}"
    )


@dataclass(frozen=True)
class RolloutContext:
    """What every rollout step shares."""

    stack: Stack
    settings: DemoSettings
    servers: Servers
    token: str
    records: list[dict[str, Any]]
    prometheus: PrometheusServer | None

    def router_for(self, plan: RolloutPlan, stable: Process, canary: Process) -> Process:
        router = start_router(
            self.stack,
            self.settings,
            name=plan.name,
            stable=stable,
            canary=canary,
            token=self.token,
        )
        if self.prometheus is not None:
            # The previous router is gone: its series stay queryable, it is not scraped.
            self.prometheus.set_targets([*model_targets(self.servers), router_target(plan, router)])
        return router

    def run(
        self, plan: RolloutPlan, *, router: Process, manual_rollback: bool = False
    ) -> RolloutResult:
        """``plan`` through ``router``: run to its end, or rolled back by hand."""
        return run_rollout(
            self.stack,
            self.settings,
            plan,
            router=router,
            token=self.token,
            records=self.records,
            manual_rollback=manual_rollback,
        )


def step_healthy_rollout(
    context: RolloutContext, models: TrainedModels, progress: Progress
) -> None:
    heading(3, "Rollout 1: the healthy candidate, step by step")
    plan = RolloutPlan(
        name="churn-healthy",
        title="Rollout 1: healthy candidate",
        stable=models.stable,
        canary=models.candidate,
        expected_phase=Phase.SUCCEEDED,
    )
    servers = context.servers
    router = context.router_for(plan, servers.stable, servers.candidate)
    progress.rollouts.append(context.run(plan, router=router))
    if context.prometheus is not None:
        context.prometheus.last_scrape()
    context.stack.stop(router)


def step_drifted_rollout(
    context: RolloutContext, models: TrainedModels, progress: Progress
) -> Process:
    """Rollout 2, then a manual rollback by CLI on the same router (returned, still up)."""
    heading(4, "Rollout 2: the concept-drifted candidate")
    plan = RolloutPlan(
        name="churn-drifted",
        title="Rollout 2: concept-drifted candidate",
        stable=models.candidate,
        canary=models.drifted,
        expected_phase=Phase.FAILED,
        expected_failed_check="shadow-agreement",
    )
    servers = context.servers
    router = context.router_for(plan, servers.candidate, servers.drifted)
    progress.rollouts.append(context.run(plan, router=router))
    say("")
    say("Manual control: the same candidate again, rolled back by hand through the CLI")
    manual = RolloutPlan(
        name="churn-manual",
        title="Rollout 3: manual rollback through the CLI",
        stable=models.candidate,
        canary=models.drifted,
        expected_phase=Phase.ROLLED_BACK,
        # Let the person decide, not the failure limit.
        failure_limit=50,
    )
    progress.rollouts.append(context.run(manual, router=router, manual_rollback=True))
    return router


def step_closed_loop(context: RolloutContext, models: TrainedModels, progress: Progress) -> None:
    """Rollout 4 (``closed_loop.py``): drift -> retraining Job -> canary -> promotion."""
    from canaria.demo.closed_loop import ClosedLoop

    heading(6, "Rollout 4: the closed loop: drift, retraining, canary, promotion")
    loop = ClosedLoop(
        context.stack,
        context.settings,
        stable=models.stable,
        stable_server=context.servers.stable,
        token=context.token,
        prometheus=context.prometheus,
        targets=model_targets(context.servers),
    )
    try:
        progress.rollouts.append(loop.run(context.records))
    finally:
        progress.closed_loop = loop.outcome()


def step_prometheus(prometheus: PrometheusServer | None, progress: Progress) -> None:
    heading(5, "Prometheus")
    if prometheus is None:
        detail = progress.prometheus.detail if progress.prometheus else "skipped"
        say(detail)
        return
    from canaria.contracts.metrics import ROUTER_REQUESTS_TOTAL, Variant
    from monitoring.providers.interfaces import MetricQuery
    from monitoring.providers.metrics.promql import promql_for

    prometheus.last_scrape()
    agreement = promql_for(
        MetricQuery(
            check="shadowAgreement",
            variant=Variant.CANARY,
            window_seconds=60.0,
            selector={"rollout": "churn-drifted"},
        )
    )
    queries = [
        # Each router's last count: exact totals, where increase() would extrapolate.
        f"sum by (rollout, variant) (last_over_time({ROUTER_REQUESTS_TOTAL}[10m]))",
        agreement,
    ]
    answers: list[PrometheusAnswer] = []
    for query in queries:
        answer = prometheus.query(query)
        answers.append(answer)
        say(f"PromQL: {query}")
        say(answer.result, indent=2)
    progress.prometheus = PrometheusOutcome(
        ran=True,
        detail=f"Prometheus at {prometheus.url}, scraping every second",
        answers=tuple(answers),
    )


def clear_previous_run(settings: DemoSettings) -> None:
    """Remove what an earlier run left in the folders the demo owns (a stale Prometheus
    TSDB would add its series to this run's answers); the BentoML store is kept."""
    for name in RUN_FOLDERS:
        shutil.rmtree(settings.output_dir / name, ignore_errors=True)
    for name in (REPORT_NAME, PROCESSES_NAME):
        (settings.output_dir / name).unlink(missing_ok=True)


def run_demo(settings: DemoSettings) -> int:
    """Run every step; returns the exit code (0: every rollout ended as expected)."""
    progress = Progress()
    code = 0
    clear_previous_run(settings)
    stack = Stack(log_dir=settings.output_dir / "logs")
    try:
        with stop_on_signals(), stack:
            models = step_train(settings, progress)
            servers = step_serve(stack, settings, models, progress)
            prometheus = start_prometheus(stack, settings, servers, progress)
            context = RolloutContext(
                stack=stack,
                settings=settings,
                servers=servers,
                token=secrets.token_urlsafe(24),
                records=churn_records(n_rows=TRAFFIC_ROWS, seed=TRAFFIC_SEED),
                prometheus=prometheus,
            )
            step_healthy_rollout(context, models, progress)
            drifted_router = step_drifted_rollout(context, models, progress)
            step_prometheus(prometheus, progress)
            stack.stop(drifted_router)
            step_closed_loop(context, models, progress)
            say(f"\nstopping {len(stack.processes)} processes by PID")
    except ComponentError as error:
        code = 1
        progress.notes.append(f"the demo stopped early: {error.component} failed")
        say(f"\nERROR: {error}", indent=0)
    except ModuleNotFoundError as error:
        code = 1
        progress.notes.append(f"the demo stopped early: module {error.name} is missing")
        say(f"\nERROR: module {error.name} is missing ({error}); run `make install`", indent=0)
    except Exception as error:  # a bug: say so, but still stop everything and report
        code = 1
        progress.notes.append(f"the demo stopped early: {type(error).__name__}: {error}")
        say(f"\nERROR: unexpected {type(error).__name__}: {error}", indent=0)
        traceback.print_exc()
    except KeyboardInterrupt:
        code = 130
        progress.notes.append("the demo was interrupted")
        say("\ninterrupted: every process the demo started has been stopped", indent=0)
    record = settings.output_dir / PROCESSES_NAME
    record.write_text(json.dumps(stack.record(), indent=2) + "\n")
    unexpected = [r.title for r in progress.rollouts if not r.as_expected]
    if unexpected:
        code = code or 1
        progress.notes.append(f"not as expected: {', '.join(unexpected)}")
    step_report(settings, progress)
    return code


def step_report(settings: DemoSettings, progress: Progress) -> None:
    heading(7, "Report")
    path = write_report(settings.output_dir / REPORT_NAME, progress.report(settings))
    for rollout in progress.rollouts:
        mark = "ok" if rollout.as_expected else "UNEXPECTED"
        say(f"{rollout.title}: {rollout.final_phase} ({mark})")
    say(f"HTML report: {path}")
