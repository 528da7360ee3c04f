"""The kopf handlers against the Kubernetes stub, through the real ``kubernetes`` client:
the exact PATCH bodies for the HTTPRoute and the status, and the Events posted."""

from __future__ import annotations

from typing import Any

import httpx
import kopf
from prometheus_client import generate_latest

from canaria.testing.kube_stub import StubResponse, status_response
from canaria.testing.running import free_port
from monitoring.analysis import decide
from monitoring.api.spec import parse_spec
from monitoring.api.status import RolloutStatus
from monitoring.operator import handlers
from tests.monitoring.operator.conftest import (
    ERRORS,
    EVENTS_PATH,
    ROLLOUT_PATH,
    ROUTE_PATH,
    START,
    Cluster,
    route_patch,
)

ACTION = "canaria.dev/action"
ACTION_PATH = "/metadata/annotations/canaria.dev~1action"


def tick(cluster: Cluster) -> None:
    """What kopf's timer does: call the handler with the body it has cached."""
    handlers.tick(
        body=cluster.rollout,
        name="churn",
        namespace="ml",
        uid="uid-1",
        memo=kopf.Memo(reconciler=cluster.reconciler),
        logger=None,
    )


def spec_changed(cluster: Cluster) -> None:
    handlers.spec_changed(
        name="churn", namespace="ml", uid="uid-1", memo=kopf.Memo(reconciler=cluster.reconciler)
    )


def route_patches(cluster: Cluster) -> list[Any]:
    return [r.body for r in cluster.requests("PATCH", ROUTE_PATH)]


def status_patches(cluster: Cluster) -> list[Any]:
    requests = cluster.requests("PATCH", ROLLOUT_PATH + "/status")
    assert all(r.content_type == "application/merge-patch+json" for r in requests)
    return [r.body for r in requests]


def weights(cluster: Cluster) -> list[int]:
    return [p["spec"]["rules"][0]["backendRefs"][1]["weight"] for p in route_patches(cluster)]


def annotate(cluster: Cluster, value: str) -> None:
    cluster.edit(lambda obj: obj["metadata"].setdefault("annotations", {}).update({ACTION: value}))


def test_first_tick_sets_route_status_and_event_exactly(cluster: Cluster) -> None:
    tick(cluster)

    assert route_patches(cluster) == [route_patch(90, 10)]
    assert [r.content_type for r in cluster.requests("PATCH", ROUTE_PATH)] == [
        "application/merge-patch+json"
    ]
    # The status patch is the engine's whole first status, with the observed generation.
    first = decide(
        spec=parse_spec(cluster.rollout["spec"]), status=RolloutStatus(), measurements={}, now=START
    )
    expected_status = {**first.status.to_dict(), "observedGeneration": 1}
    assert status_patches(cluster) == [{"status": expected_status}]
    assert expected_status["phase"] == "Progressing"
    assert expected_status["canaryWeight"] == 10
    assert expected_status["stableModel"] == {"bentoTag": "churn-classifier:v1"}
    assert expected_status["canaryModel"] == {"bentoTag": "churn-classifier:v2"}
    assert expected_status["nextAnalysisTime"] == "2025-01-01T12:00:30Z"
    # Hand-reasoned, not from decide(): step 1 of stepWeights [10, 50], interval 30 s.
    started = (
        "new canary churn-classifier:v2 (stable churn-classifier:v1): 10% (step 1/2), "
        "first analysis in 30s"
    )
    written = status_patches(cluster)[0]["status"]
    assert (written["currentStep"], written["failedChecks"], written["inconclusiveCount"]) == (
        0,
        0,
        0,
    )
    assert written["message"] == started
    assert written["history"] == [
        {
            "time": "2025-01-01T12:00:00Z",
            "decision": "start",
            "phase": "Progressing",
            "canaryWeight": 10,
            "message": started,
        }
    ]
    assert [(c["type"], c["status"]) for c in written["conditions"]] == [
        ("Progressing", "True"),
        ("Promoted", "Unknown"),
    ]
    assert cluster.events() == [
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": "churn.", "namespace": "ml"},
            "involvedObject": {
                "apiVersion": "canaria.dev/v1alpha1",
                "kind": "ModelRollout",
                "name": "churn",
                "namespace": "ml",
                "uid": "uid-1",
            },
            "reason": "AnalysisStarted",
            "message": expected_status["message"],
            "type": "Normal",
            "source": {"component": "canaria-operator"},
            "reportingComponent": "canaria-operator",
            "reportingInstance": "canaria-operator-0",
            "firstTimestamp": "2025-01-01T12:00:00+00:00",
            "lastTimestamp": "2025-01-01T12:00:00+00:00",
            "count": 1,
        }
    ]


