"""The no-op traffic router: moves nothing, remembers what it was told (dry runs, tests)."""

from __future__ import annotations

import threading

from canaria.contracts.routes import Routes
from monitoring.providers.interfaces import RouteTarget
from monitoring.providers.registry import traffic_routers


@traffic_routers.register("noop")
class NoopRouter:
    """``get_routes`` returns the last routes set for the target (0 % canary before any)."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Routes] = {}
        self._lock = threading.Lock()

    def get_routes(self, target: RouteTarget) -> Routes:
        with self._lock:
            return self._routes.get((target.namespace, target.name), Routes(canary_weight=0))

    def set_routes(self, target: RouteTarget, routes: Routes) -> None:
        with self._lock:
            self._routes[(target.namespace, target.name)] = routes
