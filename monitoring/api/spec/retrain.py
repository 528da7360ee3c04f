"""``spec.retrain`` of a ModelRollout: when to retrain, and how (pure parsing).

The operator's ``monitoring.operator.retraining`` acts on it; ``parse_spec`` wraps a
``RetrainSpecError`` into a ``SpecError`` at ``spec.retrain``; the CRD states the same bounds.

```yaml
retrain:
  launcher: kubernetes          # or local
  triggers:
    driftShare: {above: 0.3, intervals: 3}   # drift share above 0.3 for 3 analyses running
    failedChecks: [accuracy]                 # any of these checks failing
    scheduleSeconds: 86400                   # at most this long between retrainings
  cooldownSeconds: 3600         # no new Job this soon after the last one started
  margin: 0.01                  # passed to canaria retrain --margin
  job:                          # the Job's pod (kubernetes launcher)
    image: ghcr.io/example/canaria:0.1.0
    serviceAccountName: canaria-retrain
    storeClaim: canaria-bentoml-store  # the PVC of the BentoML store serving reads
    samplesClaim: canaria-sample-logs  # the PVC the model servers log sampled inputs to
    samplesFile: stable.jsonl          # the file in it to train on (--samples /samples/FILE)
    backoffLimit: 0
    activeDeadlineSeconds: 3600
    resources: {requests: {cpu: "1", memory: 2Gi}, limits: {memory: 2Gi}}
    args: [--generate, "20000"]  # extra canaria retrain arguments
```

Errors raise ``RetrainSpecError`` naming the field; unknown keys are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitoring.api.spec import bounds

LAUNCHERS = ("kubernetes", "local")
DEFAULT_STORE_CLAIM = "canaria-bentoml-store"
DEFAULT_SAMPLES_FILE = "stable.jsonl"
# A PersistentVolumeClaim name (DNS-1123 subdomain) and a plain file name, as in the CRD.
CLAIM_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
SAMPLES_FILE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"
MAX_CLAIM_NAME_LENGTH = 253
MAX_FILE_NAME_LENGTH = 255
MAX_JOB_ARGS = 32


class RetrainSpecError(ValueError):
    """The ``retrain`` section is invalid; the message names the field."""


@dataclass(frozen=True)
class DriftTrigger:
    above: float
    intervals: int = 1


@dataclass(frozen=True)
class JobTemplate:
    image: str = ""
    service_account_name: str = ""
    backoff_limit: int = 0
    active_deadline_seconds: int = 3600
    ttl_seconds_after_finished: int = 86400
    store_claim: str = DEFAULT_STORE_CLAIM
    samples_claim: str = ""
    samples_file: str = DEFAULT_SAMPLES_FILE
    resources: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetrainSpec:
    launcher: str
    drift: DriftTrigger | None
    failed_checks: tuple[str, ...]
    schedule_seconds: float | None
    cooldown_seconds: float
    margin: float
    job: JobTemplate


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise RetrainSpecError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")


def _number(data: Mapping[str, Any], key: str, where: str, default: float, minimum: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise RetrainSpecError(f"{where}.{key} must be a number >= {minimum}, got {value!r}")
    return float(value)


def parse_retrain(data: Mapping[str, Any]) -> RetrainSpec:
    """A ``RetrainSpec`` from the CR's ``retrain`` mapping; at least one trigger required."""
    if not isinstance(data, Mapping):
        raise RetrainSpecError("retrain must be a mapping")
    _check_keys(data, {"launcher", "triggers", "cooldownSeconds", "margin", "job"}, "retrain")
    launcher = data.get("launcher", "kubernetes")
    if launcher not in LAUNCHERS:
        raise RetrainSpecError(f"retrain.launcher must be one of {LAUNCHERS}, got {launcher!r}")
    triggers = data.get("triggers") or {}
    if not isinstance(triggers, Mapping):
        raise RetrainSpecError("retrain.triggers must be a mapping")
    where = "retrain.triggers"
    _check_keys(triggers, {"driftShare", "failedChecks", "scheduleSeconds"}, where)
    drift = None
    if "driftShare" in triggers:
        raw = triggers["driftShare"]
        if not isinstance(raw, Mapping):
            raise RetrainSpecError(f"{where}.driftShare must be a mapping")
        _check_keys(raw, {"above", "intervals"}, f"{where}.driftShare")
        if "above" not in raw:
            raise RetrainSpecError(f"{where}.driftShare.above is required")
        above = _number(raw, "above", f"{where}.driftShare", 0.0, 0.0)
        intervals = int(_number(raw, "intervals", f"{where}.driftShare", 1, 1))
        drift = DriftTrigger(above=above, intervals=intervals)
    failed = triggers.get("failedChecks", [])
    if not isinstance(failed, list) or not all(isinstance(name, str) for name in failed):
        raise RetrainSpecError(f"{where}.failedChecks must be a list of check names")
    if len(failed) > bounds.MAX_CHECKS:
        raise RetrainSpecError(f"{where}.failedChecks: at most {bounds.MAX_CHECKS} check names")
    for index, name in enumerate(failed):
        _text(name, f"{where}.failedChecks[{index}]", limit=bounds.MAX_NAME_LENGTH)
    schedule = (
        _number(triggers, "scheduleSeconds", where, 0, 60)
        if "scheduleSeconds" in triggers
        else None
    )
    if drift is None and not failed and schedule is None:
        raise RetrainSpecError(f"{where}: give at least one of driftShare, failedChecks, "
                               "scheduleSeconds")  # fmt: skip
    return RetrainSpec(
        launcher=str(launcher),
        drift=drift,
        failed_checks=tuple(failed),
        schedule_seconds=schedule,
        cooldown_seconds=_number(data, "cooldownSeconds", "retrain", 3600, 0),
        margin=_number(data, "margin", "retrain", 0.01, 0),
        job=_parse_job(data.get("job") or {}, launcher=str(launcher)),
    )