def test_tick_before_the_interval_sends_nothing(cluster: Cluster) -> None:
    tick(cluster)
    cluster.kube.clear()
    cluster.clock.advance(10)  # interval is 30s
    tick(cluster)
    # Level-triggered: the route is read back (every quarter interval), nothing written.
    assert [(r.method, r.path) for r in cluster.kube.requests] == [
        ("GET", ROLLOUT_PATH),
        ("GET", ROUTE_PATH),
    ]
    cluster.kube.clear()
    cluster.clock.advance(1)  # not yet a quarter interval since
    tick(cluster)
    assert cluster.kube.requests == []


def test_healthy_canary_is_promoted_step_by_step(cluster: Cluster) -> None:
    for _ in range(4):
        tick(cluster)
        cluster.clock.advance(30)
    # The HTTPRoute's stable Service still serves v1: all traffic stays on the candidate,
    # however long its workload takes to be updated.
    cluster.clock.advance(600)
    tick(cluster)
    assert weights(cluster) == [10, 50, 100]
    assert cluster.rollout["status"]["phase"] == "Promoting"
    assert (
        "complete once spec.target.stable is churn-classifier:v2"
        in (cluster.rollout["status"]["message"])
    )
    # Helm updated the stable workload, and with it spec.target.stable.
    cluster.edit(lambda obj: obj["spec"]["target"]["stable"].update(bentoTag="churn-classifier:v2"))
    spec_changed(cluster)
    tick(cluster)  # nothing left to do

    # 10% -> 50% -> everything while the stable is updated -> back to the (new) stable.
    assert weights(cluster) == [10, 50, 100, 0]
    assert route_patches(cluster)[1] == route_patch(50, 50)
    assert route_patches(cluster)[3] == route_patch(100, 0)
    assert cluster.reasons() == ["AnalysisStarted", "StepAdvanced", "Promoting", "Promoted"]
    advance = status_patches(cluster)[1]["status"]
    assert advance["canaryWeight"] == 50
    assert advance["currentStep"] == 1
    assert advance["nextAnalysisTime"] == "2025-01-01T12:01:00Z"
    assert advance["lastAnalysis"]["verdict"] == "pass"
    assert [c["name"] for c in advance["lastAnalysis"]["checks"]] == [
        "success-rate",
        "latency-p99",
    ]
    # Only what changed is sent: the models and the phase did not.
    assert "stableModel" not in advance and "phase" not in advance
    status = cluster.rollout["status"]
    assert status["phase"] == "Succeeded"
    assert status["stableModel"] == {"bentoTag": "churn-classifier:v2"}
    assert status["canaryWeight"] == 0
    assert [h["decision"] for h in status["history"]] == ["start", "advance", "promote", "complete"]


