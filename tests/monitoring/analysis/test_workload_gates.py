"""The two workload gates of monitoring/analysis/workload.py, message for message: waiting
for the canary Deployment before traffic, and for the stable one after a promotion, each
with its readiness timeout tested at the boundary (hand-written expected values;
``readinessTimeout: 1m``, the canary at 1 replica, the stable at 3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from monitoring.analysis import decide
from monitoring.api.spec import Action, RolloutSpec
from monitoring.api.status import Condition, DecisionKind, Phase, RolloutStatus, WorkloadStatus
from monitoring.api.workload import WorkloadObservation
from tests.monitoring.analysis.test_workload import NOW, V1, V2, deployment, spec, world

SPEC = spec(readinessTimeout="1m")
NOT_READY = "1/1 updated, 0/1 ready, 0/1 available"
STABLE_STUCK = "3/3 updated, 1/3 ready, 1/3 available"


def at(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def workload_condition(status: RolloutStatus) -> Condition:
    (condition,) = [c for c in status.conditions if c.type == "WorkloadReady"]
    return condition


def started(s: RolloutSpec = SPEC) -> RolloutStatus:
    return decide(
        spec=s, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0)
    ).status


def promoted(observed: WorkloadObservation | None = None) -> RolloutStatus:
    ready = decide(spec=SPEC, status=started(), measurements={}, now=NOW, workload=world()).status
    return decide(
        spec=SPEC,
        status=ready,
        measurements={},
        now=NOW,
        action=Action.PROMOTE_FULL,
        workload=observed,
    ).status


def stuck() -> WorkloadObservation:
    return replace(world(stable_image=V2), stable=deployment("churn-stable", V2, 3, ready=1))


# Waiting for the canary


def test_start_says_what_it_waits_for_and_for_how_long() -> None:
    start = decide(spec=SPEC, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0))
    assert start.message == (
        "new canary churn:v2 (stable churn:v1): scaling Deployment churn-canary to 1, "
        "waiting for it to be ready (at most 60s)"
    )
    assert start.status.workload == WorkloadStatus(waiting_since=NOW)
    condition = workload_condition(start.status)
    assert (condition.status, condition.reason) == ("False", "WaitingForCanary")


def test_a_ready_canary_gets_the_first_step_and_an_analysis_one_interval_later() -> None:
    ready = decide(spec=SPEC, status=started(), measurements={}, now=NOW + at(5), workload=world())
    assert ready.kind is DecisionKind.READY
    assert ready.message == (
        "Deployment churn-canary ready (1/1): churn:v2 gets 10% of the traffic, "
        "first analysis in 30s"
    )
    assert ready.status.canary_weight == 10
    assert ready.status.next_analysis_time == NOW + at(35)
    assert ready.status.workload == WorkloadStatus(canary_ready=True, waiting_since=None)
    condition = workload_condition(ready.status)
    assert (condition.status, condition.reason, condition.message) == (
        "True",
        "CanaryReady",
        ready.message,
    )


def test_a_mirrored_canary_when_ready_gets_its_first_analysis_traffic() -> None:
    s = spec("blueGreen", readinessTimeout="1m")
    ready = decide(spec=s, status=started(s), measurements={}, now=NOW, workload=world())
    assert ready.message == (
        "Deployment churn-canary ready (1/1): churn:v2 gets its first analysis traffic, "
        "first analysis in 30s"
    )
    assert ready.status.canary_weight == 0


def test_a_canary_scaled_differently_is_not_ready() -> None:
    for replicas in (0, 2):
        waiting = decide(
            spec=SPEC, status=started(), measurements={}, now=NOW, workload=world(replicas)
        )
        assert waiting.kind is DecisionKind.WAIT


def test_the_canary_timeout_from_both_sides() -> None:
    observed = world(1, ready=False)
    for elapsed, left in ((59, "1s"), (59.9, "0s")):
        waiting = decide(
            spec=SPEC, status=started(), measurements={}, now=NOW + at(elapsed), workload=observed
        )
        assert waiting.kind is DecisionKind.WAIT
        assert waiting.message == (
            f"waiting for Deployment churn-canary to be ready ({NOT_READY}; {left} left)"
        )
    failed = decide(
        spec=SPEC, status=started(), measurements={}, now=NOW + at(60), workload=observed
    )
    assert failed.kind is DecisionKind.ROLLBACK and failed.status.phase is Phase.FAILED
    assert failed.message == (
        f"Deployment churn-canary not ready after 60s ({NOT_READY}); rolled back to churn:v1"
    )


def test_a_status_without_a_waiting_time_waits_the_whole_timeout_from_now() -> None:
    without = replace(started(), workload=WorkloadStatus(waiting_since=None))
    waiting = decide(
        spec=SPEC,
        status=without,
        measurements={},
        now=NOW + at(600),
        workload=world(1, ready=False),
    )
    assert waiting.kind is DecisionKind.WAIT
    assert waiting.message.endswith(f"({NOT_READY}; 60s left)")


# Waiting for the stable after a promotion


def test_a_stable_running_the_candidate_completes_the_promotion() -> None:
    done = decide(
        spec=SPEC,
        status=promoted(world()),
        measurements={},
        now=NOW,
        workload=world(stable_image=V2),
    )
    assert done.kind is DecisionKind.COMPLETE
    assert done.message == (
        "promoted: churn:v2 is the stable model (Deployment churn-stable runs reg/churn:v2)"
    )
    assert done.status.workload == WorkloadStatus(
        canary_ready=False, waiting_since=None, stable_image=None, previous_stable_image=V1
    )
    condition = workload_condition(done.status)
    assert (condition.status, condition.reason) == ("True", "StableRolledOut")


def test_the_stable_must_both_run_the_image_and_have_rolled_out() -> None:
    old_image = decide(
        spec=SPEC, status=promoted(world()), measurements={}, now=NOW, workload=world()
    )
    assert old_image.kind is DecisionKind.WAIT
    assert old_image.message == (
        "promoting: all traffic on churn:v2 while Deployment churn-stable rolls out "
        "reg/churn:v2 (3/3 updated, 3/3 ready, 3/3 available; 60s left)"
    )
    rolling = decide(
        spec=SPEC, status=promoted(world()), measurements={}, now=NOW, workload=stuck()
    )
    assert rolling.kind is DecisionKind.WAIT


def test_the_stable_timeout_from_both_sides() -> None:
    status = promoted(world())
    for elapsed, left in ((59, "1s"), (59.9, "0s")):
        waiting = decide(
            spec=SPEC, status=status, measurements={}, now=NOW + at(elapsed), workload=stuck()
        )
        assert waiting.kind is DecisionKind.WAIT
        assert waiting.message == (
            "promoting: all traffic on churn:v2 while Deployment churn-stable rolls out "
            f"reg/churn:v2 ({STABLE_STUCK}; {left} left)"
        )
    failed = decide(spec=SPEC, status=status, measurements={}, now=NOW + at(60), workload=stuck())
    assert failed.kind is DecisionKind.ROLLBACK and failed.status.phase is Phase.FAILED
    assert failed.message == (
        f"Deployment churn-stable did not roll out reg/churn:v2 within 60s ({STABLE_STUCK}); "
        "rolled back to churn:v1"
    )


def test_a_promotion_decided_without_a_reading_records_the_images_first() -> None:
    status = promoted(None)
    assert status.phase is Phase.PROMOTING
    assert status.workload == WorkloadStatus(canary_ready=True)
    recorded = decide(spec=SPEC, status=status, measurements={}, now=NOW + at(7), workload=world())
    assert recorded.kind is DecisionKind.WAIT and recorded.message == "promoting: images recorded"
    assert recorded.status.workload == WorkloadStatus(
        canary_ready=True, waiting_since=NOW + at(7), stable_image=V2, previous_stable_image=V1
    )
    bare = decide(
        spec=SPEC,
        status=replace(status, workload=None),
        measurements={},
        now=NOW,
        workload=world(),
    )
    assert bare.status.workload == WorkloadStatus(
        canary_ready=True, waiting_since=NOW, stable_image=V2, previous_stable_image=V1
    )


def test_each_gate_decision_is_stamped_with_its_time() -> None:
    """The history entry and the conditions that changed carry the decision's ``now``."""

    def stamped(status: RolloutStatus, when: datetime) -> None:
        assert status.history[-1].time == when
        changed = {c.type: c.last_transition_time for c in status.conditions}
        assert changed["Progressing"] == when or status.phase is Phase.PROGRESSING

    start = decide(spec=SPEC, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0))
    assert start.status.canary_weight == 0 and start.status.next_analysis_time is None
    assert {c.last_transition_time for c in start.status.conditions} == {NOW}
    assert start.status.history[-1].time == NOW and start.status.history[-1].canary_weight == 0
    ready = decide(
        spec=SPEC, status=start.status, measurements={}, now=NOW + at(5), workload=world()
    )
    stamped(ready.status, NOW + at(5))
    assert workload_condition(ready.status).last_transition_time == NOW + at(5)
    failed = decide(
        spec=SPEC,
        status=started(),
        measurements={},
        now=NOW + at(60),
        workload=world(1, ready=False),
    )
    stamped(failed.status, NOW + at(60))
    done = decide(
        spec=SPEC,
        status=promoted(world()),
        measurements={},
        now=NOW + at(9),
        workload=world(stable_image=V2),
    )
    stamped(done.status, NOW + at(9))
    assert workload_condition(done.status).last_transition_time == NOW + at(9)
    late = decide(
        spec=SPEC, status=promoted(world()), measurements={}, now=NOW + at(61), workload=stuck()
    )
    stamped(late.status, NOW + at(61))


