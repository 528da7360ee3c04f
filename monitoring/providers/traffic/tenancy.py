"""What a rollout may touch through the Gateway API (pure checks on the route read).

A rollout changes objects in its own namespace. An HTTPRoute in another namespace only
when that route opts in: the annotation ``canaria.dev/allow-rollouts-from`` on the route,
a comma-separated list of namespaces (``team-b``) or ``*``; whoever may edit the route
(its own namespace's owners) grants it, as a Gateway API ReferenceGrant would. And a
rollout only re-weights backends the route already forwards to: it can never add a
backend of its choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.providers.interfaces import TrafficRouterError

ALLOW_ANNOTATION = "canaria.dev/allow-rollouts-from"


def check_route_access(route: Mapping[str, Any], *, rollout_namespace: str) -> None:
    """``TrafficRouterError`` when a rollout in ``rollout_namespace`` may not change
    ``route`` (another namespace's route that does not allow it)."""
    meta = route.get("metadata") or {}
    namespace = meta.get("namespace") or rollout_namespace
    if namespace == rollout_namespace:
        return
    allowed = {
        item.strip()
        for item in str((meta.get("annotations") or {}).get(ALLOW_ANNOTATION, "")).split(",")
        if item.strip()
    }
    if "*" in allowed or rollout_namespace in allowed:
        return
    raise TrafficRouterError(
        f"HTTPRoute {namespace}/{meta.get('name', '?')} is in another namespace and does not "
        f"allow rollouts from {rollout_namespace} (its owners can annotate it "
        f"{ALLOW_ANNOTATION}={rollout_namespace})"
    )


def check_backends_exist(route: Mapping[str, Any], stable: str, canary: str) -> None:
    """``TrafficRouterError`` unless the route already forwards to both backends."""
    names = {
        ref.get("name")
        for rule in (route.get("spec") or {}).get("rules") or ()
        for ref in rule.get("backendRefs") or ()
    }
    missing = [name for name in (stable, canary) if name not in names]
    if missing:
        raise TrafficRouterError(
            f"HTTPRoute {(route.get('metadata') or {}).get('name', '?')} has no backendRef "
            f"{', '.join(missing)}: a rollout only re-weights backends already in the route"
        )
