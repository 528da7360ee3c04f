"""The retraining loop in kopf mode: the real ``kubernetes`` client against the API stub.

Drift above the threshold for two intervals -> exactly one ``batch/v1`` Job POSTed (its
manifest from the pure builder), ``RetrainStarted``; the Job completes with a registered
version in its pod's termination message -> ``spec.target.canary`` merge-patched, and the
next pass starts the usual canary analysis for it. A failed Job changes no spec or route.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from canaria.contracts.metrics import RETRAINING_JOBS_TOTAL, RETRAINING_RESULTS
from canaria.testing.kube_stub import RecordedRequest, StubResponse
from monitoring.api.spec.retrain import parse_retrain
from monitoring.operator.events import RolloutRef
from monitoring.operator.retraining import HandshakeWorkload
from monitoring.providers.jobs.manifest import job_manifest
from tests.monitoring.operator.conftest import ROLLOUT_PATH, ROUTE_PATH, Cluster

JOBS = "/apis/batch/v1/namespaces/ml/jobs"
PODS = "/api/v1/namespaces/ml/pods"
RETRAIN = {
    "launcher": "kubernetes",
    "triggers": {"driftShare": {"above": 0.3, "intervals": 2}},
    "cooldownSeconds": 3600,
    "job": {"image": "ghcr.io/example/canaria:0.1.0", "storeClaim": "bentoml-store"},
}


def idle_with_retrain(cluster: Cluster) -> None:
    """The stable serves v1 and nothing is rolling out; drift may start a retraining."""

    def change(rollout: dict[str, Any]) -> None:
        rollout["spec"]["target"]["canary"] = {"bentoTag": "churn-classifier:v1"}
        rollout["spec"]["retrain"] = RETRAIN

    cluster.edit(change)
    # What cluster_reconciler gives the launcher: the operator's own API client.
    launchers = cluster.reconciler.retrainer.launcher_settings
    launchers["kubernetes"] = {"api_client": cluster.kube.api_client()}


def job_answers(cluster: Cluster, *, complete: bool, result: dict[str, Any] | None) -> None:
    cluster.kube.on("POST", JOBS, lambda r: StubResponse(status=201, body=r.body))
    condition = {"type": "Complete" if complete else "Failed", "status": "True",
                 "message": "BackoffLimitExceeded"}  # fmt: skip

    def job(request: RecordedRequest) -> StubResponse:
        name = request.path.split("/")[-2]
        return StubResponse(body={"kind": "Job", "metadata": {"name": name},
                                  "status": {"conditions": [condition]}})  # fmt: skip

    cluster.kube.on("GET", rf"{JOBS}/[^/]+/status", job)
    statuses = []
    if result is not None:
        terminated = {"exitCode": 0 if complete else 1, "message": json.dumps(result)}
        statuses = [{"name": "retrain", "image": "i", "imageID": "", "ready": False,
                     "restartCount": 0, "state": {"terminated": terminated}}]  # fmt: skip
    cluster.kube.on("GET", PODS, StubResponse(body={"kind": "PodList", "items": [
        {"metadata": {"name": "p"}, "status": {"containerStatuses": statuses}}]}))  # fmt: skip


def jobs_counted(cluster: Cluster) -> dict[str, float]:
    """``canaria_retraining_jobs_total`` of ml/churn by result, from the operator's registry."""
    registry = cluster.reconciler.metrics.registry
    return {
        result: registry.get_sample_value(
            RETRAINING_JOBS_TOTAL, {"rollout": "ml/churn", "result": result}
        )
        or 0.0
        for result in RETRAINING_RESULTS
    }


def passes(cluster: Cluster, count: int, *, drift: float | None = None) -> None:
    ref = RolloutRef("ml", "churn")
    for _ in range(count):
        if drift is not None:
            cluster.metrics_values.set("driftShare", drift)
        cluster.reconciler.reconcile(ref)
        cluster.clock.advance(30)


