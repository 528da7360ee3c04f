"""``spec.retrain`` parsing (monitoring/api/spec/retrain.py), with hand-written expected
values: every default, every field read, each bound accepted at its edge and refused one
step past it, and each refusal's exact message (it names the field)."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.spec.retrain import (
    DEFAULT_SAMPLES_FILE,
    DEFAULT_STORE_CLAIM,
    MAX_JOB_ARGS,
    DriftTrigger,
    JobTemplate,
    RetrainSpec,
    RetrainSpecError,
    parse_retrain,
)

LOCAL = {"launcher": "local", "triggers": {"scheduleSeconds": 60}}
IMAGE = "ghcr.io/example/canaria:0.1.0"


def job(**fields: Any) -> JobTemplate:
    """The job template parsed from a local-launcher section with these ``job`` fields."""
    return parse_retrain({**LOCAL, "job": fields}).job


def refusal(data: Any) -> str:
    with pytest.raises(RetrainSpecError) as raised:
        parse_retrain(data)
    return str(raised.value)


def test_the_smallest_section_takes_every_default() -> None:
    assert parse_retrain({"triggers": {"failedChecks": ["auc"]}, "job": {"image": IMAGE}}) == (
        RetrainSpec(
            launcher="kubernetes",
            drift=None,
            failed_checks=("auc",),
            schedule_seconds=None,
            cooldown_seconds=3600.0,
            margin=0.01,
            job=JobTemplate(
                image=IMAGE,
                service_account_name="",
                backoff_limit=0,
                active_deadline_seconds=3600,
                ttl_seconds_after_finished=86400,
                store_claim="canaria-bentoml-store",
                resources={},
                args=(),
            ),
        )
    )
    assert DEFAULT_STORE_CLAIM == "canaria-bentoml-store"
    assert job() == JobTemplate()  # a local launcher needs no image


def test_every_field_is_read() -> None:
    resources = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    spec = parse_retrain(
        {
            "launcher": "kubernetes",
            "triggers": {
                "driftShare": {"above": 0.3, "intervals": 3},
                "failedChecks": ["accuracy", "auc"],
                "scheduleSeconds": 86400,
            },
            "cooldownSeconds": 600,
            "margin": 0.05,
            "job": {
                "image": IMAGE,
                "serviceAccountName": "canaria-retrain",
                "storeClaim": "models",
                "backoffLimit": 2,
                "activeDeadlineSeconds": 7200,
                "ttlSecondsAfterFinished": 60,
                "resources": resources,
                "args": ["--generate", "20000"],
            },
        }
    )
    assert spec == RetrainSpec(
        launcher="kubernetes",
        drift=DriftTrigger(above=0.3, intervals=3),
        failed_checks=("accuracy", "auc"),
        schedule_seconds=86400.0,
        cooldown_seconds=600.0,
        margin=0.05,
        job=JobTemplate(
            image=IMAGE,
            service_account_name="canaria-retrain",
            backoff_limit=2,
            active_deadline_seconds=7200,
            ttl_seconds_after_finished=60,
            store_claim="models",
            resources=resources,
            args=("--generate", "20000"),
        ),
    )
    assert type(spec.job.backoff_limit) is int and type(spec.cooldown_seconds) is float


def test_a_drift_trigger_counts_one_interval_unless_told() -> None:
    spec = parse_retrain({**LOCAL, "triggers": {"driftShare": {"above": 0}}})
    assert spec.drift == DriftTrigger(above=0.0, intervals=1)
    assert spec.schedule_seconds is None and spec.failed_checks == ()


@pytest.mark.parametrize(
    ("section", "accepted", "refused", "message"),
    [
        (
            {"triggers": {"scheduleSeconds": 60}},
            ("schedule_seconds", 60.0),
            {"triggers": {"scheduleSeconds": 59.999}},
            "retrain.triggers.scheduleSeconds must be a number >= 60, got 59.999",
        ),
        (
            {"triggers": {"driftShare": {"above": 0.0, "intervals": 1}}},
            ("drift", DriftTrigger(0.0, 1)),
            {"triggers": {"driftShare": {"above": 0.5, "intervals": 0}}},
            "retrain.triggers.driftShare.intervals must be a number >= 1, got 0",
        ),
        (
            {"triggers": {"driftShare": {"above": 0.0}}},
            ("drift", DriftTrigger(0.0, 1)),
            {"triggers": {"driftShare": {"above": -0.001}}},
            "retrain.triggers.driftShare.above must be a number >= 0.0, got -0.001",
        ),
        (
            {**LOCAL, "cooldownSeconds": 0},
            ("cooldown_seconds", 0.0),
            {**LOCAL, "cooldownSeconds": -1},
            "retrain.cooldownSeconds must be a number >= 0, got -1",
        ),
        (
            {**LOCAL, "margin": 0},
            ("margin", 0.0),
            {**LOCAL, "margin": -0.01},
            "retrain.margin must be a number >= 0, got -0.01",
        ),
    ],
)
def test_number_bounds_from_both_sides(
    section: dict[str, Any], accepted: tuple[str, Any], refused: dict[str, Any], message: str
) -> None:
    spec = parse_retrain({"launcher": "local", **section})
    assert getattr(spec, accepted[0]) == accepted[1]
    assert refusal({"launcher": "local", **refused}) == message


@pytest.mark.parametrize(
    ("key", "edge", "attribute", "below"),
    [
        ("backoffLimit", 0, "backoff_limit", -1),
        ("activeDeadlineSeconds", 1, "active_deadline_seconds", 0),
        ("ttlSecondsAfterFinished", 0, "ttl_seconds_after_finished", -1),
    ],
)
def test_job_number_bounds_from_both_sides(key: str, edge: int, attribute: str, below: int) -> None:
    assert getattr(job(**{key: edge}), attribute) == edge
    minimum = edge
    assert refusal({**LOCAL, "job": {key: below}}) == (
        f"retrain.job.{key} must be a number >= {minimum}, got {below}"
    )


@pytest.mark.parametrize("value", [True, "60", None, [60]])
def test_a_number_that_is_a_bool_or_not_a_number_is_refused(value: Any) -> None:
    assert refusal({"launcher": "local", "triggers": {"scheduleSeconds": value}}) == (
        f"retrain.triggers.scheduleSeconds must be a number >= 60, got {value!r}"
    )


def test_at_most_32_job_arguments() -> None:
    assert MAX_JOB_ARGS == 32
    assert job(args=["a"] * 32).args == ("a",) * 32
    assert refusal({**LOCAL, "job": {"args": ["a"] * 33}}) == (
        "retrain.job.args: at most 32 arguments"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "retrain must be a mapping"),
        (
            {**LOCAL, "schedule": 1},
            "retrain: unknown field(s) ['schedule']; allowed: "
            "['cooldownSeconds', 'job', 'launcher', 'margin', 'triggers']",
        ),
        (
            {"launcher": "ssh", "triggers": {"scheduleSeconds": 60}},
            "retrain.launcher must be one of ('kubernetes', 'local'), got 'ssh'",
        ),
        ({"launcher": "local", "triggers": [1]}, "retrain.triggers must be a mapping"),
        (
            {"launcher": "local", "triggers": {"drift": 1}},
            "retrain.triggers: unknown field(s) ['drift']; allowed: "
            "['driftShare', 'failedChecks', 'scheduleSeconds']",
        ),
        (
            {"launcher": "local", "triggers": {"driftShare": 0.3}},
            "retrain.triggers.driftShare must be a mapping",
        ),
        (
            {"launcher": "local", "triggers": {"driftShare": {"above": 0.3, "for": 2}}},
            "retrain.triggers.driftShare: unknown field(s) ['for']; allowed: "
            "['above', 'intervals']",
        ),
        (
            {"launcher": "local", "triggers": {"driftShare": {"intervals": 2}}},
            "retrain.triggers.driftShare.above is required",
        ),
        (
            {"launcher": "local", "triggers": {"failedChecks": "auc"}},
            "retrain.triggers.failedChecks must be a list of check names",
        ),
        (
            {"launcher": "local", "triggers": {"failedChecks": ["auc", 1]}},
            "retrain.triggers.failedChecks must be a list of check names",
        ),
        (
            {"launcher": "local", "triggers": {}},
            "retrain.triggers: give at least one of driftShare, failedChecks, scheduleSeconds",
        ),
        (
            {"launcher": "local", "triggers": {"failedChecks": []}},
            "retrain.triggers: give at least one of driftShare, failedChecks, scheduleSeconds",
        ),
        (
            {"triggers": {"scheduleSeconds": 60}},
            "retrain.job.image is required with the kubernetes launcher",
        ),
        (
            {"triggers": {"scheduleSeconds": 60}, "job": {"image": ""}},
            "retrain.job.image is required with the kubernetes launcher",
        ),
        ({**LOCAL, "job": ["x"]}, "retrain.job must be a mapping"),
        (
            {**LOCAL, "job": {"command": ["sh"]}},
            "retrain.job: unknown field(s) ['command']; allowed: ['activeDeadlineSeconds', "
            "'args', 'backoffLimit', 'image', 'resources', 'samplesClaim', 'samplesFile', "
            "'serviceAccountName', 'storeClaim', 'ttlSecondsAfterFinished']",
        ),
        ({**LOCAL, "job": {"args": "--generate"}}, "retrain.job.args must be a list of strings"),
        ({**LOCAL, "job": {"args": ["--n", 3]}}, "retrain.job.args must be a list of strings"),
        ({**LOCAL, "job": {"resources": ["cpu"]}}, "retrain.job.resources must be a mapping"),
        ({**LOCAL, "job": {"image": 7}}, "retrain.job.image: must be a string, got 7"),
        (
            {**LOCAL, "job": {"serviceAccountName": " "}},
            "retrain.job.serviceAccountName: must not be empty",
        ),
        ({**LOCAL, "job": {"storeClaim": ""}}, "retrain.job.storeClaim: must not be empty"),
        (
            {**LOCAL, "job": {"args": ["--n", "x" * 513]}},
            "retrain.job.args[1]: must be at most 512 characters, got 513",
        ),
    ],
)
def test_refusals_name_the_field(data: Any, message: str) -> None:
    assert refusal(data) == message


def test_text_fields_at_their_length_bound() -> None:
    longest = "x" * 512
    assert job(image=longest, serviceAccountName=longest, storeClaim=longest, args=[longest]) == (
        JobTemplate(
            image=longest,
            service_account_name=longest,
            store_claim=longest,
            args=(longest,),
        )
    )
    for key in ("image", "serviceAccountName", "storeClaim"):
        assert refusal({**LOCAL, "job": {key: "x" * 513}}) == (
            f"retrain.job.{key}: must be at most 512 characters, got 513"
        )


KUBE = {"triggers": {"scheduleSeconds": 60}}


def kube_job(**fields: Any) -> JobTemplate:
    """The job template of a kubernetes-launcher section with these ``job`` fields."""
    return parse_retrain({**KUBE, "job": {"image": IMAGE, **fields}}).job


def test_samples_are_off_unless_a_claim_is_given() -> None:
    assert (kube_job().samples_claim, kube_job().samples_file) == ("", "stable.jsonl")
    assert DEFAULT_SAMPLES_FILE == "stable.jsonl"


def test_a_samples_claim_takes_the_stable_file_unless_told() -> None:
    assert kube_job(samplesClaim="canaria-sample-logs") == JobTemplate(
        image=IMAGE, samples_claim="canaria-sample-logs", samples_file="stable.jsonl"
    )
    told = kube_job(samplesClaim="logs.v2", samplesFile="canary_2.jsonl")
    assert (told.samples_claim, told.samples_file) == ("logs.v2", "canary_2.jsonl")
    longest = kube_job(samplesClaim="a" * 253, samplesFile="f" * 255)
    assert (len(longest.samples_claim), len(longest.samples_file)) == (253, 255)


CLAIM_RULE = (
    "must be a PersistentVolumeClaim name (lower-case letters, digits, '-', '.'; at most 253)"
)
FILE_RULE = (
    "must be a plain file name in the claim (letters, digits, '.', '_', '-'; no '/' or '..'; "
    "at most 255)"
)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"samplesClaim": "Logs_1"}, f"retrain.job.samplesClaim {CLAIM_RULE}, got 'Logs_1'"),
        ({"samplesClaim": "logs-"}, f"retrain.job.samplesClaim {CLAIM_RULE}, got 'logs-'"),
        ({"samplesClaim": "logs\n"}, f"retrain.job.samplesClaim {CLAIM_RULE}, got 'logs\\n'"),
        (
            {"samplesClaim": "a" * 254},
            f"retrain.job.samplesClaim {CLAIM_RULE}, got '{'a' * 254}'",
        ),
        ({"samplesClaim": ""}, "retrain.job.samplesClaim: must not be empty"),
        ({"samplesClaim": 7}, "retrain.job.samplesClaim: must be a string, got 7"),
        (
            {"samplesClaim": "logs", "samplesFile": "../stable.jsonl"},
            f"retrain.job.samplesFile {FILE_RULE}, got '../stable.jsonl'",
        ),
        (
            {"samplesClaim": "logs", "samplesFile": "a/stable.jsonl"},
            f"retrain.job.samplesFile {FILE_RULE}, got 'a/stable.jsonl'",
        ),
        (
            {"samplesClaim": "logs", "samplesFile": "a..jsonl"},
            f"retrain.job.samplesFile {FILE_RULE}, got 'a..jsonl'",
        ),
        (
            {"samplesClaim": "logs", "samplesFile": ".hidden"},
            f"retrain.job.samplesFile {FILE_RULE}, got '.hidden'",
        ),
        (
            {"samplesClaim": "logs", "samplesFile": "f" * 256},
            f"retrain.job.samplesFile {FILE_RULE}, got '{'f' * 256}'",
        ),
        ({"samplesClaim": "logs", "samplesFile": ""}, "retrain.job.samplesFile: must not be empty"),
        (
            {"samplesFile": "stable.jsonl"},
            "retrain.job.samplesFile needs retrain.job.samplesClaim (the claim the file is on)",
        ),
    ],
)
def test_bad_samples_fields_are_refused_with_their_name(
    fields: dict[str, Any], message: str
) -> None:
    assert refusal({**KUBE, "job": {"image": IMAGE, **fields}}) == message


def test_a_samples_claim_is_refused_with_the_local_launcher() -> None:
    assert refusal({**LOCAL, "job": {"samplesClaim": "logs"}}) == (
        "retrain.job.samplesClaim applies to the kubernetes launcher only; locally pass "
        "retrain.job.args [--samples, PATH]"
    )
