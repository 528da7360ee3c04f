"""``parse_spec``'s own work (monitoring/api/spec/parse.py): each top-level section's exact
error (path and reason), the top-level flags' defaults and values, and ``spec.retrain``
copied into the result or its error wrapped at ``spec.retrain``. Expected values are
written out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.api.spec import SpecError, parse_spec
from monitoring.api.spec.retrain import JobTemplate, RetrainSpec
from tests.monitoring.api.spec_builders import minimal, with_

# One spec per top-level section parse_spec reads itself, and its whole error message.
TOP_LEVEL_ERRORS = [
    ("not an object", "spec: must be an object"),
    (with_({"analysis": None}), "spec.analysis: is required"),  # None deletes the key
    (with_({"analysis": 5}), "spec.analysis: must be an object, got 5"),
    (with_({"strategy": "canary"}), "spec.strategy: must be an object, got 'canary'"),
    (with_({"target": None}), "spec.target: is required"),
    (with_({"target": ["churn:v1"]}), "spec.target: must be an object, got ['churn:v1']"),
    (with_({"trafficProvider": None}), "spec.trafficProvider: is required"),
    (with_({"trafficProvider": "noop"}), "spec.trafficProvider: must be an object, got 'noop'"),
    (with_({"metricsProvider": 3}), "spec.metricsProvider: must be an object, got 3"),
    (with_({"paused": "yes"}), "spec.paused: must be true or false, got 'yes'"),
    (with_({"revertOnDeletion": "no"}), "spec.revertOnDeletion: must be true or false, got 'no'"),
    (with_({"revertOnDeletion": 0}), "spec.revertOnDeletion: must be true or false, got 0"),
    (
        with_({"retrain": {"launcher": "ssh", "triggers": {"scheduleSeconds": 60}}}),
        "spec.retrain: retrain.launcher must be one of ('kubernetes', 'local'), got 'ssh'",
    ),
    (with_({"retrain": []}), "spec.retrain: retrain must be a mapping"),
]


@pytest.mark.parametrize(("spec", "message"), TOP_LEVEL_ERRORS)
def test_top_level_errors_name_the_section(spec: Any, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec)
    assert str(caught.value) == message
    path, reason = message.split(": ", 1)
    assert (caught.value.path, caught.value.reason) == (path, reason)


def test_flags_default_to_not_paused_and_revert_on_deletion() -> None:
    spec = parse_spec(minimal())
    assert spec.paused is False
    assert spec.revert_on_deletion is True
    assert spec.retrain is None


@pytest.mark.parametrize(
    ("edits", "paused", "revert"),
    [
        ({"paused": True}, True, True),
        ({"paused": False, "revertOnDeletion": False}, False, False),
        ({"paused": None, "revertOnDeletion": None}, False, True),  # null: the default
        ({"revertOnDeletion": True}, False, True),
    ],
)
def test_flags_are_read(edits: dict[str, Any], paused: bool, revert: bool) -> None:
    spec = parse_spec({**minimal(), **edits})
    assert (spec.paused, spec.revert_on_deletion) == (paused, revert)


def test_retrain_section_is_parsed_into_the_spec() -> None:
    raw = {"launcher": "local", "triggers": {"scheduleSeconds": 60}, "margin": 0.02}
    assert parse_spec(with_({"retrain": raw})).retrain == RetrainSpec(
        launcher="local",
        drift=None,
        failed_checks=(),
        schedule_seconds=60.0,
        cooldown_seconds=3600.0,
        margin=0.02,
        job=JobTemplate(),
    )


def test_null_retrain_means_never() -> None:
    assert parse_spec({**minimal(), "retrain": None}).retrain is None
