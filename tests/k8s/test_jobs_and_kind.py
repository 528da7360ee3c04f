"""k8s/: the retraining Job template and the kind cluster config."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from canaria.cli.images import image_ref

K8S = Path(__file__).resolve().parents[2] / "k8s"
JOB = yaml.safe_load((K8S / "jobs" / "retrain-job.yaml").read_text())


@pytest.mark.parametrize("version", ["1.30.0", kubernetes_validate.latest_version()])
def test_the_retrain_job_is_valid(version: str) -> None:
    kubernetes_validate.validate(JOB, version, strict=True)


def test_the_retrain_job_runs_canaria_retrain_locked_down() -> None:
    pod = JOB["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["args"][:2] == ["canaria", "retrain"]
    assert container["image"] == image_ref("operator")  # an image canaria build makes
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert "/tmp" in mounts and env["BENTOML_HOME"] in mounts  # writable only there
    assert JOB["spec"]["activeDeadlineSeconds"] > 0 and JOB["spec"]["backoffLimit"] <= 1


def test_the_kind_cluster_has_workers_for_two_routers() -> None:
    config = yaml.safe_load((K8S / "kind-cluster.yaml").read_text())
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    roles = [node["role"] for node in config["nodes"]]
    assert roles.count("control-plane") == 1 and roles.count("worker") >= 2
