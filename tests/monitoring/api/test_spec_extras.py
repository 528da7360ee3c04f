"""``spec.analysis.fastAbort`` and ``spec.notifications``: the CRD and the parser agree on
their bounds, and every bad value is refused by both with the field named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from monitoring.api.spec import FastAbort, ModelRef, SpecError, parse_spec
from monitoring.api.spec import bounds as b
from monitoring.notify.endpoints import MAX_ENTRIES
from monitoring.notify.events import Event
from tests.k8s.test_crd import crd_schema, errors_for, example, to_json_schema

SPEC = to_json_schema(crd_schema())["properties"]["spec"]["properties"]


def with_spec(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(example())  # a router rollout
    for key, value in changes.items():
        if key == "fastAbort":
            obj["spec"]["analysis"]["fastAbort"] = value
        else:
            obj["spec"][key] = value
    return obj


def test_the_crd_states_the_parser_bounds() -> None:
    fast = SPEC["analysis"]["properties"]["fastAbort"]["properties"]
    for key, bound in (
        ("failures", b.FAST_ABORT_FAILURES),
        ("windowRequests", b.FAST_ABORT_WINDOW_REQUESTS),
        ("windowSeconds", b.FAST_ABORT_WINDOW_SECONDS),
    ):
        assert (fast[key]["minimum"], fast[key]["maximum"]) == bound
    defaults = FastAbort()
    assert (fast["failures"]["default"], fast["windowRequests"]["default"]) == (
        defaults.failures,
        defaults.window_requests,
    )
    assert fast["windowSeconds"]["default"] == defaults.window_seconds
    notifications = SPEC["notifications"]
    assert notifications["maxItems"] == b.MAX_NOTIFICATIONS == MAX_ENTRIES
    events = notifications["items"]["properties"]["events"]["items"]["enum"]
    assert events == [e.value for e in Event]


def test_good_values_are_parsed() -> None:
    obj = with_spec(
        fastAbort={"failures": 3, "windowRequests": 10},
        notifications=[
            {"provider": "webhook", "secretRef": {"name": "alerts"}, "events": ["failed"]},
            {"provider": "slack", "urlEnv": "SLACK_URL"},
        ],
    )
    assert errors_for(obj) == []
    spec = parse_spec(obj["spec"])
    assert spec.analysis.fast_abort == FastAbort(failures=3, window_requests=10, window_seconds=10)
    webhook, slack = spec.notifications
    assert (webhook.secret_name, webhook.secret_key, webhook.events) == (
        "alerts",
        "url",
        frozenset({Event.FAILED}),
    )
    assert (slack.url_env, slack.secret_name) == ("SLACK_URL", None)
    assert parse_spec(example()["spec"]).analysis.fast_abort is None


@pytest.mark.parametrize(
    ("changes", "path", "crd_refuses"),
    [
        ({"fastAbort": {"failures": 0}}, "spec.analysis.fastAbort.failures", True),
        ({"fastAbort": {"failures": 10_001}}, "spec.analysis.fastAbort.failures", True),
        ({"fastAbort": {"windowRequests": 0}}, "spec.analysis.fastAbort.windowRequests", True),
        ({"fastAbort": {"windowSeconds": 0.01}}, "spec.analysis.fastAbort.windowSeconds", True),
        ({"fastAbort": {"windowSeconds": 7200}}, "spec.analysis.fastAbort.windowSeconds", True),
        ({"fastAbort": {"failures": "5"}}, "spec.analysis.fastAbort.failures", True),
        # What a schema cannot say:
        (
            {"fastAbort": {"failures": 9, "windowRequests": 3}},
            "spec.analysis.fastAbort.failures",
            False,
        ),
        ({"fastAbort": {"extra": 1}}, "spec.analysis.fastAbort.extra", True),  # pruned
        (
            {"notifications": [{"provider": "discord", "urlEnv": "X"}]},
            "spec.notifications[0].provider",
            True,
        ),
        (
            {"notifications": [{"provider": "slack"}]},
            "spec.notifications[0].secretRef.name",
            False,
        ),
        (
            {"notifications": [{"provider": "slack", "urlEnv": "1X"}]},
            "spec.notifications[0].urlEnv",
            True,
        ),
        (
            {"notifications": [{"provider": "slack", "urlEnv": "A", "secretRef": {"name": "a"}}]},
            "spec.notifications[0].urlEnv",
            False,
        ),
        (
            {"notifications": [{"provider": "slack", "urlEnv": "A", "events": ["boom"]}]},
            "spec.notifications[0].events",
            True,
        ),
        (
            {"notifications": [{"provider": "slack", "urlEnv": "A"}] * 9},
            "spec.notifications",
            True,
        ),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    changes: dict[str, Any], path: str, crd_refuses: bool
) -> None:
    obj = with_spec(**changes)
    assert bool(errors_for(obj)) is crd_refuses
    with pytest.raises(SpecError) as caught:
        parse_spec(obj["spec"])
    assert caught.value.path == path


def test_fast_abort_needs_the_router() -> None:
    obj = with_spec(fastAbort={})
    obj["spec"]["trafficProvider"] = {"name": "noop"}
    with pytest.raises(SpecError) as caught:
        parse_spec(obj["spec"])
    assert caught.value.path == "spec.analysis.fastAbort"
    assert "needs trafficProvider router, not noop" in str(caught.value)


def test_fast_abort_router_body_is_the_breaker_settings() -> None:
    assert FastAbort().router_body() == {
        "failures": 5,
        "window_requests": 20,
        "window_seconds": 10.0,
    }
    assert FastAbort(3, 7, 2.5).router_body() == {
        "failures": 3,
        "window_requests": 7,
        "window_seconds": 2.5,
    }


def test_a_model_is_described_by_its_tag_else_its_image_else_none() -> None:
    assert ModelRef("churn:v2", "reg/churn:2").describe() == "churn:v2"
    assert ModelRef(image="reg/churn:2").describe() == "reg/churn:2"
    assert ModelRef().describe() == "<none>"
