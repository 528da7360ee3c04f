"""The Workload line of ``kubectl canaria status NAME`` (monitoring/plugin/render.py)."""

from __future__ import annotations

from monitoring.plugin import render


def test_details_say_what_the_workload_waits_for() -> None:
    obj = {
        "spec": {"workload": {"stable": "churn-stable", "canary": "churn-canary"}},
        "status": {
            "workload": {
                "canaryReady": True,
                "stableImage": "reg/churn:v2",
                "waitingSince": "2025-01-01T12:00:00Z",
            }
        },
    }
    assert render.workload_line(obj) == (
        "Workload:       canary churn-canary ready, stable churn-stable -> reg/churn:v2 "
        "(waiting since 2025-01-01T12:00:00Z)"
    )
    assert render.workload_line({"spec": {}}) is None