def test_failing_canary_rolls_back_after_failure_limit(cluster: Cluster) -> None:
    tick(cluster)
    for check, value in ERRORS.items():
        cluster.metrics_values.set(check, value)
    cluster.clock.advance(30)
    tick(cluster)  # failed (1) <= failureLimit (1): hold
    cluster.clock.advance(30)
    tick(cluster)  # failed (2) > failureLimit (1): roll back

    assert weights(cluster) == [10, 0]
    assert route_patches(cluster)[1] == route_patch(100, 0)
    assert cluster.reasons() == ["AnalysisStarted", "AnalysisFailed", "RolledBack"]
    assert [e["type"] for e in cluster.events()] == ["Normal", "Warning", "Warning"]
    rollback = status_patches(cluster)[2]["status"]
    assert rollback["phase"] == "Failed"
    assert rollback["canaryWeight"] == 0
    assert rollback["failedChecks"] == 2
    assert rollback["nextAnalysisTime"] is None  # removed: nothing more is scheduled
    assert "failed (2) > failureLimit (1)" in rollback["message"]
    assert "success-rate 0.50 < min 0.99" in cluster.events()[2]["message"]


def test_manual_rollback_annotation_is_applied_and_removed(cluster: Cluster) -> None:
    tick(cluster)
    cluster.kube.clear()
    annotate(cluster, "rollback")
    cluster.clock.advance(1)  # long before the next analysis
    tick(cluster)

    assert route_patches(cluster) == [route_patch(100, 0)]
    assert status_patches(cluster)[0]["status"]["phase"] == "RolledBack"
    removals = cluster.requests("PATCH", ROLLOUT_PATH)
    assert [r.content_type for r in removals] == ["application/json-patch+json"]
    assert removals[0].body == [
        {"op": "test", "path": ACTION_PATH, "value": "rollback"},
        {"op": "remove", "path": ACTION_PATH},
    ]
    assert ACTION not in cluster.rollout["metadata"]["annotations"]
    assert cluster.reasons() == ["RolledBack"]


def test_pause_and_resume_by_annotation(cluster: Cluster) -> None:
    tick(cluster)
    annotate(cluster, "pause")
    tick(cluster)
    assert cluster.rollout["status"]["phase"] == "Paused"
    assert cluster.rollout["status"]["pauseReason"] == "action"
    cluster.clock.advance(90)
    tick(cluster)  # paused: no analysis however late
    assert cluster.rollout["status"]["phase"] == "Paused"
    annotate(cluster, "resume")
    tick(cluster)

    resume = status_patches(cluster)[-1]["status"]
    assert resume["phase"] == "Progressing"
    assert resume["pauseReason"] is None  # a merge patch deletes with null
    assert "pauseReason" not in cluster.rollout["status"]
    assert cluster.reasons() == ["AnalysisStarted", "Paused", "Resumed"]
    assert weights(cluster) == [10]  # pausing froze the traffic


def test_unknown_action_is_reported_and_removed(cluster: Cluster) -> None:
    tick(cluster)
    cluster.kube.clear()
    annotate(cluster, "yolo")
    tick(cluster)

    assert cluster.reasons() == ["InvalidAction"]
    assert cluster.events()[0]["type"] == "Warning"
    known = "must be one of promote, promote-full, abort, retry, rollback, pause, resume"
    assert known in cluster.events()[0]["message"]
    assert ACTION not in cluster.rollout["metadata"]["annotations"]
    assert route_patches(cluster) == [] and status_patches(cluster) == []


def test_new_canary_restarts_the_analysis(cluster: Cluster) -> None:
    tick(cluster)
    cluster.clock.advance(30)
    tick(cluster)
    assert cluster.rollout["status"]["canaryWeight"] == 50
    cluster.kube.clear()
    cluster.edit(lambda obj: obj["spec"]["target"]["canary"].update(bentoTag="churn-classifier:v3"))
    spec_changed(cluster)  # kopf calls it on the spec change, without waiting for a tick

    assert weights(cluster) == [10]
    restart = status_patches(cluster)[0]["status"]
    assert restart["canaryModel"] == {"bentoTag": "churn-classifier:v3"}
    assert restart["currentStep"] == 0
    assert restart["canaryWeight"] == 10
    assert restart["observedGeneration"] == 2
    assert cluster.reasons() == ["AnalysisStarted"]


