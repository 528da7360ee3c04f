"""The closed loop in local mode, with real processes: traffic drifts, the drift monitor
sees it, the operator starts ``canaria retrain`` as a subprocess, the registered version
goes through the canary and is promoted; a crashing Job changes nothing.

Real: ``canaria drift monitor`` (Evidently) on sample logs, the scrape metrics provider
reading its ``/metrics``, the local operator loop (``run_local``, in a thread), the local
Job launcher and ``canaria retrain`` training into the session's BentoML store. Traffic is
the noop provider: moving it is the local-loop tests' subject, not this one's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bentoml
import pytest
import yaml

from canaria.testing.running import VENV_BIN, RunningProcess, free_port, running
from canaria.testing.wait import wait_until
from monitoring.operator.local import read_local, run_local
from tests.monitoring.drift.frames import customers
from tests.monitoring.drift.logs import write_sample_log

pytestmark = pytest.mark.slow

INTERVAL = "2s"


def rollout(name: str, *, champion: str, monitor_url: str, job_args: list[str]) -> dict[str, Any]:
    """Nothing rolling out (canary = stable); retrain on drift, then the usual canary."""
    return {
        "apiVersion": "canaria.dev/v1alpha1",
        "kind": "ModelRollout",
        "metadata": {"name": name, "namespace": "loop"},
        "spec": {
            "target": {"stable": {"bentoTag": champion}, "canary": {"bentoTag": champion}},
            "trafficProvider": {"name": "noop"},
            "metricsProvider": {"name": "scrape", "targets": {"drift": [monitor_url]}},
            "analysis": {
                "interval": INTERVAL,
                "stepWeights": [50],
                # The canary's inputs as the drift monitor sees them (its own window).
                "checks": [{"name": "canary-drift", "builtin": "driftShare", "max": 1.0}],
            },
            "retrain": {
                "launcher": "local",
                "triggers": {"driftShare": {"above": 0.2, "intervals": 2}},
                "cooldownSeconds": 600,
                "job": {"args": job_args},
            },
        },
    }


@pytest.fixture
def monitor(classic_model_tag: str, tmp_path: Path) -> Iterator[tuple[RunningProcess, Path]]:
    """The drift monitor over the stable's drifted traffic and a canary window."""
    drifted = customers(3000, seed=31, scenario="covariate-shift", strength=1.0)
    stable = write_sample_log(tmp_path / "stable.jsonl", drifted)
    canary = write_sample_log(tmp_path / "canary.jsonl", customers(400, seed=32))
    port = free_port()
    args = [
        str(VENV_BIN / "canaria"), "drift", "monitor", "--model", classic_model_tag,
        "--log", f"stable={stable}", "--log", f"canary={canary}",
        "--interval", "1", "--window", "3600", "--port", str(port),
    ]  # fmt: skip
    with running(
        args, log_path=tmp_path / "monitor.log", port=port, ready_path="/metrics", timeout=120
    ) as process:
        yield process, stable


def models() -> set[str]:
    return {str(model.tag) for model in bentoml.models.list("churn-classifier")}


def test_drift_retrains_and_the_new_version_is_promoted_and_a_crash_changes_nothing(
    classic_model_tag: str, monitor: tuple[RunningProcess, Path], tmp_path: Path
) -> None:
    process, stable_log = monitor
    url = f"{process.base_url}/metrics"
    good = tmp_path / "rollouts" / "churn.yaml"
    crash = tmp_path / "rollouts" / "churn-crash.yaml"
    good.parent.mkdir()
    learn = ["--samples", str(stable_log), "--concept-drift", "1"]
    broken = ["--samples", str(tmp_path / "missing.jsonl")]
    for path, args in ((good, learn), (crash, broken)):
        doc = rollout(path.stem, champion=classic_model_tag, monitor_url=url, job_args=args)
        path.write_text(yaml.safe_dump(doc))
    before = models()
    stop = threading.Event()
    operator = threading.Thread(target=run_local, args=([good, crash],), kwargs={"stop": stop})
    operator.start()
    started = time.monotonic()
    try:
        wait_until(
            "the retrained version promoted",
            lambda: _promoted(good, classic_model_tag) is not None,
            timeout=150, poll=0.5, ignoring=(OSError, ValueError),
            detail=lambda: read_local(good).get("status"),
        )  # fmt: skip
        wait_until(
            "the crashing Job's end recorded", lambda: _outcome(crash) is not None,
            timeout=60, poll=0.5, ignoring=(OSError, ValueError),
            detail=lambda: read_local(crash).get("status"),
        )  # fmt: skip
    finally:
        stop.set()
        operator.join(timeout=30)
    print(f"loop closed in {time.monotonic() - started:.1f}s")
    final, crashed = read_local(good), read_local(crash)
    retrain = final["status"]["retrain"]
    new_tag = retrain["lastResult"]["new_tag"]
    assert final["status"]["stableModel"] == {"bentoTag": new_tag}
    steps = [entry["step"] for entry in retrain["history"]]
    assert steps[:2] == ["RetrainStarted", "RetrainRegistered"]
    decisions = [entry["decision"] for entry in final["status"]["history"]]
    assert decisions[-4:] == ["start", "advance", "promote", "complete"] or decisions[-3:] == [
        "start", "promote", "complete"]  # fmt: skip
    reasons = [event["reason"] for event in final["events"]]
    order = ["RetrainStarted", "RetrainRegistered", "AnalysisStarted", "Promoting", "Promoted"]
    assert [r for r in reasons if r in order][: len(order)] == order
    assert retrain["lastResult"]["trigger"].startswith("drift:")
    # The crashing Job: recorded, and neither its rollout nor the model store changed.
    assert crashed["status"]["retrain"]["lastOutcome"] == "failed"
    assert "missing.jsonl" in crashed["status"]["retrain"]["lastReason"]
    assert crashed["spec"]["target"]["canary"] == {"bentoTag": classic_model_tag}
    assert "RetrainFailed" in [event["reason"] for event in crashed["events"]]
    assert models() == before | {new_tag}


def _promoted(path: Path, champion: str) -> dict[str, Any] | None:
    doc = read_local(path)
    status = doc.get("status") or {}
    stable = (status.get("stableModel") or {}).get("bentoTag")
    if status.get("phase") == "Succeeded" and stable not in (None, champion):
        return doc
    return None


def _outcome(path: Path) -> dict[str, Any] | None:
    doc = read_local(path)
    return doc if ((doc.get("status") or {}).get("retrain") or {}).get("lastOutcome") else None