def test_a_newer_candidate_restarts_with_no_traffic_and_no_analysis_scheduled() -> None:
    ready = decide(spec=SPEC, status=started(), measurements={}, now=NOW, workload=world()).status
    assert ready.canary_weight == 10 and ready.next_analysis_time == NOW + at(30)
    target = replace(SPEC.target, canary=replace(SPEC.target.canary, bento_tag="churn:v3"))
    restart = decide(
        spec=replace(SPEC, target=target),
        status=ready,
        measurements={},
        now=NOW + at(1),
        workload=world(),
    )
    assert restart.kind is DecisionKind.START
    assert (restart.status.canary_weight, restart.status.next_analysis_time) == (0, None)
    assert restart.status.workload == WorkloadStatus(waiting_since=NOW + at(1))


def test_a_promote_before_the_canary_is_ready_is_ignored_with_a_reason() -> None:
    asked = decide(
        spec=SPEC,
        status=started(),
        measurements={},
        now=NOW,
        action=Action.PROMOTE_FULL,
        workload=world(1, ready=False),
    )
    assert asked.kind is DecisionKind.WAIT
    assert asked.message == "promote ignored: the canary Deployment is not ready yet"


def test_a_pause_or_another_action_while_waiting_is_left_to_the_engine() -> None:
    paused = decide(
        spec=replace(SPEC, paused=True),
        status=started(),
        measurements={},
        now=NOW,
        workload=world(),
    )
    assert paused.kind is not DecisionKind.READY
    assert paused.status.workload is not None and not paused.status.workload.canary_ready
    rolled = decide(
        spec=SPEC,
        status=started(),
        measurements={},
        now=NOW,
        action=Action.ROLLBACK,
        workload=world(),
    )
    assert rolled.kind is DecisionKind.ROLLBACK


