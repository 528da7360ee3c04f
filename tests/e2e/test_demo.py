"""``python -m canaria.demo --quick``: the whole local loop, end to end, plus its parts.

The end-to-end run trains into the session's BentoML store (conftest's BENTOML_HOME), serves
with real ``bentoml serve`` processes, and runs the real router and local operator. It must
promote the healthy candidate, roll back the concept-drifted one on shadow agreement, roll
back a third rollout by CLI, close the loop in a fourth (drift seen by the drift monitor,
a retraining Job registering a new version, its canary analysed and promoted), write a
self-contained report, and leave no process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from canaria.contracts.metrics import Variant
from canaria.demo.report import render_report
from canaria.demo.results import (
    CheckSample,
    DecisionRecord,
    DemoReport,
    ModelRole,
    ModelSummary,
    RolloutResult,
    TimelinePoint,
    TrafficStats,
)
from canaria.demo.rollout import RolloutPlan, model_rollout, router_config
from canaria.demo.settings import demo_settings
from canaria.demo.traffic import TrafficGenerator
from canaria.demo.watch import format_live_line
from monitoring.api.observe import read_status
from monitoring.operator.state import state_path_for

pytestmark = pytest.mark.slow  # starts real processes or trains a model

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT = 600


def _group_alive(pid: int, *, grace: float = 10.0) -> bool:
    """Whether any process of the group led by ``pid`` still exists after ``grace``
    seconds (a killed worker is a zombie until init reaps it)."""
    deadline = time.monotonic() + grace
    while True:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.1)


def _state(output: Path, name: str) -> dict[str, Any]:
    rollouts = output / "rollouts"  # the demo keeps the state files beside the rollouts
    path = state_path_for(rollouts / f"{name}.yaml", rollouts)
    status: dict[str, Any] = json.loads(path.read_text())
    return status


@pytest.mark.slow
def test_quick_demo_promotes_healthy_and_rolls_back_drifted(
    bentoml_home: Path, tmp_path: Path
) -> None:
    output = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "canaria.demo", "--quick", "--output-dir", str(output)],
        cwd=REPO_ROOT,
        env={**os.environ, "BENTOML_HOME": str(bentoml_home)},
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out[-6000:]}\n{done.stderr[-3000:]}"
    assert f"BentoML store: {bentoml_home.resolve()} (from BENTOML_HOME)" in out
    assert "Rollout 1: healthy candidate: Succeeded (ok)" in out
    assert "Rollout 2: concept-drifted candidate: Failed (ok)" in out
    assert "Rollout 3: manual rollback through the CLI: RolledBack (ok)" in out
    assert "-> promote" in out and "-> rollback" in out
    assert "POST " in out and "/v1/chat/completions" in out and "/v1/completions" in out
    assert "chunks, first token after" in out or "ended its answer at once" in out
    # Progress on the long waits goes to stderr: training, and servers starting.
    assert "training the support LLM" in done.stderr and "waiting for " in done.stderr

    _assert_operator_state(output)
    _assert_closed_loop(output, out, bentoml_home)

    # The four models went into the given store.
    trained = re.findall(
        r"^ +(?:stable|healthy candidate|drifted candidate|support LLM) +"
        r"([\w-]+):(\w+) ",
        out,
        flags=re.MULTILINE,
    )
    assert len(trained) == 4
    for name, version in trained:
        assert (bentoml_home / "models" / name / version).is_dir()

    report = (output / "report.html").read_text()
    assert str(output / "report.html") in out
    for text in ("Rollout 1: healthy candidate", "Rollout 2: concept-drifted candidate"):
        assert text in report
    assert "Succeeded" in report and "Failed" in report and "<svg" in report
    assert "shadow-agreement" in report and "failureLimit" in report
    _assert_self_contained(report.replace(f'<a href="{EVIDENTLY}">', "<a>"))
    assert f'<a href="{EVIDENTLY}">' in report and (output / EVIDENTLY).is_file()
    assert "drift per column over time" in report and "Retraining result (JSON)" in report
    assert "RetrainRegistered" in report and "retrain above 0.3" in report

    processes = json.loads((output / "processes.json").read_text())
    names = {process["name"] for process in processes}
    assert {"classic-stable", "llm", "router-churn-healthy", "operator-churn-drifted"} <= names
    assert {"drift-monitor", "classic-retrained", "operator-churn-retrain"} <= names
    alive = [process["name"] for process in processes if _group_alive(process["pid"])]
    assert alive == []


def _assert_operator_state(output: Path) -> None:
    """The operator's own record (its state files) agrees with what the demo printed."""
    healthy = _state(output, "churn-healthy")["status"]
    assert healthy["phase"] == "Succeeded" and healthy["canaryWeight"] == 0
    assert [entry["decision"] for entry in healthy["history"]][-2:] == ["promote", "complete"]
    drifted = _state(output, "churn-drifted")["status"]
    assert drifted["phase"] == "Failed" and drifted["canaryWeight"] == 0
    evidence = drifted["history"][-1]["message"]
    assert "shadow-agreement" in evidence and "failureLimit" in evidence
    # Rolled back because its answers differ, while it answered every request fine.
    verdicts = {c["name"]: c["verdict"] for c in drifted["lastAnalysis"]["checks"]}
    assert (verdicts["success-rate"], verdicts["shadow-agreement"]) == ("pass", "fail")
    manual = _state(output, "churn-manual")["status"]
    assert manual["phase"] == "RolledBack"


