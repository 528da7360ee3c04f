"""The traffic a status stands for: routes for the router, the model for the stable (pure)."""

from __future__ import annotations

from canaria.contracts.routes import Routes
from monitoring.analysis.gates import waiting_for_canary
from monitoring.api.spec import RolloutSpec, StrategyType
from monitoring.api.status import Phase, RolloutStatus


def desired_routes(*, spec: RolloutSpec, status: RolloutStatus) -> Routes:
    """The traffic the router should have for this status (pure).

    A restarted operator applies this before anything else, so traffic matches the
    status without repeating a step. The canary gets ``status.canary_weight``; while a
    blueGreen candidate is analysed it gets mirrored traffic, an abTesting one the
    requests matching ``spec.strategy.match``; during promotion it gets everything. A canary
    Deployment not seen ready yet (``spec.workload``) gets nothing.
    """
    if waiting_for_canary(spec=spec, status=status):
        return Routes(canary_weight=0)
    if status.phase in (Phase.PROGRESSING, Phase.PAUSED):
        if spec.strategy.type is StrategyType.BLUE_GREEN:
            return Routes(canary_weight=status.canary_weight, mirror=True)
        if spec.strategy.type is StrategyType.AB_TESTING:
            match = {rule.route_key: rule.value for rule in spec.strategy.match}
            return Routes(canary_weight=status.canary_weight, match=match)
    return Routes(canary_weight=status.canary_weight)
