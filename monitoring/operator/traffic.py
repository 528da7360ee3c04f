"""Level-triggered traffic: every pass, read what each router replica really has and put
it back to what the status says (Flagger and Argo Rollouts set routes on every reconcile).

What is compared, per replica (one ``RouteTarget`` each):

* the routes: weight, mirror, match rules (``desired_routes`` of the status);
* after a promotion through the canaria router, which upstream is the stable one. The
  router keeps admin changes in memory only, so a restarted router, or one that reloaded
  its config file, serves the old stable again. **Where the truth lives:** in the rollout's
  status. On promotion the operator records the canary upstream's URL in
  ``status.promotedUpstream``; while the rollout is ``Succeeded`` every pass checks that each
  replica's stable upstream is that URL and promotes again (``POST /admin/promote``, which
  copies the canary upstream to the stable one) where it is not. Until a new canary starts
  (which clears it), so after a promotion a person updates the router's config file (its
  stable upstream) at leisure; the operator covers the gap. A replica that serves the
  promoted URL on neither upstream is a ``TrafficError``: nothing the operator can re-assert.

A difference that is not the engine's own move (the routes before this decision) is drift:
it is corrected and reported as a ``TrafficCorrected`` Event with the before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from canaria.contracts.routes import Routes
from monitoring.api.spec import RolloutSpec
from monitoring.api.status import DecisionKind, Phase
from monitoring.providers.interfaces import (
    PromotingRouter,
    RouteTarget,
    TrafficRouter,
    TrafficRouterError,
)

PROMOTED_UPSTREAM = "promotedUpstream"
"""Status key: the upstream URL a promotion through the canaria router made the stable."""
ADMIN_URLS = "adminUrls"

Resolver = Callable[[RouteTarget], Sequence[RouteTarget]]
VERIFY_SECONDS = (1.0, 10.0)
"""Routers are compared with the status at least every quarter interval, within these."""


def verify_seconds(spec: RolloutSpec) -> float:
    """How often a quiet rollout's routers are read back: a quarter of the interval,
    1 s to 10 s, so drift never outlives an interval (pure)."""
    low, high = VERIFY_SECONDS
    return min(max(spec.analysis.interval_seconds / 4, low), high)


@runtime_checkable
class UpstreamRouter(Protocol):
    """A router whose upstreams the operator can read (the canaria router)."""

    def upstreams(self, target: RouteTarget) -> Mapping[str, str]: ...

    def promote(self, target: RouteTarget) -> None: ...


def replica_targets(target: RouteTarget) -> list[RouteTarget]:
    """One target per router replica (pure): ``adminUrls`` (several admin URLs, local
    mode) become one target each with its ``adminUrl``; anything else is one target."""
    urls = target.settings.get(ADMIN_URLS)
    if not urls:
        return [target]
    base = {k: v for k, v in target.settings.items() if k not in (ADMIN_URLS, "adminUrl")}
    return [
        RouteTarget(namespace=target.namespace, name=target.name, settings={**base, "adminUrl": u})
        for u in urls
    ]


def label(target: RouteTarget) -> str:
    """Which replica, for messages: its admin URL, else the route's name."""
    return str(target.settings.get("adminUrl") or target.settings.get("name") or target.name)


def show(routes: Routes) -> str:
    """``weight 50%, mirror, match header:x=b`` (pure)."""
    text = f"weight {routes.canary_weight}%"
    if routes.mirror:
        text += ", mirror"
    if routes.match:
        text += ", match " + ", ".join(f"{k}={v}" for k, v in sorted(routes.match.items()))
    return text


@dataclass
class TrafficPass:
    """The outcome of one pass: drift corrected (for the Event), and the promoted upstream
    to record in the status (``None``: leave it; ``""``: clear it)."""

    corrections: list[str]
    promoted_upstream: str | None = None


def assert_traffic(
    router: TrafficRouter,
    targets: Sequence[RouteTarget],
    *,
    kind: DecisionKind,
    phase: Phase,
    desired: Routes,
    previous: Routes,
    promoted: str | None,
    router_promotes: bool = True,
) -> TrafficPass:
    """Make every replica carry ``desired`` (and the promoted stable). ``previous`` are
    the routes of the status before this decision: a replica that differs from them
    drifted. ``router_promotes``: false when the stable workload itself was updated
    (``spec.workload``), so the router keeps its upstreams. Raises ``ProviderError`` when a
    replica cannot be read or set."""
    result = TrafficPass(corrections=[])
    promotes = kind is DecisionKind.COMPLETE and router_promotes
    if promotes and isinstance(router, PromotingRouter):
        result.promoted_upstream = _promote(router, targets)
        promoted = result.promoted_upstream or None
    elif kind is DecisionKind.START:
        result.promoted_upstream = ""  # a new candidate: the file's stable is the truth
        promoted = None
    for target in targets:
        if phase is Phase.SUCCEEDED and promoted and isinstance(router, UpstreamRouter):
            _reassert_promotion(router, target, promoted, result)
        actual = router.get_routes(target)
        if actual == desired:
            continue
        router.set_routes(target, desired)
        if actual != previous:
            result.corrections.append(f"{label(target)}: {show(actual)} -> {show(desired)}")
    return result


def _promote(router: PromotingRouter, targets: Sequence[RouteTarget]) -> str:
    """Promote on every replica; the canary upstream that became the stable ("" when the
    router cannot say, e.g. a ConfigMap, which keeps the promotion itself)."""
    promoted = ""
    for target in targets:
        if isinstance(router, UpstreamRouter):
            promoted = router.upstreams(target).get("canary") or promoted
        router.promote(target)
    return promoted


def _reassert_promotion(
    router: UpstreamRouter, target: RouteTarget, promoted: str, result: TrafficPass
) -> None:
    upstreams = router.upstreams(target)
    stable = upstreams.get("stable")
    if stable == promoted:
        return
    if upstreams.get("canary") != promoted:
        raise TrafficRouterError(
            f"router {label(target)} serves {stable} as stable, and the promoted {promoted} "
            "on no upstream; put it in the router's config (upstreams.stable)"
        )
    router.promote(target)
    result.corrections.append(f"{label(target)}: stable upstream {stable} -> {promoted} (promoted)")


def status_extras(raw_status: Mapping[str, Any], outcome: TrafficPass) -> dict[str, Any]:
    """The ``promotedUpstream`` change for the status patch (pure): ``{}`` when none."""
    if outcome.promoted_upstream is None:
        return {}
    current = raw_status.get(PROMOTED_UPSTREAM)
    wanted = outcome.promoted_upstream or None
    return {} if current == wanted else {PROMOTED_UPSTREAM: wanted}