EVIDENTLY = "drift/evidently-report.html"


def _assert_closed_loop(output: Path, out: str, bentoml_home: Path) -> None:
    """Rollout 4: each step in the printed timeline, the status history and the Events."""
    assert "Rollout 4: closed loop (drift, retraining, canary): Succeeded (ok)" in out
    assert re.search(r"drift +share [01]\.\d\d over \d+ rows; drifted: ", out)
    for step in ("RetrainStarted: retraining Job", "RetrainRegistered: Job"):
        assert step in out
    doc = _state(output, "churn-retrain")
    status = doc["status"]
    retrain = status["retrain"]
    result = retrain["lastResult"]
    assert result["status"] == "registered" and result["trigger"].startswith("drift:share above")
    gain = result["challenger_metrics"]["roc_auc"] - result["champion_metrics"]["roc_auc"]
    assert gain >= result["margin"]
    new_tag = result["new_tag"]
    name, version = new_tag.split(":")
    assert (bentoml_home / "models" / name / version).is_dir()
    assert new_tag != result["champion"]
    assert status["phase"] == "Succeeded" and status["stableModel"] == {"bentoTag": new_tag}
    steps = [entry["step"] for entry in retrain["history"]]
    assert steps[:2] == ["RetrainStarted", "RetrainRegistered"]
    decisions = [entry["decision"] for entry in status["history"]]
    assert decisions[0] == "idle" and decisions[-2:] == ["promote", "complete"]
    assert "advance" in decisions  # the canary went through its steps, analysed
    verdicts = {c["name"]: c["verdict"] for c in status["lastAnalysis"]["checks"]}
    assert verdicts == {"success-rate": "pass", "latency-p99": "pass"}
    reasons = [event["reason"] for event in doc["events"]]
    order = ["RetrainStarted", "RetrainRegistered", "AnalysisStarted", "Promoting", "Promoted"]
    assert [r for r in reasons if r in order][: len(order)] == order


def _assert_self_contained(html: str) -> None:
    """Nothing the browser would fetch: no scripts, stylesheets, images, fonts or links."""
    lowered = html.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "href=", "@import", "url("):
        assert needle not in lowered, needle


def test_generated_configs_are_accepted_by_router_and_operator(tmp_path: Path) -> None:
    from monitoring.api.spec import parse_spec
    from services.router.config import parse_config

    settings = demo_settings(quick=True, output_dir=tmp_path, environ={})
    assert settings.bentoml_home == tmp_path.resolve() / "bentoml"
    limits = settings.limits
    config = parse_config(
        router_config(
            stable_url="http://127.0.0.1:1001",
            canary_url="http://127.0.0.1:1002",
            limits=limits,
            timeout=5.0,
        )
    )
    assert config.canary_weight == 0
    shadow = config.upstream(Variant.SHADOW)
    assert shadow is not None and shadow.url == "http://127.0.0.1:1002"
    assert config.shadow_settings.classic.probability_tolerance == limits.probability_tolerance

    model = ModelSummary(ModelRole.STABLE, "churn-classifier:a", "x", {}, 0.0)
    candidate = ModelSummary(ModelRole.CANDIDATE, "churn-classifier:b", "x", {}, 0.0)
    plan = RolloutPlan("churn-x", "t", model, candidate, "Succeeded")
    spec = parse_spec(
        model_rollout(plan=plan, router_url="http://127.0.0.1:1", limits=limits)["spec"]
    )
    assert spec.analysis.steps == limits.step_weights
    assert spec.analysis.interval_seconds == limits.interval_seconds
    assert {check.name for check in spec.analysis.checks} == {
        "success-rate",
        "latency-p99",
        "shadow-agreement",
    }