def test_drift_starts_one_job_whose_version_becomes_the_canary(cluster: Cluster) -> None:
    idle_with_retrain(cluster)
    result = {"status": "registered", "new_tag": "churn-classifier:v7", "reason": "better"}
    job_answers(cluster, complete=True, result=result)
    passes(cluster, 1, drift=0.1)
    passes(cluster, 1, drift=0.6)
    assert cluster.requests("POST", JOBS) == []  # one interval above is not two
    passes(cluster, 1, drift=0.6)
    posted = cluster.requests("POST", JOBS)
    assert len(posted) == 1
    key = posted[0].body["metadata"]["labels"]["canaria.dev/retrain-key"]
    trigger = cluster.rollout["status"]["retrain"]["runningTrigger"]
    expected = job_manifest(
        parse_retrain(RETRAIN), rollout="churn", namespace="ml", key=key,
        champion="churn-classifier:v1", trigger=trigger, store_claim="bentoml-store",
    )  # fmt: skip
    assert posted[0].body == expected
    assert "RetrainStarted" in cluster.reasons()
    passes(cluster, 1, drift=0.6)  # the Job's end is read: registered
    patches = canary_patches(cluster)
    assert {"spec": {"target": {"canary": {"bentoTag": "churn-classifier:v7"}}}} in patches
    retrain = cluster.rollout["status"]["retrain"]
    assert retrain["lastOutcome"] == "registered" and "runningKey" not in retrain
    assert [h["step"] for h in retrain["history"]] == ["RetrainStarted", "RetrainRegistered"]
    passes(cluster, 1, drift=0.6)  # the engine takes over: a new canary from step 0
    status = cluster.rollout["status"]
    assert status["phase"] == "Progressing" and status["canary"] == "churn-classifier:v7"
    assert cluster.reasons()[-2:] == ["RetrainRegistered", "AnalysisStarted"] or (
        "AnalysisStarted" in cluster.reasons()
    )
    passes(cluster, 3, drift=0.9)  # still drifting, inside the cooldown: no second Job
    assert len(cluster.requests("POST", JOBS)) == 1
    assert jobs_counted(cluster) == {
        "started": 1.0, "succeeded": 1.0, "not_improved": 0.0, "failed": 0.0
    }  # fmt: skip


def test_a_failed_job_records_why_and_touches_no_spec_or_route(cluster: Cluster) -> None:
    idle_with_retrain(cluster)
    job_answers(cluster, complete=False, result={"status": "failed", "reason": "no data"})
    passes(cluster, 3, drift=0.9)
    assert len(cluster.requests("POST", JOBS)) == 1
    spec_before = json.dumps(cluster.rollout["spec"], sort_keys=True)
    route_patches = len(cluster.requests("PATCH", ROUTE_PATH))
    passes(cluster, 2, drift=0.9)
    retrain = cluster.rollout["status"]["retrain"]
    assert retrain["lastOutcome"] == "failed" and "no data" in retrain["lastReason"]
    assert json.dumps(cluster.rollout["spec"], sort_keys=True) == spec_before
    assert len(cluster.requests("PATCH", ROUTE_PATH)) == route_patches
    failed = [e for e in cluster.events() if e["reason"] == "RetrainFailed"]
    assert len(failed) == 1 and failed[0]["type"] == "Warning"
    assert jobs_counted(cluster) == {
        "started": 1.0, "succeeded": 0.0, "not_improved": 0.0, "failed": 1.0
    }  # fmt: skip


def test_a_job_that_does_not_beat_the_champion_counts_as_not_improved(cluster: Cluster) -> None:
    idle_with_retrain(cluster)
    result = {"status": "refused", "reason": "accuracy 0.81 < champion 0.84 + margin"}
    job_answers(cluster, complete=True, result=result)
    passes(cluster, 5, drift=0.9)
    assert "RetrainRefused" in cluster.reasons()
    assert jobs_counted(cluster) == {
        "started": 1.0, "succeeded": 0.0, "not_improved": 1.0, "failed": 0.0
    }  # fmt: skip


def canary_patches(cluster: Cluster) -> list[Any]:
    return [r.body for r in cluster.requests("PATCH", ROLLOUT_PATH + "$")
            if r.content_type == "application/merge-patch+json"]  # fmt: skip


def test_the_canary_waits_for_its_workload_to_serve_the_new_version(
    cluster: Cluster, tmp_path: Path
) -> None:
    idle_with_retrain(cluster)
    workload = HandshakeWorkload(tmp_path)
    cluster.reconciler.retrainer.workload = workload
    result = {"status": "registered", "new_tag": "churn-classifier:v8", "reason": "better"}
    job_answers(cluster, complete=True, result=result)
    passes(cluster, 4, drift=0.9)  # started, then registered but not served yet
    wanted, serving = workload.paths(RolloutRef("ml", "churn"))
    assert wanted.read_text().strip() == "churn-classifier:v8"
    assert canary_patches(cluster) == []
    retrain = cluster.rollout["status"]["retrain"]
    assert "waiting for the canary workload" in retrain["waitReason"]
    assert "runningKey" in retrain and "RetrainRegistered" not in cluster.reasons()
    serving.write_text("churn-classifier:v8\n")  # the serving side is ready
    passes(cluster, 1, drift=0.9)
    assert canary_patches(cluster) == [
        {"spec": {"target": {"canary": {"bentoTag": "churn-classifier:v8"}}}}
    ]
    assert cluster.reasons().count("RetrainRegistered") == 1
