"""The pure analysis engine: measurements in, a decision and the next status out.

Public API (import from here)::

    decision = decide(spec=spec, status=status, measurements=m, now=now, action=None)
    routes = desired_routes(spec=spec, status=status)  # what to (re)apply after a restart
    workload = desired_workload(spec=spec, status=status)  # the Deployments (spec.workload)

See ``engine.decide`` for the rules and ``verdicts.evaluate_check`` for the messages.
"""

from monitoring.analysis.actions import action_refusal
from monitoring.analysis.engine import decide, restart_for_new_canary
from monitoring.analysis.fast_abort import BreakerTrip
from monitoring.analysis.moves import Decision
from monitoring.analysis.schedule import (
    ANALYSIS_SLACK,
    analysis_due,
    first_window,
    seconds_until_due,
)
from monitoring.analysis.traffic import desired_routes
from monitoring.analysis.verdicts import (
    NO_DATA,
    Measurement,
    evaluate_analysis,
    evaluate_check,
    format_value,
)
from monitoring.analysis.workload import WORKLOAD_READY, desired_workload

__all__ = [
    "ANALYSIS_SLACK",
    "NO_DATA",
    "WORKLOAD_READY",
    "BreakerTrip",
    "Decision",
    "Measurement",
    "action_refusal",
    "analysis_due",
    "decide",
    "desired_routes",
    "desired_workload",
    "evaluate_analysis",
    "evaluate_check",
    "first_window",
    "format_value",
    "restart_for_new_canary",
    "seconds_until_due",
]