def test_stack_stops_forked_workers_on_sigterm(tmp_path: Path) -> None:
    pids = tmp_path / "pids.json"
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from canaria.demo.stack import Stack, stop_on_signals
        child = [sys.executable, "-c",
                 "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"]
        with stop_on_signals(), Stack(log_dir=Path({str(tmp_path)!r})) as stack:
            process = stack.start("forker", child)
            Path({str(pids)!r}).write_text(json.dumps([process.pid]))
            time.sleep(300)
        """
    )
    runner = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 30
        while not pids.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        (group,) = json.loads(pids.read_text())
        time.sleep(0.5)  # let the child fork its own worker
        assert _group_alive(group, grace=0)
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=30)
        assert not _group_alive(group)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("x-canaria-variant", "stable")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_traffic_generator_stops_by_itself() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        generator = TrafficGenerator(
            url=url, records=[{"a": 1}], rate=40.0, workers=3, max_seconds=1.0
        ).start()
        started = time.monotonic()
        while not generator.finished() and time.monotonic() - started < 10:
            time.sleep(0.05)
        assert generator.finished()  # by itself, with no stop()
        stats = generator.stop()
    finally:
        server.shutdown()
        server.server_close()
    assert stats.sent == 40  # 40 requests/s for 1 s, then nothing more
    assert stats.by_status == {"200": 40} and stats.by_variant == {"stable": 40}
    assert 0.9 < stats.seconds < 5
    with pytest.raises(ValueError, match="rate"):
        TrafficGenerator(url="http://x", records=[{}], rate=0, workers=1, max_seconds=1)


def _rollout(message: str) -> RolloutResult:
    check = CheckSample("shadow-agreement", 0.31, "fail", "shadow-agreement 0.31 < min 0.80")
    return RolloutResult(
        name="churn-drifted",
        title="Rollout <2>",
        stable_tag="churn-classifier:a",
        canary_tag="churn-classifier:b",
        expected_phase="Failed",
        final_phase="Failed",
        final_weight=0,
        message=message,
        seconds=6.0,
        timeline=(
            TimelinePoint(1.0, "Progressing", 20),
            TimelinePoint(3.0, "Progressing", 20, (check,)),
            TimelinePoint(5.0, "Failed", 0, (check,)),
        ),
        decisions=(DecisionRecord("t", "rollback", "Failed", 0, message),),
        traffic=TrafficStats(sent=10, by_status={"200": 10}),
        check_limits={"shadow-agreement": "min 0.8"},
    )


def test_report_renders_charts_and_escapes_text() -> None:
    report = DemoReport(
        started="now",
        mode="quick",
        bentoml_home="/tmp/store",
        models=(
            ModelSummary(ModelRole.STABLE, "churn-classifier:a", "seed 1", {"accuracy": 0.8}, 1.0),
        ),
        rollouts=(_rollout("<script>alert(1)</script> failed (2) > failureLimit (1)"),),
        prometheus=None,
    )
    html = render_report(report)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "Rollout &lt;2&gt;" in html
    assert html.count("<svg") == 2  # the weight and the one check
    assert "min 0.8" in html and "0.800" in html
    _assert_self_contained(html)


def test_live_line_shows_checks_only_for_a_new_analysis() -> None:
    status = read_status(
        {
            "phase": "Progressing",
            "canaryWeight": 50,
            "lastAnalysis": {
                "time": "2025-01-01T12:00:30Z",
                "verdict": "pass",
                "checks": [{"name": "latency-p99", "value": 0.05, "verdict": "pass"}],
            },
            "history": [
                {"time": "2025-01-01T12:00:30Z", "decision": "advance", "phase": "Progressing"}
            ],
        }
    )
    assert status is not None
    line = format_live_line(seconds=4.2, status=status, new_analysis=True)
    assert line == "+  4.2s  Progressing canary  50%  latency-p99 0.050 s ok  -> advance"
    assert "latency" not in format_live_line(seconds=4.2, status=status, new_analysis=False)
