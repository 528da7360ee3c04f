"""Local mode's files: the rollout YAML, its state file, actions from the CLI, restarts."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from canaria.contracts.metrics import ROLLOUT_PHASE, ROUTER_REQUESTS_TOTAL
from canaria.contracts.routes import Routes
from canaria.testing.metrics import metric_samples, metric_value
from canaria.testing.running import free_port, running
from monitoring import kubectl_plugin
from monitoring.operator.events import RolloutRef
from monitoring.operator.local import (
    FileEventRecorder,
    FileRolloutStore,
    read_local,
    request_action,
    wake_in,
)
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.reconcile import Reconciler, ReconcileResult
from monitoring.operator.state import RolloutFileError, StateFile, state_path_for
from monitoring.providers.interfaces import MetricsProvider, RouteTarget
from monitoring.providers.metrics.scrape import ScrapeProvider
from monitoring.providers.metrics.static import StaticProvider
from monitoring.providers.registry import snake_case_keys, traffic_routers
from tests.monitoring.operator.conftest import HEALTHY, START, FakeClock

pytestmark = pytest.mark.slow  # starts real processes or trains a model

REF = RolloutRef(namespace="default", name="churn-local")


def write_rollout(path: Path, **analysis: Any) -> Path:
    doc = {
        "apiVersion": "canaria.dev/v1alpha1",
        "kind": "ModelRollout",
        "metadata": {"name": "churn-local"},
        "spec": {
            "target": {
                "stable": {"bentoTag": "churn-classifier:v1"},
                "canary": {"bentoTag": "churn-classifier:v2"},
            },
            "trafficProvider": {"name": "noop"},
            "metricsProvider": {"name": "scrape", "targets": ["http://127.0.0.1:9/metrics"]},
            "analysis": {
                "interval": "1s",
                "stepWeights": [20, 40, 60],
                "failureLimit": 1,
                "checks": [{"name": "success-rate", "builtin": "requestSuccessRate", "min": 0.99}],
                **analysis,
            },
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def local_reconciler(
    path: Path, clock: FakeClock, provider: StaticProvider | None = None
) -> tuple[Reconciler, FileRolloutStore]:
    store = FileRolloutStore([path])
    provider = provider or StaticProvider(values=HEALTHY)
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(metrics_factory=lambda name, settings: provider),
        metrics=OperatorMetrics(),
        clock=clock,
    )
    return reconciler, store


def decisions(path: Path) -> list[str]:
    status = json.loads(state_path_for(path).read_text())["status"]
    return [h["decision"] for h in status["history"]]


def test_status_is_kept_in_the_state_dir_and_a_restart_resumes(
    tmp_path: Path, state_dir: Path
) -> None:
    path = write_rollout(tmp_path / "churn.yaml")
    clock = FakeClock()
    reconciler, _ = local_reconciler(path, clock)
    reconciler.reconcile(REF)
    clock.advance(1)
    reconciler.reconcile(REF)
    (state,) = state_dir.iterdir()  # no lock file left behind
    assert state_path_for(path) == state
    assert state.name.startswith("churn-") and state.name.endswith(".state.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canaria-state", "churn.yaml"]
    assert decisions(path) == ["start", "advance"]

    reconciler, _ = local_reconciler(path, clock)  # a restarted operator
    reconciler.reconcile(REF)  # not due yet: nothing new
    clock.advance(1)
    reconciler.reconcile(REF)
    assert decisions(path) == ["start", "advance", "advance"]
    state = json.loads(state_path_for(path).read_text())
    assert state["status"]["canaryWeight"] == 60
    # The noop router lives in the operator's process: the restart lost its weight,
    # which the new process reads back, corrects and reports.
    assert [e["reason"] for e in state["events"]] == [
        "AnalysisStarted",
        "StepAdvanced",
        "TrafficCorrected",
        "StepAdvanced",
    ]


def test_cli_rollback_is_applied_at_the_next_reconcile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_rollout(tmp_path / "churn.yaml")
    clock = FakeClock()
    reconciler, store = local_reconciler(path, clock)
    reconciler.reconcile(REF)

    assert kubectl_plugin.main(["rollback", "--local", str(path), "--no-wait"]) == 0
    assert "rollback requested" in capsys.readouterr().out
    assert store.fetch(REF)["metadata"]["annotations"] == {"canaria.dev/action": "rollback"}
    result = reconciler.reconcile(REF)

    assert result.decision is not None and result.decision.kind.value == "rollback"
    state = StateFile(state_path_for(path)).read()
    assert state["action"] is None
    assert state["status"]["phase"] == "RolledBack"
    assert state["events"][-1]["reason"] == "RolledBack"

    assert kubectl_plugin.main(["status", "--local", str(path)]) == 1  # rolled back
    out = capsys.readouterr().out
    assert "NAME" in out and "RolledBack" in out and "churn-classifier:v2" in out
    assert "RolledBack" in out.split("Events:")[1]


def test_an_action_set_meanwhile_is_not_cleared(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "churn.yaml")
    store = FileRolloutStore([path])
    request_action(path, "pause")
    assert request_action(path, "rollback") == "pause"  # the newer request wins
    store.clear_action(REF, "pause")  # the operator handled the older one
    assert StateFile(state_path_for(path)).read()["action"] == "rollback"


def test_broken_edit_keeps_the_last_good_rollout(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "churn.yaml")
    store = FileRolloutStore([path])
    path.write_text("kind: ModelRollout\nspec: [unclosed\n")
    obj = store.fetch(REF)
    assert obj is not None and obj["spec"]["analysis"]["interval"] == "1s"
    write_rollout(path, interval="2s")
    obj = store.fetch(REF)
    assert obj is not None and obj["spec"]["analysis"]["interval"] == "2s"


def test_unreadable_state_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "churn.yaml")
    state_path_for(path).parent.mkdir(parents=True)
    state_path_for(path).write_text("{not json")
    with pytest.raises(RolloutFileError, match="unreadable state"):
        request_action(path, "pause")
    assert state_path_for(path).read_text() == "{not json"
    with pytest.raises(RolloutFileError):
        read_local(path)


def test_files_that_are_not_one_rollout_are_refused(tmp_path: Path) -> None:
    two = tmp_path / "two.yaml"
    two.write_text("kind: ModelRollout\nmetadata: {name: a}\n---\nkind: ModelRollout\n")
    with pytest.raises(RolloutFileError, match="exactly one ModelRollout"):
        FileRolloutStore([two])
    other = tmp_path / "other.yaml"
    other.write_text("kind: Deployment\nmetadata: {name: a}\n")
    with pytest.raises(RolloutFileError, match="kind must be ModelRollout"):
        request_action(other, "pause")


def test_the_loop_wakes_just_before_the_next_analysis(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "churn.yaml", interval="2s")
    clock = FakeClock()
    reconciler, _ = local_reconciler(path, clock)
    result = reconciler.reconcile(REF)
    assert result.decision is not None
    assert wake_in(result, now=START, poll_seconds=10.0) == pytest.approx(2 - 2 * 0.09)
    assert wake_in(result, now=START, poll_seconds=0.25) == 0.25
    assert wake_in(ReconcileResult(error="gone"), now=START, poll_seconds=0.25) == 0.25


class GrowingExporter:
    """A router's ``/metrics`` that served ten more healthy canary requests at each scrape."""

    def __init__(self) -> None:
        self.scrapes = 0

    def text(self, url: str) -> str:
        self.scrapes += 1
        return (
            f"# TYPE {ROUTER_REQUESTS_TOTAL} counter\n"
            f'{ROUTER_REQUESTS_TOTAL}{{variant="canary",status="200"}} {10 * self.scrapes}\n'
        )


