"""Job launchers: the batch/v1 manifest, the Kubernetes launcher on the API stub, and the
local subprocess launcher running the real ``canaria retrain``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import kubernetes_validate
import pytest

from canaria.testing.kube_stub import KubeStub, StubResponse
from monitoring.providers.interfaces import JobStatus
from monitoring.providers.jobs.kubernetes import KubernetesJobLauncher
from monitoring.providers.jobs.local import LocalJobLauncher
from monitoring.providers.jobs.manifest import job_manifest, job_name
from monitoring.providers.jobs.spec import parse_retrain
from monitoring.providers.registry import job_launchers

KUBERNETES_VERSION = "1.31.0"
SPEC = parse_retrain(
    {
        "triggers": {"scheduleSeconds": 3600},
        "job": {"image": "ghcr.io/example/canaria:0.1.0", "args": ["--generate", "300"],
                "resources": {"limits": {"memory": "2Gi"}}},
    }
)  # fmt: skip


def test_the_job_manifest_is_valid_and_locked_down() -> None:
    manifest = job_manifest(
        SPEC, rollout="churn", namespace="ml", key="abc123", champion="churn-classifier:v1",
        trigger="drift:share", store_claim="bentoml-store",
    )  # fmt: skip
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    pod = manifest["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["args"][:3] == ["retrain", "--champion", "churn-classifier:v1"]
    assert container["args"][-2:] == ["--generate", "300"]
    assert manifest["metadata"]["name"] == "churn-retrain-abc123"
    assert container["terminationMessagePath"] == "/results/result.json"
    assert len(job_name("x" * 80, "abc123")) == 63


def test_the_kubernetes_launcher_creates_once_and_reads_the_phase() -> None:
    with KubeStub() as kube:
        jobs = r"/apis/batch/v1/namespaces/ml/jobs"
        kube.on("POST", jobs, StubResponse(status=201, body={"kind": "Job"}))
        launcher = job_launchers.create(
            "kubernetes", rollout="churn", namespace="ml", storeClaim="store",
            apiClient=kube.api_client(),
        )  # fmt: skip
        assert isinstance(launcher, KubernetesJobLauncher)
        name = launcher.launch(SPEC, key="k1", champion="c:v1", trigger="schedule")
        assert name == "churn-retrain-k1"
        posted = kube.requests_matching("POST")[0].body
        assert posted["metadata"]["labels"]["canaria.dev/retrain-key"] == "k1"
        kube.on("GET", rf"{jobs}/{name}/status", StubResponse(body={
            "kind": "Job", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Failed", "status": "True",
                                       "message": "BackoffLimitExceeded"}]},
        }))  # fmt: skip
        pods = r"/api/v1/namespaces/ml/pods"
        kube.on("GET", pods, StubResponse(body={"kind": "PodList", "items": []}))
        assert launcher.status("k1") == JobStatus("failed", None, "BackoffLimitExceeded")
        listed = kube.requests_matching("GET", pods)[0]
        assert listed.query.get("labelSelector") == [f"job-name={name}"]


def test_the_kubernetes_launcher_reads_the_result_from_the_termination_message() -> None:
    result = {"status": "registered", "new_tag": "churn-classifier:v9", "reason": "better"}
    with KubeStub() as kube:
        jobs = r"/apis/batch/v1/namespaces/ml/jobs"
        launcher = job_launchers.create(
            "kubernetes", rollout="churn", namespace="ml", storeClaim="store",
            apiClient=kube.api_client(),
        )  # fmt: skip
        name = "churn-retrain-k2"
        kube.on("GET", rf"{jobs}/{name}/status", StubResponse(body={
            "kind": "Job", "metadata": {"name": name},
            "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]},
        }))  # fmt: skip
        kube.on("GET", r"/api/v1/namespaces/ml/pods", StubResponse(body={
            "kind": "PodList", "items": [{"metadata": {"name": f"{name}-x"}, "status": {
                "containerStatuses": [{"name": "retrain", "image": "i", "imageID": "",
                                       "ready": False, "restartCount": 0, "state": {
                    "terminated": {"exitCode": 0, "message": json.dumps(result)}}}]}}],
        }))  # fmt: skip
        status = launcher.status("k2")
        assert status.phase == "succeeded"
        assert status.result == result and status.reason == "better"


@pytest.mark.slow
def test_the_local_launcher_runs_retrain_once_per_key(
    classic_model_tag: str, tmp_path: Path
) -> None:
    launcher = job_launchers.create("local", workdir=tmp_path)
    assert isinstance(launcher, LocalJobLauncher)
    spec = parse_retrain(
        {"launcher": "local", "triggers": {"scheduleSeconds": 60}, "margin": 0.0,
         "job": {"args": ["--generate", "300"]}}
    )  # fmt: skip
    launcher.launch(spec, key="k1", champion=classic_model_tag, trigger="schedule")
    launcher.launch(spec, key="k1", champion=classic_model_tag, trigger="schedule")
    assert len(list(tmp_path.glob("*.log"))) == 1  # the second launch found it running
    crashed = launcher.launch(spec, key="k2", champion="churn-classifier:nope", trigger="x")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and "running" in {
        launcher.status("k1").phase,
        launcher.status(crashed).phase,
    }:
        time.sleep(0.5)
    done = launcher.status("k1")
    assert done.phase == "succeeded" and done.result is not None
    assert (
        done.result["status"] in {"registered", "refused"} and done.result["trigger"] == "schedule"
    )
    failed = launcher.status("k2")
    assert failed.phase == "failed" and "not in the BentoML store" in failed.reason


@pytest.mark.slow
def test_closing_the_local_launcher_stops_its_running_jobs(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\nexec sleep 60\n")
    fake_python.chmod(0o755)
    launcher = LocalJobLauncher(workdir=tmp_path / "jobs", python=str(fake_python))
    spec = parse_retrain({"launcher": "local", "triggers": {"scheduleSeconds": 60}})
    launcher.launch(spec, key="k1", champion="c:v1", trigger="schedule")
    assert launcher.status("k1").phase == "running"
    started = time.monotonic()
    launcher.close()
    assert time.monotonic() - started < 10  # SIGTERM was enough
    assert launcher.status("k1") == JobStatus("failed", None, "exited -15, no result")