def test_invalid_spec_is_refused_once_and_nothing_changes(cluster: Cluster) -> None:
    tick(cluster)
    cluster.kube.clear()
    cluster.edit(lambda obj: obj["spec"]["analysis"].update(stepWeights=[50, 10]))
    spec_changed(cluster)
    cluster.clock.advance(30)
    tick(cluster)
    tick(cluster)

    assert cluster.reasons() == ["InvalidSpec"]
    assert "spec.analysis.stepWeights[1]" in cluster.events()[0]["message"]
    assert route_patches(cluster) == []
    # Only the Reconciled condition is written, once: it says why nothing moves.
    (patch,) = status_patches(cluster)
    assert list(patch["status"]) == ["conditions"]
    reconciled = [c for c in patch["status"]["conditions"] if c["type"] == "Reconciled"]
    assert [(c["status"], c["reason"]) for c in reconciled] == [("False", "InvalidSpec")]
    assert cluster.rollout["status"]["canaryWeight"] == 10  # the last good state stays


def test_unreachable_route_leaves_the_status_for_the_next_tick(cluster: Cluster) -> None:
    cluster.kube.on("GET", ROUTE_PATH, status_response(500, "InternalError", "etcd down"))
    tick(cluster)
    tick(cluster)
    assert cluster.reasons() == ["TrafficError"]
    assert "etcd down" in cluster.events()[0]["message"]
    # Nothing but the Reconciled condition, which says why.
    assert [list(p["status"]) for p in status_patches(cluster)] == [["conditions"]]

    cluster.route = cluster.kube.serve_object(ROUTE_PATH, cluster.route())  # the API is back
    cluster.clock.advance(1)  # the first backoff
    tick(cluster)
    assert weights(cluster) == [10]
    assert cluster.rollout["status"]["phase"] == "Progressing"
    conditions = {c["type"]: c["status"] for c in cluster.rollout["status"]["conditions"]}
    assert conditions["Reconciled"] == "True"


def test_event_failure_does_not_undo_the_decision(cluster: Cluster) -> None:
    cluster.kube.on("POST", EVENTS_PATH, StubResponse(status=403, body={"kind": "Status"}))
    tick(cluster)
    assert cluster.rollout["status"]["phase"] == "Progressing"


def test_operator_metrics_follow_the_decisions(cluster: Cluster) -> None:
    for _ in range(2):
        tick(cluster)
        cluster.clock.advance(30)
    text = generate_latest(cluster.reconciler.metrics.registry).decode()
    assert 'canaria_rollout_phase{phase="Progressing",rollout="ml/churn"} 1.0' in text
    assert 'canaria_rollout_phase{phase="Failed",rollout="ml/churn"} 0.0' in text
    assert 'canaria_rollout_canary_weight{rollout="ml/churn"} 50.0' in text
    assert 'canaria_rollout_decisions_total{decision="start",rollout="ml/churn"} 1.0' in text
    assert 'canaria_rollout_decisions_total{decision="advance",rollout="ml/churn"} 1.0' in text
    assert 'canaria_rollout_analysis_duration_seconds_count{rollout="ml/churn"} 1.0' in text

    port = free_port()
    cluster.reconciler.metrics.serve(port=port, address="127.0.0.1")
    served = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'canaria_rollout_canary_weight{rollout="ml/churn"} 50.0' in served


def test_deleted_rollout_is_forgotten(cluster: Cluster) -> None:
    tick(cluster)
    handlers.deleted(
        body=cluster.rollout,
        name="churn",
        namespace="ml",
        uid="uid-1",
        memo=kopf.Memo(reconciler=cluster.reconciler),
    )
    text = generate_latest(cluster.reconciler.metrics.registry).decode()
    assert 'rollout="ml/churn"' not in text


def test_kopf_keeps_its_bookkeeping_out_of_the_status() -> None:
    settings = kopf.OperatorSettings()
    handlers.configure(settings)
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert isinstance(settings.persistence.diffbase_storage, kopf.AnnotationsDiffBaseStorage)
    assert settings.persistence.finalizer == "canaria.dev/operator"
    assert settings.scanning.disabled is True