def test_without_a_reading_of_the_deployments_the_gate_waits_for_one() -> None:
    unread = decide(spec=SPEC, status=started(), measurements={}, now=NOW, workload=None)
    assert unread.kind is not DecisionKind.READY
    assert unread.status.workload == WorkloadStatus(waiting_since=NOW)


def test_a_promotion_marks_the_workload_waiting_for_the_stable_at_its_time() -> None:
    status = promoted(world())
    condition = workload_condition(status)
    assert (condition.status, condition.reason, condition.last_transition_time) == (
        "False",
        "WaitingForStable",
        NOW,
    )


def test_a_promotion_of_a_rollout_without_workload_status_records_a_ready_canary() -> None:
    plain = replace(SPEC, workload=None)
    started_plain = decide(spec=plain, status=RolloutStatus(), measurements={}, now=NOW).status
    assert started_plain.workload is None
    promote = decide(
        spec=SPEC,
        status=started_plain,
        measurements={},
        now=NOW,
        action=Action.PROMOTE_FULL,
        workload=world(),
    )
    assert promote.kind is DecisionKind.PROMOTE
    assert promote.status.workload == WorkloadStatus(
        canary_ready=True, waiting_since=NOW, stable_image=V2, previous_stable_image=V1
    )


def test_leaving_a_promotion_restores_the_stable_image_in_the_status_too() -> None:
    target = replace(SPEC.target, canary=replace(SPEC.target.canary, bento_tag="churn:v3"))
    restart = decide(
        spec=replace(SPEC, target=target),
        status=promoted(world()),
        measurements={},
        now=NOW,
        workload=world(),
    )
    assert restart.status.workload is not None
    assert restart.status.workload.stable_image == V1
    bare = decide(
        spec=SPEC,
        status=replace(promoted(world()), workload=None),
        measurements={},
        now=NOW,
        action=Action.ROLLBACK,
        workload=world(),
    )
    assert bare.kind is DecisionKind.ROLLBACK
    assert bare.status.workload == WorkloadStatus(canary_ready=True, stable_image=None)
