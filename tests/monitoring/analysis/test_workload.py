"""The engine's workload rules (monitoring/analysis/workload.py), pure: what the
Deployments must look like for each phase, and the gates before traffic and promotion."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from canaria.contracts.routes import Routes
from monitoring.analysis import decide, desired_workload
from monitoring.api.spec import Action, RolloutSpec, parse_spec
from monitoring.api.status import DecisionKind, Phase, RolloutStatus
from monitoring.api.workload import DeploymentState, DesiredWorkload, WorkloadObservation

NOW = datetime(2025, 1, 1, tzinfo=UTC)
V1, V2 = "reg/churn:v1", "reg/churn:v2"


def spec(strategy: str = "canary", **workload: Any) -> RolloutSpec:
    return parse_spec(
        {
            "target": {"stable": {"bentoTag": "churn:v1"}, "canary": {"bentoTag": "churn:v2"}},
            "trafficProvider": {"name": "noop"},
            "metricsProvider": {"name": "prometheus", "address": "http://prom:9090"},
            "workload": {"stable": "churn-stable", "canary": "churn-canary", **workload},
            "strategy": {"type": strategy},
            "analysis": {
                "interval": "30s",
                "stepWeights": [10, 50],
                "checks": [{"name": "ok", "builtin": "requestSuccessRate", "min": 0.9}],
            },
        }
    )


def deployment(
    name: str, image: str, replicas: int, *, ready: int | None = None
) -> DeploymentState:
    ready = replicas if ready is None else ready
    return DeploymentState(
        name=name,
        image=image,
        replicas=replicas,
        generation=2,
        observed_generation=2,
        updated_replicas=replicas,
        ready_replicas=ready,
        available_replicas=ready,
        total_replicas=replicas,
    )


def world(
    canary_replicas: int = 1, *, ready: bool = True, stable_image: str = V1
) -> WorkloadObservation:
    return WorkloadObservation(
        stable=deployment("churn-stable", stable_image, 3),
        canary=deployment("churn-canary", V2, canary_replicas, ready=None if ready else 0),
    )


def ready_status(s: RolloutSpec) -> RolloutStatus:
    """Started, then the canary seen ready: Progressing at the first step."""
    start = decide(spec=s, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0))
    ready = decide(spec=s, status=start.status, measurements={}, now=NOW, workload=world())
    assert ready.kind is DecisionKind.READY
    return ready.status


def promoting_status(s: RolloutSpec) -> RolloutStatus:
    """``ready_status``, then a manual full promotion: the stable's image is being changed."""
    return decide(
        spec=s,
        status=ready_status(s),
        measurements={},
        now=NOW,
        action=Action.PROMOTE_FULL,
        workload=world(),
    ).status


def test_rolled_out_needs_the_latest_generation_and_every_pod() -> None:
    done = deployment("d", V1, 2)
    assert done.rolled_out() and done.rolled_out(2) and not done.rolled_out(3)
    assert not replace(done, observed_generation=1).rolled_out()  # controller behind
    assert not replace(done, ready_replicas=1).rolled_out()
    assert not replace(done, total_replicas=3).rolled_out()  # an old pod still there
    assert "1/2 ready" in replace(done, ready_replicas=1).progress()


@pytest.mark.parametrize(
    ("phase", "replicas"),
    [
        (Phase.IDLE, 0),
        (Phase.PROGRESSING, 4),
        (Phase.PAUSED, 4),
        (Phase.PROMOTING, 4),
        (Phase.SUCCEEDED, 0),
        (Phase.ROLLED_BACK, 0),
        (Phase.FAILED, 0),
    ],
)
def test_the_canary_runs_only_while_a_candidate_is_active(phase: Phase, replicas: int) -> None:
    desired = desired_workload(spec=spec(canaryReplicas=4), status=RolloutStatus(phase=phase))
    assert desired == DesiredWorkload(canary_replicas=replicas, stable_image=None)


def test_no_workload_no_desired_state() -> None:
    plain = replace(spec(), workload=None)
    assert desired_workload(spec=plain, status=RolloutStatus()) is None
    assert decide(spec=plain, status=RolloutStatus(), measurements={}, now=NOW).workload is None


