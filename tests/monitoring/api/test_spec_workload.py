"""``spec.workload``: the CRD's schema and the parser accept and refuse the same things."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from monitoring.api.spec import SpecError, parse_spec
from monitoring.api.spec.workload import (
    CONTAINER_NAME_PATTERN,
    DEFAULT_CANARY_REPLICAS,
    DEFAULT_CONTAINER,
    DEFAULT_READINESS_TIMEOUT,
    DEPLOYMENT_NAME_PATTERN,
    MAX_CANARY_REPLICAS,
    WorkloadSpec,
    parse_workload,
)
from tests.k8s.test_crd import errors_for, example, schema_at

WORKLOAD = {
    "stable": "churn-stable",
    "canary": "churn-canary",
    "container": "model",
    "canaryReplicas": 2,
    "readinessTimeout": "5m",
}


def rollout(**workload: Any) -> dict[str, Any]:
    obj = example()
    obj["spec"]["workload"] = {**WORKLOAD, **workload}
    return obj


def test_a_full_workload_is_valid_and_parsed() -> None:
    obj = rollout()
    assert errors_for(obj) == []
    assert parse_spec(obj["spec"]).workload == WorkloadSpec(
        stable="churn-stable",
        canary="churn-canary",
        container="model",
        canary_replicas=2,
        readiness_timeout_seconds=300.0,
    )


def test_defaults_are_the_crd_defaults() -> None:
    obj = example()
    obj["spec"]["workload"] = {"stable": "a", "canary": "b"}
    assert errors_for(obj) == []
    workload = parse_spec(obj["spec"]).workload
    assert workload is not None
    fields = schema_at("spec.workload")["properties"]
    assert workload.container == DEFAULT_CONTAINER == fields["container"]["default"]
    assert (
        workload.canary_replicas == DEFAULT_CANARY_REPLICAS == fields["canaryReplicas"]["default"]
    )
    assert fields["readinessTimeout"]["default"] == DEFAULT_READINESS_TIMEOUT
    assert workload.readiness_timeout_seconds == 600.0
    assert fields["canaryReplicas"]["maximum"] == MAX_CANARY_REPLICAS
    assert fields["stable"]["pattern"] == fields["canary"]["pattern"] == DEPLOYMENT_NAME_PATTERN
    assert fields["container"]["pattern"] == CONTAINER_NAME_PATTERN


def test_no_workload_means_traffic_only() -> None:
    assert parse_spec(example("churn-local.yaml")["spec"]).workload is None


@pytest.mark.parametrize(
    ("edit", "field", "crd_refuses"),
    [
        ({"canaryReplicas": 0}, "spec.workload.canaryReplicas", True),
        ({"canaryReplicas": 101}, "spec.workload.canaryReplicas", True),
        ({"stable": "Churn_Stable"}, "spec.workload.stable", True),
        ({"container": "a" * 64}, "spec.workload.container", True),
        ({"readinessTimeout": "soon"}, "spec.workload.readinessTimeout", True),
        # What a schema cannot say, the parser does:
        ({"readinessTimeout": "5s"}, "spec.workload.readinessTimeout", False),
        ({"readinessTimeout": "3h"}, "spec.workload.readinessTimeout", False),
        ({"canary": "churn-stable"}, "spec.workload.canary", False),
    ],
)
def test_bad_workloads_are_refused_naming_the_field(
    edit: dict[str, Any], field: str, crd_refuses: bool
) -> None:
    obj = rollout(**edit)
    assert bool(errors_for(obj)) is crd_refuses
    with pytest.raises(SpecError) as refused:
        parse_spec(obj["spec"])
    assert refused.value.path == field


def test_stable_and_canary_are_required() -> None:
    obj = rollout()
    del obj["spec"]["workload"]["canary"]
    assert errors_for(copy.deepcopy(obj))
    with pytest.raises(SpecError, match=r"spec\.workload\.canary: is required"):
        parse_spec(obj["spec"])


def test_workload_boundaries_are_accepted_and_a_custom_container_is_kept() -> None:
    parsed = parse_workload(
        {
            "workload": {
                "stable": "a" * 253,
                "canary": "b" * 253,
                "container": "c" * 63,
                "readinessTimeout": "10s",
            }
        }
    )
    assert parsed == WorkloadSpec(
        stable="a" * 253,
        canary="b" * 253,
        container="c" * 63,
        canary_replicas=1,
        readiness_timeout_seconds=10.0,
    )
    parsed = parse_workload(
        {
            "workload": {
                "stable": "s",
                "canary": "c",
                "container": "server",
                "readinessTimeout": "2h",
            }
        }
    )
    assert parsed == WorkloadSpec(
        stable="s", canary="c", container="server", readiness_timeout_seconds=7200.0
    )


NAME_REASON = "must be a Kubernetes name (lower-case letters, digits, '-'; at most {}), got {!r}"


@pytest.mark.parametrize(
    ("workload", "message"),
    [
        ("churn", "spec.workload: must be an object, got 'churn'"),
        (
            {"stable": "a" * 254, "canary": "b"},
            "spec.workload.stable: " + NAME_REASON.format(253, "a" * 254),
        ),
        (
            {"stable": "a", "canary": "b" * 254},
            "spec.workload.canary: " + NAME_REASON.format(253, "b" * 254),
        ),
        (
            {"stable": "a", "canary": "b", "container": "c" * 64},
            "spec.workload.container: " + NAME_REASON.format(63, "c" * 64),
        ),
        (
            {"stable": "a", "canary": "b", "container": "a.b"},
            "spec.workload.container: " + NAME_REASON.format(63, "a.b"),
        ),
        (
            {"stable": "same", "canary": "same"},
            "spec.workload.canary: must differ from stable ('same')",
        ),
        (
            {"stable": "a", "canary": "b", "readinessTimeout": 300},
            "spec.workload.readinessTimeout: must be a string, got 300",
        ),
        (
            {"stable": "a", "canary": "b", "readinessTimeout": "9999ms"},
            "spec.workload.readinessTimeout: must be between 10s and 2h, got '9999ms'",
        ),
        (
            {"stable": "a", "canary": "b", "readinessTimeout": "2h1s"},
            "spec.workload.readinessTimeout: must be between 10s and 2h, got '2h1s'",
        ),
    ],
)
def test_workload_error_messages(workload: Any, message: str) -> None:
    with pytest.raises(SpecError) as refused:
        parse_workload({"workload": workload})
    assert str(refused.value) == message