def _parse_job(data: Mapping[str, Any], *, launcher: str) -> JobTemplate:
    if not isinstance(data, Mapping):
        raise RetrainSpecError("retrain.job must be a mapping")
    allowed = {"image", "serviceAccountName", "backoffLimit", "activeDeadlineSeconds",
               "ttlSecondsAfterFinished", "resources", "args", "storeClaim",
               "samplesClaim", "samplesFile"}  # fmt: skip
    _check_keys(data, allowed, "retrain.job")
    image = data.get("image", "")
    if launcher == "kubernetes" and not image:
        raise RetrainSpecError("retrain.job.image is required with the kubernetes launcher")
    args = data.get("args", [])
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise RetrainSpecError("retrain.job.args must be a list of strings")
    if len(args) > MAX_JOB_ARGS:
        raise RetrainSpecError(f"retrain.job.args: at most {MAX_JOB_ARGS} arguments")
    for key in ("image", "serviceAccountName", "storeClaim"):
        if key in data:
            _text(data[key], f"retrain.job.{key}")
    for index, arg in enumerate(args):
        _text(arg, f"retrain.job.args[{index}]")
    resources = data.get("resources", {})
    if not isinstance(resources, Mapping):
        raise RetrainSpecError("retrain.job.resources must be a mapping")
    samples_claim, samples_file = _parse_samples(data, launcher=launcher)
    return JobTemplate(
        image=str(image),
        service_account_name=str(data.get("serviceAccountName", "")),
        backoff_limit=int(_number(data, "backoffLimit", "retrain.job", 0, 0)),
        active_deadline_seconds=int(_number(data, "activeDeadlineSeconds", "retrain.job", 3600, 1)),
        ttl_seconds_after_finished=int(
            _number(data, "ttlSecondsAfterFinished", "retrain.job", 86400, 0)
        ),
        resources=dict(resources),
        args=tuple(args),
        store_claim=str(data.get("storeClaim", DEFAULT_STORE_CLAIM)),
        samples_claim=samples_claim,
        samples_file=samples_file,
    )


def _parse_samples(data: Mapping[str, Any], *, launcher: str) -> tuple[str, str]:
    """``(samplesClaim, samplesFile)``: the PVC of the sampled-input logs ("" for none) and
    the plain file name in it the Job trains on; each refusal names its field."""
    if "samplesClaim" not in data:
        if "samplesFile" in data:
            raise RetrainSpecError("retrain.job.samplesFile needs retrain.job.samplesClaim "
                                   "(the claim the file is on)")  # fmt: skip
        return "", DEFAULT_SAMPLES_FILE
    claim = data["samplesClaim"]
    _text(claim, "retrain.job.samplesClaim")
    if len(claim) > MAX_CLAIM_NAME_LENGTH or not re.fullmatch(CLAIM_NAME_PATTERN, claim):
        raise RetrainSpecError(
            "retrain.job.samplesClaim must be a PersistentVolumeClaim name (lower-case "
            f"letters, digits, '-', '.'; at most {MAX_CLAIM_NAME_LENGTH}), got {claim!r}"
        )
    if launcher != "kubernetes":
        raise RetrainSpecError("retrain.job.samplesClaim applies to the kubernetes launcher "
                               "only; locally pass retrain.job.args [--samples, PATH]")  # fmt: skip
    file = data.get("samplesFile", DEFAULT_SAMPLES_FILE)
    _text(file, "retrain.job.samplesFile")
    bad = "/" in file or ".." in file or not re.fullmatch(SAMPLES_FILE_PATTERN, file)
    if bad or len(file) > MAX_FILE_NAME_LENGTH:
        raise RetrainSpecError(
            "retrain.job.samplesFile must be a plain file name in the claim (letters, digits, "
            f"'.', '_', '-'; no '/' or '..'; at most {MAX_FILE_NAME_LENGTH}), got {file!r}"
        )
    return str(claim), str(file)


def _text(value: Any, where: str, *, limit: int = bounds.MAX_TEXT_LENGTH) -> None:
    """Strings of at most ``limit`` characters (default ``bounds.MAX_TEXT_LENGTH``)."""
    try:
        bounds.text(value, where, limit=limit)
    except ValueError as error:
        raise RetrainSpecError(str(error)) from error