def test_start_waits_for_the_canary_with_no_traffic_even_mirrored() -> None:
    s = spec("blueGreen")
    start = decide(spec=s, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0))
    assert start.kind is DecisionKind.START
    assert start.routes == Routes(canary_weight=0)  # no mirror to a canary not ready
    assert start.workload == DesiredWorkload(canary_replicas=1)
    ready = decide(spec=s, status=start.status, measurements={}, now=NOW, workload=world(1))
    assert ready.kind is DecisionKind.READY
    assert ready.routes == Routes(canary_weight=0, mirror=True)
    assert ready.status.next_analysis_time == NOW + timedelta(seconds=30)


def test_a_promote_action_waits_for_the_canary() -> None:
    s = spec()
    start = decide(spec=s, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0))
    asked = decide(
        spec=s,
        status=start.status,
        measurements={},
        now=NOW,
        action=Action.PROMOTE_FULL,
        workload=world(1, ready=False),
    )
    assert asked.kind is DecisionKind.WAIT and "not ready yet" in asked.message


def test_a_promotion_records_the_candidate_image_and_completes_on_the_rollout() -> None:
    s = spec()
    status = decide(
        spec=s, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0)
    ).status
    status = decide(spec=s, status=status, measurements={}, now=NOW, workload=world()).status
    promote = decide(
        spec=s,
        status=status,
        measurements={},
        now=NOW,
        action=Action.PROMOTE_FULL,
        workload=world(),
    )
    assert promote.kind is DecisionKind.PROMOTE
    assert promote.workload == DesiredWorkload(canary_replicas=1, stable_image=V2)
    assert promote.status.workload is not None
    assert promote.status.workload.previous_stable_image == V1
    later = NOW + timedelta(minutes=5)
    rolling = replace(world(stable_image=V2).stable, observed_generation=1)
    waiting = decide(
        spec=s,
        status=promote.status,
        measurements={},
        now=later,
        workload=replace(world(), stable=rolling),
    )
    assert waiting.kind is DecisionKind.WAIT and "rolls out" in waiting.message
    done = decide(
        spec=s, status=promote.status, measurements={}, now=later, workload=world(stable_image=V2)
    )
    assert done.kind is DecisionKind.COMPLETE
    assert done.workload == DesiredWorkload(canary_replicas=0, stable_image=None)


def test_a_stable_that_never_rolls_out_fails_and_gets_its_image_back() -> None:
    s = spec(readinessTimeout="1m")
    status = promoting_status(s)
    stuck = replace(world(stable_image=V2), stable=deployment("churn-stable", V2, 3, ready=1))
    failed = decide(
        spec=s, status=status, measurements={}, now=NOW + timedelta(minutes=1), workload=stuck
    )
    assert failed.kind is DecisionKind.ROLLBACK and failed.status.phase is Phase.FAILED
    assert failed.workload == DesiredWorkload(canary_replicas=0, stable_image=V1)
    assert "did not roll out" in failed.message


def test_a_newer_candidate_during_a_promotion_gives_the_stable_its_image_back() -> None:
    s = spec()
    status = promoting_status(s)
    conditions = {c.type: c.reason for c in status.conditions}
    assert conditions["WorkloadReady"] == "WaitingForStable"
    newer = replace(s, target=replace(s.target, canary=replace(s.target.canary, bento_tag="v3")))
    restart = decide(spec=newer, status=status, measurements={}, now=NOW, workload=world())
    assert restart.kind is DecisionKind.START
    assert restart.workload == DesiredWorkload(canary_replicas=1, stable_image=V1)


def test_a_rollout_given_a_workload_mid_way_keeps_its_step() -> None:
    """A status written before spec.workload existed: the canary is scaled, traffic stays."""
    s = spec()
    plain = replace(s, workload=None)
    started = decide(spec=plain, status=RolloutStatus(), measurements={}, now=NOW).status
    assert started.canary_weight == 10 and started.workload is None
    later = decide(spec=s, status=started, measurements={}, now=NOW, workload=world(0))
    assert later.kind is DecisionKind.WAIT and later.routes == Routes(canary_weight=10)
    assert later.workload == DesiredWorkload(canary_replicas=1)
