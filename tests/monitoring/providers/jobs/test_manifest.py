"""The retraining Job's manifest (pure builder): the sampled-input logs are mounted
read-only and passed to ``canaria retrain --samples`` only when ``job.samplesClaim`` is set."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from monitoring.providers.jobs.manifest import SAMPLES_PATH, job_manifest, retrain_args
from monitoring.providers.jobs.spec import RetrainSpec, parse_retrain

KUBERNETES_VERSION = "1.31.0"
IMAGE = "ghcr.io/example/canaria:0.1.0"


def spec(**job: Any) -> RetrainSpec:
    return parse_retrain({"triggers": {"scheduleSeconds": 3600}, "job": {"image": IMAGE, **job}})


def manifest(retrain: RetrainSpec) -> dict[str, Any]:
    return job_manifest(
        retrain, rollout="churn", namespace="ml", key="k1", champion="churn-classifier:v1",
        trigger="drift:share", store_claim="bentoml-store",
    )  # fmt: skip


def pod(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def test_without_a_samples_claim_nothing_is_mounted_or_passed() -> None:
    job = manifest(spec(args=["--generate", "300"]))
    (container,) = pod(job)["containers"]
    assert "--samples" not in container["args"]
    assert [m["name"] for m in container["volumeMounts"]] == ["store", "results", "tmp"]
    assert [v["name"] for v in pod(job)["volumes"]] == ["store", "results", "tmp"]
    assert "supplementalGroups" not in pod(job)["securityContext"]


def test_a_samples_claim_is_mounted_read_only_and_passed_as_samples() -> None:
    job = manifest(spec(samplesClaim="canaria-sample-logs", args=["--generate", "300"]))
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    (container,) = pod(job)["containers"]
    assert SAMPLES_PATH == "/samples"
    assert container["args"] == [
        "retrain", "--champion", "churn-classifier:v1", "--margin", "0.01",
        "--trigger", "drift:share", "--output", "/results/result.json",
        "--samples", "/samples/stable.jsonl", "--generate", "300",
    ]  # fmt: skip
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["samples"] == {"name": "samples", "mountPath": "/samples", "readOnly": True}
    assert mounts["store"].get("readOnly") is None  # the store is where new versions go
    volumes = {v["name"]: v for v in pod(job)["volumes"]}
    assert volumes["samples"] == {
        "name": "samples",
        "persistentVolumeClaim": {"claimName": "canaria-sample-logs", "readOnly": True},
    }
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # The servers write 0640 files, group 1034 (charts/canaria: BentoML's image user).
    assert pod(job)["securityContext"]["supplementalGroups"] == [1034]


def test_the_samples_file_names_the_file_in_the_claim() -> None:
    job = manifest(spec(samplesClaim="logs", samplesFile="canary.jsonl"))
    args = pod(job)["containers"][0]["args"]
    assert args[args.index("--samples") + 1] == "/samples/canary.jsonl"


def test_the_local_arguments_never_name_the_cluster_path() -> None:
    # The local launcher builds its argv with retrain_args alone: no /samples there.
    args = retrain_args(spec(samplesClaim="logs"), champion="c:v1", trigger="schedule")
    assert "--samples" not in args
    with_samples = retrain_args(spec(), champion="c:v1", trigger="t", samples="/x/s.jsonl")
    assert with_samples[-2:] == ["--samples", "/x/s.jsonl"]
