"""Fast abort: a tripped router breaker rolls the canary back at once (pure).

The canaria router's breaker (``spec.analysis.fastAbort``) sends the canary's share to the
stable as soon as the canary fails too often; the operator reads each replica's breaker
every pass and hands an open one to ``decide`` as ``trip``. A trip is evidence like a
failed analysis, only stronger: the rollout is rolled back (phase Failed) whatever the
step, the analysis schedule, a pending action or the manual gate say, so a tripped canary
is never promoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitoring.analysis.moves import Decision, roll_back, stable_name
from monitoring.api.spec import RolloutSpec
from monitoring.api.status import Phase, RolloutStatus

LIVE_CANARY = frozenset({Phase.PROGRESSING, Phase.PAUSED, Phase.PROMOTING})
"""Phases in which the canary can get traffic, so a trip means a rollback."""


@dataclass(frozen=True)
class BreakerTrip:
    """An open breaker as one router replica reports it (``GET /admin/routes``,
    ``breaker.canary``): ``replica`` which router (its admin URL), ``tripped_at`` an RFC
    3339 UTC time, ``reason`` the router's words (``5 failures in the last 7 requests
    within 10s``)."""

    replica: str
    tripped_at: str
    reason: str

    def describe(self) -> str:
        return f"router breaker open on {self.replica} since {self.tripped_at} ({self.reason})"


def abort_for_trip(
    *, spec: RolloutSpec, status: RolloutStatus, trip: BreakerTrip | None, now: datetime
) -> Decision | None:
    """The rollback a trip calls for, or ``None`` (no trip, or no canary with traffic)."""
    if trip is None or status.phase not in LIVE_CANARY:
        return None
    message = f"fast abort: {trip.describe()}; rolled back to {stable_name(status)}"
    return roll_back(spec, status, now, message, phase=Phase.FAILED)
