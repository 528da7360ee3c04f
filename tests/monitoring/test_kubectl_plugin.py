"""``kubectl-canaria`` against the Kubernetes stub: the exact requests and the tables."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from canaria.testing.kube_stub import KubeStub, StubResponse, status_response
from monitoring import kubectl_plugin
from monitoring.plugin.render import format_details
from tests.monitoring.operator.conftest import ROLLOUT_PATH, rollout_object

LIST_PATH = "/apis/canaria.dev/v1alpha1/namespaces/ml/modelrollouts"


def with_status() -> dict[str, Any]:
    obj = rollout_object()
    obj["status"] = {
        "phase": "Progressing",
        "canaryWeight": 10,
        "currentStep": 0,
        "failedChecks": 1,
        "stableModel": {"bentoTag": "churn-classifier:v1"},
        "canaryModel": {"bentoTag": "churn-classifier:v2"},
        "message": "latency-p99 1.84 s > max 0.50 s; failed (1) <= failureLimit (1)",
        "lastAnalysis": {
            "time": "2025-01-01T12:00:30Z",
            "verdict": "fail",
            "message": "latency-p99 1.84 s > max 0.50 s",
            "checks": [
                {
                    "name": "success-rate",
                    "verdict": "pass",
                    "value": 0.999,
                    "stableValue": 1.0,
                    "compared": 0.999,
                    "min": 0.99,
                    "comparison": "absolute",
                    "unit": "ratio",
                    "message": "success-rate 0.999 >= min 0.99",
                },
                {
                    "name": "latency-p99",
                    "verdict": "fail",
                    "value": 1.84,
                    "stableValue": 0.12,
                    "compared": 1.84,
                    "max": 0.5,
                    "comparison": "absolute",
                    "unit": "s",
                    "message": "latency-p99 1.84 s > max 0.50 s",
                },
            ],
        },
    }
    return obj


@pytest.fixture
def kube(tmp_path: Path) -> Any:
    with KubeStub() as stub:
        yield stub, str(stub.write_kubeconfig(tmp_path / "kubeconfig", namespace="ml"))


def test_actions_set_the_annotation_with_one_merge_patch(
    kube: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, config = kube
    stub.on("GET", ROLLOUT_PATH, StubResponse(body=with_status()))
    stub.on("PATCH", ROLLOUT_PATH, StubResponse(body=rollout_object()))
    actions = ("promote", "promote-full", "abort", "pause", "rollback")
    for action in actions:
        argv = ["--kubeconfig", config, *action.replace("-full", " --full").split(), "churn"]
        assert kubectl_plugin.main([*argv, "--no-wait"]) == 0
    patches = stub.requests_matching("PATCH", ROLLOUT_PATH)
    assert [p.body for p in patches] == [
        {"metadata": {"annotations": {"canaria.dev/action": action}}} for action in actions
    ]
    assert {p.content_type for p in patches} == {"application/merge-patch+json"}
    assert {p.headers["authorization"] for p in patches} == {"Bearer stub-token"}
    assert "rollback requested for churn (namespace ml)" in capsys.readouterr().out


def test_status_table_lists_the_namespace_rollouts(
    kube: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, config = kube
    other = copy.deepcopy(with_status())
    other["metadata"]["name"] = "support-lm"
    del other["status"]
    stub.on("GET", LIST_PATH, StubResponse(body={"items": [with_status(), other]}))
    assert kubectl_plugin.main(["--kubeconfig", config, "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "PHASE", "WEIGHT", "STABLE", "CANARY", "FAILED", "MESSAGE"]
    assert lines[1].split()[:7] == [
        "churn",
        "Progressing",
        "10%",
        "churn-classifier:v1",
        "churn-classifier:v2",
        "1",
        "(latency-p99)",
    ]
    assert lines[2].split()[:5] == [
        "support-lm",
        "-",
        "0%",
        "churn-classifier:v1",
        "churn-classifier:v2",
    ]


def test_status_of_one_rollout_shows_each_checks_evidence(
    kube: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, config = kube
    stub.on("GET", ROLLOUT_PATH, StubResponse(body=with_status()))
    event = {
        "metadata": {"name": "churn.1", "namespace": "ml"},
        "involvedObject": {"kind": "ModelRollout", "name": "churn", "namespace": "ml"},
        "type": "Warning",
        "reason": "AnalysisFailed",
        "message": "latency-p99 1.84 s > max 0.50 s",
        "lastTimestamp": "2025-01-01T12:00:30Z",
    }
    stub.on("GET", "/api/v1/namespaces/ml/events", StubResponse(body={"items": [event]}))
    assert kubectl_plugin.main(["--kubeconfig", config, "status", "churn"]) == 0
    out = capsys.readouterr().out
    evidence = out.split("Last analysis")[1]
    rows = {line.split()[0]: line.split() for line in evidence.splitlines()[1:] if line.strip()}
    assert rows["latency-p99"][:6] == ["latency-p99", "fail", "1.84", "s", "0.12", "s"]
    assert "<= 0.50 s" in evidence
    assert rows["success-rate"][:4] == ["success-rate", "pass", "0.999", "1.00"]
    assert "AnalysisFailed" in out.split("Events:")[1]
    events_request = stub.requests_matching("GET", "/api/v1/namespaces/ml/events")[0]
    assert events_request.query["fieldSelector"] == [
        "involvedObject.name=churn,involvedObject.kind=ModelRollout"
    ]


def test_missing_rollout_is_a_clear_error(kube: Any, capsys: pytest.CaptureFixture[str]) -> None:
    stub, config = kube
    stub.on("GET", ROLLOUT_PATH, status_response(404, "NotFound", "not found"))
    assert kubectl_plugin.main(["--kubeconfig", config, "rollback", "churn"]) == 4
    assert capsys.readouterr().err.strip() == "error: ModelRollout not found"


def test_an_action_needs_a_name_or_a_local_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert kubectl_plugin.main(["promote"]) == 2
    assert "promote needs a rollout NAME" in capsys.readouterr().err


def test_status_shows_the_retraining_loop() -> None:
    obj = rollout_object()
    obj["status"] = {
        "phase": "Progressing",
        "retrain": {
            "lastOutcome": "registered",
            "lastReason": "Job k1 registered churn-classifier:v9 (better); it is the canary now",
            "waitReason": "drift: in cooldown for 3500 s more",
            "history": [{"time": "2026-01-01T12:00:00Z", "step": "RetrainStarted",
                         "message": "retraining Job k1 started"}],
        },
    }  # fmt: skip
    text = format_details(obj)
    assert "no Job running" in text
    assert "registered: Job k1 registered churn-classifier:v9" in text
    assert "in cooldown" in text and "RetrainStarted" in text
    assert "Retraining" not in format_details(rollout_object())
