"""``spec.analysis.fastAbort`` and ``spec.notifications``: the CRD and the parser agree on
their bounds, and every bad value is refused by both with the field named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from monitoring.api.spec import FastAbort, ModelRef, SpecError, parse_spec
from monitoring.api.spec import bounds as b
from monitoring.api.spec.extras import parse_fast_abort, parse_notification_entries
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


FAST = "spec.analysis.fastAbort"


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        (3, FAST, "must be an object, got 3"),
        (
            {"failures": 1, "windowRequests": 1, "windowSeconds": 1, "x": 1},
            FAST,
            "must have at most 3 entries, got 4",
        ),
        (
            {"extra": 1},
            f"{FAST}.extra",
            "unknown field (known: failures, windowRequests, windowSeconds)",
        ),
        ({"failures": 0}, f"{FAST}.failures", "must be between 1 and 10000, got 0"),
        ({"failures": 10_001}, f"{FAST}.failures", "must be between 1 and 10000, got 10001"),
        (
            {"windowRequests": 10_001},
            f"{FAST}.windowRequests",
            "must be between 1 and 10000, got 10001",
        ),
        ({"windowSeconds": "5"}, f"{FAST}.windowSeconds", "must be a number, got '5'"),
        (
            {"windowSeconds": 0.09},
            f"{FAST}.windowSeconds",
            "must be between 0.1s and 3600s, got 0.09s",
        ),
        (
            {"windowSeconds": 3601},
            f"{FAST}.windowSeconds",
            "must be between 0.1s and 3600s, got 3601s",
        ),
        # against the default window of 20:
        ({"failures": 21}, f"{FAST}.failures", "21 > windowRequests (20): never trips"),
        ({"windowRequests": 4}, f"{FAST}.failures", "5 > windowRequests (4): never trips"),
        (
            {"failures": 11, "windowRequests": 10},
            f"{FAST}.failures",
            "11 > windowRequests (10): never trips",
        ),
    ],
)
def test_fast_abort_errors_name_the_field_and_the_reason(raw: Any, path: str, reason: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_fast_abort(raw)  # the default parent: spec.analysis
    assert (caught.value.path, caught.value.reason) == (path, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ({}, FastAbort(failures=5, window_requests=20, window_seconds=10.0)),
        ({"windowSeconds": 2.5}, FastAbort(failures=5, window_requests=20, window_seconds=2.5)),
        ({"windowSeconds": 0.1}, FastAbort(window_seconds=0.1)),
        ({"windowSeconds": 3600}, FastAbort(window_seconds=3600.0)),
        ({"failures": 10, "windowRequests": 10}, FastAbort(failures=10, window_requests=10)),
        ({"failures": 1, "windowRequests": 1}, FastAbort(failures=1, window_requests=1)),
        ({"failures": 10_000, "windowRequests": 10_000}, FastAbort(10_000, 10_000)),
        ({"failures": 20}, FastAbort(failures=20)),  # equal to the default window: trips
    ],
)
def test_fast_abort_values_at_the_bounds_and_defaults(raw: Any, expected: FastAbort | None) -> None:
    assert parse_fast_abort(raw) == expected


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        ("x", "spec.notifications", "must be a list"),
        (
            [{"provider": "slack", "urlEnv": "A"}] * 9,
            "spec.notifications",
            "must have at most 8 items, got 9",
        ),
        (
            [{"provider": "slack"}],
            "spec.notifications[0].secretRef.name",
            "required (the Secret with the url), or urlEnv",
        ),
        # An unknown key holding ": " stays whole in the path:
        ([{"provider": "slack", "a: b": 1}], "spec.notifications[0].a: b", "unknown field"),
    ],
)
def test_notification_errors_keep_the_path_and_the_reason(raw: Any, path: str, reason: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_notification_entries(raw)
    assert (caught.value.path, caught.value.reason) == (path, reason)
    assert str(caught.value) == f"{path}: {reason}"