class SlowTraffic:
    """The noop traffic router, whose ``set_routes`` takes ``seconds`` of the fake clock."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self._inner = traffic_routers.create("noop")
        self._clock = clock
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def set_routes(self, target: RouteTarget, routes: Routes) -> None:
        self._clock.advance(self._seconds)
        self._inner.set_routes(target, routes)


def scrape_reconciler(
    path: Path, clock: FakeClock, exporter: GrowingExporter, *, traffic_seconds: float = 0.0
) -> tuple[Reconciler, FileRolloutStore]:
    """A reconciler whose scrape provider reads ``exporter`` on the fake clock; moving
    traffic takes ``traffic_seconds`` of it."""

    def create(name: str, settings: Mapping[str, Any]) -> MetricsProvider:
        return ScrapeProvider(
            **snake_case_keys(settings),
            clock=lambda: (clock.now - START).total_seconds(),
            fetch=exporter.text,
        )

    store = FileRolloutStore([path])
    reconciler = Reconciler(
        store=store,
        events=FileEventRecorder(store),
        providers=ProviderCache(
            metrics_factory=create,
            traffic_factory=lambda name: SlowTraffic(clock, traffic_seconds),
        ),
        metrics=OperatorMetrics(),
        clock=clock,
    )
    return reconciler, store


def test_the_first_window_starts_once_the_traffic_moved(tmp_path: Path) -> None:
    """Moving the traffic took 0.9 s of the 1 s interval: the analysis is due one interval
    after the scrape that starts its window (taken after the move), not 0.1 s after it."""
    path = write_rollout(tmp_path / "churn.yaml")
    clock = FakeClock()
    exporter = GrowingExporter()
    reconciler, _ = scrape_reconciler(path, clock, exporter, traffic_seconds=0.9)
    reconciler.reconcile(REF)
    state = json.loads(state_path_for(path).read_text())["status"]
    assert state["nextAnalysisTime"] == "2025-01-01T12:00:01.900000Z"  # 0.9 + 1 s
    assert exporter.scrapes == 1
    clock.advance(1.0)  # 12:00:01.9: due; the window 12:00:00.9 to now has a start
    reconciler.reconcile(REF)
    assert decisions(path) == ["start", "advance"]


def test_scrape_windows_start_with_the_analysis_and_a_restart_waits_one_window(
    tmp_path: Path,
) -> None:
    path = write_rollout(tmp_path / "churn.yaml")
    clock = FakeClock()
    exporter = GrowingExporter()
    reconciler, _ = scrape_reconciler(path, clock, exporter)
    reconciler.reconcile(REF)  # start: a scrape now, for the first window to start from
    assert exporter.scrapes == 1
    clock.advance(1)
    reconciler.reconcile(REF)
    assert decisions(path) == ["start", "advance"]
    assert exporter.scrapes == 2  # the analysis scraped by measuring

    clock.advance(5)  # the operator was down; its scrapes are gone with it
    reconciler, _ = scrape_reconciler(path, clock, exporter)
    reconciler.reconcile(REF)
    # The analysis due 4 s ago would have one scrape, no rate: instead the restarted
    # operator scrapes once and analyses one interval (1 s) later, with no hold.
    assert exporter.scrapes == 3
    assert decisions(path) == ["start", "advance"]
    state = json.loads(state_path_for(path).read_text())["status"]
    assert state["nextAnalysisTime"] == "2025-01-01T12:00:07Z"  # START + 1 + 5 + 1 s
    clock.advance(0.5)  # not yet due: nothing measured
    reconciler.reconcile(REF)
    assert (exporter.scrapes, decisions(path)) == (3, ["start", "advance"])
    clock.advance(0.5)
    reconciler.reconcile(REF)
    assert decisions(path) == ["start", "advance", "advance"]
    state = json.loads(state_path_for(path).read_text())["status"]
    assert state["lastAnalysis"]["verdict"] == "pass"


def test_a_restart_just_before_an_analysis_still_waits_one_window(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "churn.yaml", interval="2s")
    clock = FakeClock()
    exporter = GrowingExporter()
    reconciler, _ = scrape_reconciler(path, clock, exporter)
    reconciler.reconcile(REF)  # start at 12:00:00, first analysis due at 12:00:02
    clock.advance(1.9)  # a new process 0.1 s before it: a 0.1 s window would be no data
    reconciler, _ = scrape_reconciler(path, clock, exporter)
    reconciler.reconcile(REF)
    state = json.loads(state_path_for(path).read_text())["status"]
    assert state["nextAnalysisTime"] == "2025-01-01T12:00:03.900000Z"
    assert decisions(path) == ["start"]


@pytest.mark.slow
def test_the_local_operator_serves_metrics_on_the_chosen_address(tmp_path: Path) -> None:
    """``--metrics-host 127.0.0.2``: the rollout's phase is served there, and 127.0.0.1,
    which the default (every interface, 0.0.0.0) would answer on too, is refused."""
    path = write_rollout(tmp_path / "churn.yaml")
    port = free_port()
    args = ["canaria", "operator", "--local", str(path)]
    args += ["--metrics-host", "127.0.0.2", "--metrics-port", str(port)]

    def phases() -> float:
        try:
            text = httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=5).text
        except httpx.TransportError:  # not listening yet
            return 0.0
        return metric_value(metric_samples(text), ROLLOUT_PHASE, rollout="default/churn-local")

    with running(args, log_path=tmp_path / "operator.log", ready_path=None) as operator:
        deadline = time.monotonic() + 60
        while phases() != 1.0:
            assert operator.running() and time.monotonic() < deadline, operator.log()
            time.sleep(0.1)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
