"""The retraining Job's ``batch/v1`` manifest (pure builder, plain dicts).

Secure by default: non-root, read-only root filesystem (the BentoML store and the result
go to mounted volumes), no privilege escalation, all capabilities dropped, no service
account token unless a ``serviceAccountName`` is given (the Job needs none to train).
With ``job.samplesClaim`` the model servers' sampled-input logs (``CANARIA_SAMPLE_LOG``)
are mounted read-only at ``SAMPLES_PATH`` and ``--samples SAMPLES_PATH/<samplesFile>`` is
passed to ``canaria retrain``.
"""

from __future__ import annotations

from typing import Any

from monitoring.providers.jobs.spec import RetrainSpec

RESULT_PATH = "/results/result.json"
STORE_PATH = "/bentoml"
SAMPLES_PATH = "/samples"
# The model servers (BentoML's image user, uid/gid 1034: charts/canaria) write the sample
# logs with mode 0640, group 1034; the Job (uid 10001) reads them as a member of that group.
SAMPLE_LOG_GROUP = 1034
# The container's /tmp: an emptyDir mounted there, since the root filesystem is read-only.
TMP_PATH = "/tmp"  # nosec B108 # a mount point in the Job's container, not a file opened here
LABEL_ROLLOUT = "canaria.dev/rollout"
LABEL_KEY = "canaria.dev/retrain-key"
ANNOTATION_TRIGGER = "canaria.dev/retrain-trigger"


def job_name(rollout: str, key: str) -> str:
    """``<rollout>-retrain-<key>``, cut to the 63 characters a label value allows."""
    suffix = f"-retrain-{key}"
    return f"{rollout[: 63 - len(suffix)]}{suffix}"


def retrain_args(
    spec: RetrainSpec, *, champion: str, trigger: str, samples: str | None = None
) -> list[str]:
    """``canaria retrain`` arguments for one Job (``--samples samples`` when given, the
    template's extra args last)."""
    extra = ["--samples", samples] if samples else []
    return [
        "retrain", "--champion", champion, "--margin", str(spec.margin),
        "--trigger", trigger, "--output", RESULT_PATH, *extra, *spec.job.args,
    ]  # fmt: skip


def samples_path(spec: RetrainSpec) -> str | None:
    """The sampled-input file inside the Job (``/samples/<samplesFile>``); ``None`` without
    a ``samplesClaim``."""
    if not spec.job.samples_claim:
        return None
    return f"{SAMPLES_PATH}/{spec.job.samples_file}"


def job_manifest(
    spec: RetrainSpec,
    *,
    rollout: str,
    namespace: str,
    key: str,
    champion: str,
    trigger: str,
    store_claim: str,
) -> dict[str, Any]:
    """A ``batch/v1`` Job running ``canaria retrain``; ``store_claim`` is the PVC of the
    BentoML store the serving side reads new versions from."""
    labels = {LABEL_ROLLOUT: rollout, LABEL_KEY: key, "app.kubernetes.io/name": "canaria"}
    pod = _pod(spec, _container(spec, champion=champion, trigger=trigger), store_claim)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(rollout, key),
            "namespace": namespace,
            "labels": labels,
            "annotations": {ANNOTATION_TRIGGER: trigger},
        },
        "spec": {
            "backoffLimit": spec.job.backoff_limit,
            "activeDeadlineSeconds": spec.job.active_deadline_seconds,
            "ttlSecondsAfterFinished": spec.job.ttl_seconds_after_finished,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def _container(spec: RetrainSpec, *, champion: str, trigger: str) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "retrain",
        "image": spec.job.image,
        "command": ["canaria"],
        "args": retrain_args(spec, champion=champion, trigger=trigger, samples=samples_path(spec)),
        # Kubernetes copies this file (up to 4 KiB) into the pod's terminated state, so the
        # operator reads the JSON result from the pod status, with no log access.
        "terminationMessagePath": RESULT_PATH,
        "terminationMessagePolicy": "File",
        "env": [
            {"name": "BENTOML_HOME", "value": STORE_PATH},
            {"name": "BENTOML_DO_NOT_TRACK", "value": "true"},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "store", "mountPath": STORE_PATH},
            {"name": "results", "mountPath": "/results"},
            {"name": "tmp", "mountPath": TMP_PATH},
        ],
    }
    if spec.job.samples_claim:
        container["volumeMounts"].append(
            {"name": "samples", "mountPath": SAMPLES_PATH, "readOnly": True}
        )
    if spec.job.resources:
        container["resources"] = dict(spec.job.resources)
    return container


def _pod(spec: RetrainSpec, container: dict[str, Any], store_claim: str) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": bool(spec.job.service_account_name),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "store", "persistentVolumeClaim": {"claimName": store_claim}},
            {"name": "results", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if spec.job.samples_claim:
        claim = {"claimName": spec.job.samples_claim, "readOnly": True}
        pod["volumes"].append({"name": "samples", "persistentVolumeClaim": claim})
        pod["securityContext"]["supplementalGroups"] = [SAMPLE_LOG_GROUP]
    if spec.job.service_account_name:
        pod["serviceAccountName"] = spec.job.service_account_name
    return pod
